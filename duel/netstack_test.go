package duel

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/netduel/netduel/stack"
)

// TestOverNetstack runs every test between two gVisor stacks wired together:
// the same duel code over a user-space TCP/IP stack.
func TestOverNetstack(t *testing.T) {
	cli, err := stack.NewNetstack("client", netip.MustParseAddr("198.18.0.1"), 1500, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	srvStack, err := stack.NewNetstack("server", netip.MustParseAddr("198.18.0.2"), 1500, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	wire := func(from, to *stack.Netstack) {
		defer func() { done <- struct{}{} }()
		for {
			p, ok := from.ReadPacket(ctx)
			if !ok {
				return
			}
			to.InjectPacket(p)
		}
	}
	go wire(cli, srvStack)
	go wire(srvStack, cli)
	var srv *Server
	defer func() {
		srv.Close() // before its stack goes away
		cancel()
		<-done
		<-done
		cli.Close()
		srvStack.Close()
	}()
	srv = startServer(t, ServerConfig{Network: srvStack, Listen: "198.18.0.2:0"})
	c := &Client{Network: cli, Server: srv.Addr().String(), SameHost: true, Settle: 100 * time.Millisecond}
	for _, spec := range []TestSpec{
		{Proto: ProtoTCP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 64 << 10},
		{Proto: ProtoUDP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 1400, Bitrate: 50e6},
		{Proto: ProtoTCP, Test: TestLatency, Duration: 300 * time.Millisecond, Size: 64},
		{Proto: ProtoUDP, Test: TestLatency, Duration: 300 * time.Millisecond, Size: 64},
	} {
		r, err := c.RunTest(context.Background(), spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if r.Error != "" || r.ReceivedFrames == 0 || r.GoodputBps <= 0 {
			t.Fatalf("%s: error %q, received %d, goodput %v", spec, r.Error, r.ReceivedFrames, r.GoodputBps)
		}
		if spec.Proto == ProtoTCP && (r.LostFrames != 0 || !r.Lifecycle.PeerSawClose) {
			t.Fatalf("%s: lost %d, FIN seen %v", spec, r.LostFrames, r.Lifecycle.PeerSawClose)
		}
		if spec.Test == TestLatency && (r.Wait == nil || *r.Wait != (Waits{stack.WaitNetpoller, stack.WaitNetpoller})) {
			t.Fatalf("%s: wait %+v, want the netpoller at both ends (netstack's sockets)", spec, r.Wait)
		}
		t.Logf("%s: goodput %.0f Mbit/s, received %d", spec, r.GoodputBps/1e6, r.ReceivedFrames)
	}
}
