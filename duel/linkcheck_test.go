package duel

import (
	"context"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// TestLinkCheckNetstack runs a UDP test across a netstack link with 1% loss
// and 1% duplication: its self-check must be present for the direction the
// data takes, and pass. (No delay: its figures depend on the machine's
// load, which a unit test must not.)
func TestLinkCheckNetstack(t *testing.T) {
	t.Parallel()
	l, err := link.Open(link.Netstack, impair.Config{Loss: impair.RandomLoss(0.01), Duplicate: 0.01, Seed: 3}, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan := []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1200, Bitrate: 20e6}}
	rs, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond}, plan, "")
	if err != nil {
		t.Fatal(err)
	}
	c := rs[0].Link.Check
	if c == nil || c.Up.Loss == nil || c.Up.Duplicate == nil || c.Up.DelayP50 != nil {
		t.Fatalf("self-check incomplete: %+v", c)
	}
	// About 1000 packets are offered; a sender slowed by the race detector on
	// a loaded machine sends fewer (89 once): each packet, and each copy the
	// link made, is one loss decision.
	up := rs[0].Link.Up
	if n := uint64(c.Up.Loss.N); n == 0 || n < up.Packets || n > up.Packets+up.Duplicated || c.Up.Loss.Configured != 1 {
		t.Fatalf("loss figure: %+v, link %+v", *c.Up.Loss, up.Counters)
	}
	if !c.OK {
		t.Fatalf("a normal 1%% loss link fails its self-check: loss %+v, duplicate %+v", *c.Up.Loss, *c.Up.Duplicate)
	}
}
