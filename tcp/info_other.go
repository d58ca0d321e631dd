//go:build !linux

package tcp

import "net"

// ReadInfo returns false: TCP_INFO is read on Linux only.
func ReadInfo(net.Conn) (Info, bool) { return Info{}, false }
