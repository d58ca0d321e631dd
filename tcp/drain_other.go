//go:build !linux

package tcp

import (
	"context"
	"net"
	"time"
)

// WaitSent reports false: the send queue is read on Linux only.
func WaitSent(context.Context, net.Conn, time.Duration) bool { return false }
