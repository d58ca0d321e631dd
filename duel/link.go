package duel

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

func linkInfo(l *link.Link) LinkInfo {
	c := l.Config
	li := LinkInfo{
		Emulator: l.Backend, TCPStack: l.TCPStack, Congestion: l.Congestion,
		DelayMs: float64(c.Delay.Microseconds()) / 1000, JitterMs: float64(c.Jitter.Microseconds()) / 1000,
		Reorder: c.Reorder * 100, ReorderGap: c.ReorderGap, Duplicate: c.Duplicate * 100, Corrupt: c.Corrupt * 100,
		RateBps: c.Rate, Queue: queueInEffect(c.QueueLimit), Seed: c.Seed, Netem: c.Netem(), Note: l.Note,
	}
	if l.Backend == link.Tun {
		li.Forwarder = "blocking"
		if l.Polling {
			li.Forwarder = "polling"
		}
	}
	if c.Loss != nil {
		li.Loss = c.Loss.Mean() * 100
		li.LossModel = c.Loss.String()
	}
	if c.Jitter > 0 {
		li.Distribution = c.Distribution.String()
	}
	li.Slot, li.ECN, li.Trace = netemExtras(c)
	return li
}

// RunOnLink starts a server inside the link, runs the plan from the client side
// of it (each test's control connection in-process, off the link; its data
// across it), and returns the results, each with the link's description and what it
// did to that test's packets, and the address the server used (TCP and UDP on
// the same port). The client's settle time grows with the link's delay so that
// frames still in flight are not counted lost.
func RunOnLink(ctx context.Context, l *link.Link, c Client, plan []TestSpec, cell string) ([]Result, string, error) {
	srv, err := NewServer(ServerConfig{Network: l.Server, Listen: l.ServerHost + ":0", Netpoller: true})
	if err != nil {
		return nil, "", fmt.Errorf("starting the server inside the %s link: %w", l.Backend, err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var controls sync.WaitGroup
	defer func() { srv.Close(); <-done; controls.Wait() }()
	c.Network = l.Client
	c.Server = srv.Addr().String()
	c.control = inProcessControl(srv, clientHost(l), &controls)
	c.SameHost = true
	c.inProcess = true
	c.Settle = max(c.Settle, 2*(l.Config.Delay+l.Config.Jitter)+c.Settle)
	base := linkInfo(l)
	var up0, down0 impair.Counters
	var cs0, ss0 link.EndStats
	c.onStart = func() {
		l.ResetLateness()
		up0, down0 = l.Counters()
		cs0, ss0 = l.Stats()
	}
	c.drain = func(ctx context.Context, datagrams uint64) {
		drainLink(ctx, l, up0.Packets+datagrams, datagrams > 0, maxSettle)
	}
	c.decorate = func(r *Result) {
		up1, down1 := l.Counters()
		cs1, ss1 := l.Stats()
		li := base
		li.Up.Counters, li.Down.Counters = up1.Sub(up0), down1.Sub(down0)
		lu, ld := l.Lateness()
		li.Up.AddedDelay, li.Down.AddedDelay = addedDelay(lu), addedDelay(ld)
		li.ClientStack, li.ServerStack = cs1.Sub(cs0), ss1.Sub(ss0)
		li.Check = CheckLink(l)
		r.Link = &li
		if l.Backend != link.None { // none has no link to count
			r.LostBeforeLink = lostBeforeLink(r, li.Up.Packets)
			if r.LostBeforeLink != nil { // a UDP throughput test's: its frames
				held := li.Up.Held
				r.LostInLink = &held
			}
		}
		r.Cell = cell
	}
	rs, err := c.Run(ctx, plan)
	return rs, c.Server, err
}

// queueInEffect is the link's queue limit: the one set, else netem's default.
func queueInEffect(set int) int {
	if set <= 0 {
		return impair.DefaultQueueLimit
	}
	return set
}

// lostBeforeLink is how many of a UDP throughput test's frames the client's
// stack took (sent, less those it refused) but the link never counted, given
// the packets it counted toward the server during the test: nil for another
// test, or frames that cross as more than one packet (IP fragments).
func lostBeforeLink(r *Result, packets uint64) *uint64 {
	if r.Proto != ProtoUDP || r.Test != TestThroughput || r.Size <= 0 || r.Size+udpIPv4Overhead > link.MTU {
		return nil
	}
	took := r.SentFrames
	if r.SenderRefused != nil {
		took -= min(took, *r.SenderRefused)
	}
	n := took - min(took, packets)
	return &n
}

// udpIPv4Overhead is the IPv4 and UDP headers around a frame.
const udpIPv4Overhead = 28

// drainLink waits until the link holds no packet toward the server (with
// held false, none it has yet to decide on: a TCP stream's own buffers keep
// it busy), for at most limit: an embedded run's fin goes off the link, and
// would otherwise reach the server before the frames a slow link still
// queues. It also waits (briefly: the sender's device may have dropped some)
// until the link has counted packets, the test's datagrams written last: the
// few microseconds between a write and the forwarder's read.
func drainLink(ctx context.Context, l *link.Link, packets uint64, held bool, limit time.Duration) {
	const arrival = 50 * time.Millisecond
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	deadline := time.After(limit)
	for {
		up, _ := l.Counters()
		undecided := up.InFlight() - min(up.InFlight(), up.Held)
		if (undecided == 0 && (!held || up.Held == 0)) && (up.Packets >= packets || time.Since(start) > arrival) {
			return
		}
		select {
		case <-t.C:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

func addedDelay(x impair.Lateness) *AddedDelay {
	if x.Count == 0 {
		return nil
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return &AddedDelay{Packets: uint64(x.Count), P50US: us(x.P50), P99US: us(x.P99), MaxUS: us(x.Max),
		Over1ms: uint64(x.Over1ms), Over5ms: uint64(x.Over5)}
}
