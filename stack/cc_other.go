//go:build !linux

package stack

import "errors"

// CongestionUsable: only Linux lets a socket choose its congestion control.
func CongestionUsable(string) error {
	return errors.New("choosing the TCP congestion control per socket is Linux-only")
}

// DefaultCongestion is unknown off Linux.
func DefaultCongestion() string { return "" }
