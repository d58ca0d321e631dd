//go:build !linux

package stack

import (
	"context"
	"net"
	"syscall"
	"time"
)

// Off Linux, listeners come from net.ListenConfig: its Control hook runs between
// socket(2) and bind(2), so the Trace separates the socket step from bind+listen,
// which are reported together as Bind.

func (o *OS) listen(ctx context.Context, network, address string) (net.Listener, error) {
	ln, err := o.listenCfg(ctx, network, address, func(lc *net.ListenConfig) (any, error) {
		return lc.Listen(ctx, network, address)
	}, false)
	if err != nil {
		return nil, err
	}
	return ln.(net.Listener), nil
}

func (o *OS) listenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	pc, err := o.listenCfg(ctx, network, address, func(lc *net.ListenConfig) (any, error) {
		return lc.ListenPacket(ctx, network, address)
	}, true)
	if err != nil {
		return nil, err
	}
	return pc.(net.PacketConn), nil
}

func (o *OS) listenCfg(ctx context.Context, network, address string, do func(*net.ListenConfig) (any, error), dgram bool) (any, error) {
	tr := TraceFrom(ctx)
	var created time.Time
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		created = time.Now()
		if dgram {
			return setBuffers(c, o.bufSize())
		}
		return nil
	}}
	start := time.Now()
	v, err := do(&lc)
	if err != nil {
		return nil, err
	}
	if tr != nil && !created.IsZero() {
		tr.Socket, tr.HasSocket = created.Sub(start), true
		tr.Bind, tr.HasBind = time.Since(created), true
	}
	return v, nil
}

// setCongestion: off Linux the congestion control is the system's.
func setCongestion(syscall.RawConn, string) error { return nil }

func setBuffers(c syscall.RawConn, n int) error {
	if n <= 0 {
		return nil
	}
	return c.Control(func(fd uintptr) { setBuffersFD(fd, n) })
}
