package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stack"
)

// TestUDPLatencySessionLeavesServerResponsive: while a UDP latency session
// runs, blocking or busy-polling, 'netduel serve' (a process of its own, as
// in use) still admits and serves other clients at once. Its shared datagram
// loop makes only raw system calls during such a session; once the
// netpoller had woken it, no thread was left polling the other sockets and
// the runtime's monitor slept on: a second client's 200 ms test took 10 s
// (until a timer woke the process), and a vanished client's session held
// the server as long (stack.wakeMonitor).
func TestUDPLatencySessionLeavesServerResponsive(t *testing.T) {
	t.Parallel()
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprintf("busy=%v", busy), func(t *testing.T) {
			t.Parallel()
			responsiveBeside(t, busy)
		})
	}
}

func responsiveBeside(t *testing.T, busy bool) {
	addr, _ := startServeChild(t, 4)
	long := make(chan error, 1)
	var live atomic.Uint64
	go func() {
		c := &duel.Client{Network: &stack.OS{}, Server: addr, SameHost: true, Settle: 100 * time.Millisecond}
		c.Live = &live
		r, err := c.RunTest(context.Background(), duel.TestSpec{Proto: duel.ProtoUDP, Test: duel.TestLatency, Duration: 4 * time.Second, Size: 64, BusyPoll: busy})
		if err == nil && r.Error != "" {
			err = fmt.Errorf("%s", r.Error)
		}
		long <- err
	}()
	for start := time.Now(); live.Load() == 0; {
		if time.Since(start) > 3*time.Second {
			t.Fatal("the UDP latency test never started")
		}
		time.Sleep(time.Millisecond)
	}
	for _, proto := range []duel.Proto{duel.ProtoTCP, duel.ProtoUDP} {
		start := time.Now()
		r, err := (&duel.Client{Network: &stack.OS{}, Server: addr, SameHost: true, Settle: 100 * time.Millisecond}).RunTest(context.Background(), duel.TestSpec{Proto: proto, Test: duel.TestLatency, Duration: 200 * time.Millisecond, Size: 64})
		if err != nil || r.Error != "" {
			t.Fatalf("%s test beside a UDP latency session: %v %s", proto, err, r.Error)
		}
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("a 200 ms %s test beside a UDP latency session took %v", proto, took)
		}
	}
	if err := <-long; err != nil {
		t.Fatalf("the UDP latency test: %v", err)
	}
}
