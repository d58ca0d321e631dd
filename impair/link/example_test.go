package link_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// Open builds an emulated link: here gVisor's netstack (no privileges
// needed), 5 ms of delay each way. Sockets opened from Client and Server
// talk across it; Counters says what it did to their packets.
func ExampleOpen() {
	l, err := link.Open(link.Netstack, impair.Config{Delay: 5 * time.Millisecond}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	ctx := context.Background()
	ln, err := l.Server.Listen(ctx, "tcp", l.ServerHost+":0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hello across the link"))
			c.Close()
		}
	}()
	c, err := l.Client.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Now()
	b, err := io.ReadAll(c)
	c.Close()
	fmt.Println(string(b), err, time.Since(start) >= 5*time.Millisecond)
	up, down := l.Counters()
	fmt.Println(l.Backend, l.TCPStack, up.Forwarded > 0, down.Forwarded > 0, up.Dropped+down.Dropped)
	// Output:
	// hello across the link <nil> true
	// netstack gvisor true true 0
}
