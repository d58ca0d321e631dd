//go:build !linux

package tcp

import (
	"net"
	"time"
)

// WaitSent reports false: the send queue is read on Linux only.
func WaitSent(net.Conn, time.Duration) bool { return false }
