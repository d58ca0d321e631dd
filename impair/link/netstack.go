package link

import (
	"context"
	"sync"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// openNetstack builds the netstack backend: two gVisor stacks whose outgoing
// packets go through the pipes into the other stack.
func openNetstack(cfg impair.Config, congestion string) (_ *Link, err error) {
	if congestion == "" {
		congestion = "cubic"
	}
	l := &Link{Backend: Netstack, TCPStack: "gvisor", Congestion: congestion, Config: cfg, ServerHost: ServerAddr.String(),
		stats: netstackStats}
	if cfg.ECN {
		// The link marks what is ECN-capable, but nothing here is: gVisor's
		// TCP does not negotiate ECN and the UDP sockets set no ECT.
		l.Note = "ecn marks nothing on netstack: gVisor's TCP does not negotiate ECN and netduel's UDP sets no ECT, so the loss model drops as without ecn; the tun backend's kernel TCP uses it"
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	cli, err := stack.NewNetstack("client", ClientAddr, MTU, congestion)
	if err != nil {
		return nil, err
	}
	srv, err := stack.NewNetstack("server", ServerAddr, MTU, congestion)
	if err != nil {
		cli.Close()
		return nil, err
	}
	l.Client, l.Server = cli, srv
	l.closers = append(l.closers, func() { cli.Close(); srv.Close() })
	// Closers run in reverse: the readers stop before the pipes, the pipes
	// before the stacks.
	l.pipes(impair.NewPipe, srv.InjectPacket, cli.InjectPacket)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	l.closers = append(l.closers, func() {
		cancel()
		wg.Wait()
	})
	read := func(from *stack.Netstack, into *impair.Pipe) {
		defer wg.Done()
		for {
			p, ok := from.ReadPacket(ctx)
			if !ok {
				return
			}
			into.Send(p)
		}
	}
	wg.Add(2)
	go read(cli, l.up)
	go read(srv, l.down)
	return l, nil
}
