//go:build !linux

package stack

import "errors"

// pinCongestion: only Linux lets a socket choose its congestion control.
func pinCongestion(string) error {
	return errors.New("choosing the TCP congestion control per socket is Linux-only")
}

// DefaultCongestion is unknown off Linux.
func DefaultCongestion() string { return "" }

// SetDefaultCongestion: namespaces are Linux-only.
func SetDefaultCongestion(*Namespace, string) (string, error) {
	return "", errors.New("network namespaces are Linux-only")
}

// AllowedCongestion is unknown off Linux.
func AllowedCongestion() string { return "" }
