package link

import (
	"sync"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// openTun builds the tun backend: namespaces, TUN devices, and a forwarder
// goroutine per direction reading one device and sending into a pipe whose
// output writes the other device.
func openTun(cfg impair.Config, congestion string) (l *Link, err error) {
	if congestion == "" {
		congestion = "cubic"
	}
	l = &Link{Backend: Tun, TCPStack: "linux", Congestion: congestion, Config: cfg, ServerHost: ServerAddr.String(),
		stats: namespaceStats}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	nsC, err := stack.NewNamespace("netduel-client")
	if err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { nsC.Close() })
	nsS, err := stack.NewNamespace("netduel-server")
	if err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { nsS.Close() })
	tc, err := stack.OpenTUN(nsC, "nd0", ClientAddr, ServerAddr, MTU)
	if err != nil {
		return nil, err
	}
	ts, err := stack.OpenTUN(nsS, "nd0", ServerAddr, ClientAddr, MTU)
	if err != nil {
		tc.Close()
		return nil, err
	}
	l.Client = &stack.OS{NS: nsC, Congestion: congestion}
	l.Server = &stack.OS{NS: nsS, Congestion: congestion}

	// Packet buffers are recycled once written to the other device; the pipe
	// holds a delayed packet's buffer until then.
	pool := sync.Pool{New: func() any { b := make([]byte, MTU+64); return &b }}
	put := func(p []byte) {
		if cap(p) >= MTU+64 {
			p = p[:cap(p)]
			pool.Put(&p)
		}
	}
	// Closers run in reverse: the readers stop (devices closed) before the pipes.
	l.pipes(func(p []byte) { ts.Write(p); put(p) }, func(p []byte) { tc.Write(p); put(p) })
	l.devices = [2]*stack.TUN{tc, ts}
	var wg sync.WaitGroup
	l.closers = append(l.closers, func() {
		tc.Close() // unblocks the readers
		ts.Close()
		wg.Wait()
	})
	read := func(dev *stack.TUN, into *impair.Pipe) {
		defer wg.Done()
		for {
			bp := pool.Get().(*[]byte)
			buf := *bp
			n, err := dev.Read(buf)
			if err != nil {
				return
			}
			into.Send(buf[:n])
		}
	}
	wg.Add(2)
	go read(tc, l.up)
	go read(ts, l.down)
	return l, nil
}
