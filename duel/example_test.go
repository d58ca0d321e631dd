package duel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// NewServer binds the control port (TCP) and the UDP port of the same
// number; Serve runs it until its context ends. Port 0 lets the kernel pick.
func ExampleNewServer() {
	srv, err := duel.NewServer(duel.ServerConfig{Listen: "127.0.0.1:0", MaxDuration: time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	fmt.Println(srv.Addr().Addr(), srv.Addr().Port() != 0)
	cancel()
	fmt.Println(<-done)
	// Output:
	// 127.0.0.1 true
	// <nil>
}

// Client.Run runs a plan of tests against a server, one after another, and
// returns one Result per test: a test that failed is a Result with Error set.
func ExampleClient_Run() {
	srv, err := duel.NewServer(duel.ServerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	c := &duel.Client{Server: srv.Addr().String(), SameHost: true}
	plan := []duel.TestSpec{
		{Proto: duel.ProtoTCP, Test: duel.TestLatency, Duration: 100 * time.Millisecond, Size: 64},
		{Proto: duel.ProtoUDP, Test: duel.TestLatency, Duration: 100 * time.Millisecond, Size: 64},
	}
	results, err := c.Run(ctx, plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		// Every request is answered or, after its timeout, counted lost.
		fmt.Println(r.Proto, r.Test, r.Error == "", r.ReceivedFrames+r.LostFrames == r.SentFrames)
	}
	// Output:
	// tcp latency true true
	// udp latency true true
}

// RunOnLink runs a plan across an emulated link, with the server inside it:
// each result says what the link was and what it did to that test's packets.
func ExampleRunOnLink() {
	l, err := link.Open(link.Netstack, impair.Config{Delay: 2 * time.Millisecond}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	plan := []duel.TestSpec{{Proto: duel.ProtoTCP, Test: duel.TestThroughput, Duration: 100 * time.Millisecond, Size: 1400}}
	results, _, err := duel.RunOnLink(context.Background(), l, duel.Client{}, plan, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := results[0]
	fmt.Println(r.Proto, r.Test, r.Error == "", r.Link.Emulator, r.Link.TCPStack, r.Link.DelayMs)
	fmt.Println(r.LostFrames, r.ReceivedFrames == r.SentFrames, r.Link.Up.Forwarded > 0)
	// Output:
	// tcp throughput true netstack gvisor 2
	// 0 true true
}
