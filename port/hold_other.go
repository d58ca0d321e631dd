//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package port

import "os"

// holdFD: handing sockets to a child as descriptors 3, 4, ... is a Unix
// protocol; Windows has none like it.
func holdFD(sockSpec) (*os.File, error) { return nil, errNotAvailable }

func heldPort(*os.File) int { return 0 }
