package duel

import (
	"time"

	"context"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"testing"
)

func TestBisectRate(t *testing.T) {
	cases := []struct {
		name     string
		capacity float64 // rates above it lose too much
		ceiling  float64 // what an unpaced sender achieves
		lo, hi   float64 // the answer's bracket
		trials   int     // at most
	}{
		{"unpaced passes", 5e9, 3e9, 0, 0, 1},
		{"capacity 700M", 700e6, 3e9, 0.97 * 700e6, 700e6, 1 + searchSteps},
		{"capacity 2.9G", 2.9e9, 3e9, 0.97 * 2.9e9, 2.9e9, 1 + searchSteps},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			got, err := bisectRate(context.Background(), func(rate float64) (SearchTrial, error) {
				n++
				achieved := rate
				if rate == 0 {
					achieved = tc.ceiling
				}
				return SearchTrial{BitrateBps: rate, OfferedBps: achieved, Pass: achieved <= tc.capacity}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got < tc.lo || got > tc.hi {
				t.Fatalf("found %v, want within [%v, %v]", got, tc.lo, tc.hi)
			}
			if n > tc.trials {
				t.Fatalf("%d trials, want at most %d", n, tc.trials)
			}
		})
	}
}

// TestFindMaxRateOnLink searches for the highest rate across an emulated link.
// A 20 Mbit/s bottleneck (19.5 Mbit/s of 1200-byte frames after IP and UDP
// headers) is found with its loss in bounds: at most that rate, and at least
// half of it (gVisor under the race detector on 2 busy cores may not carry it
// all). A link losing 5% at every rate reports that no rate was found (with
// 10% the control connection's own handshake can take longer than its 10 s).
func TestFindMaxRateOnLink(t *testing.T) {
	if testing.Short() {
		t.Skip("a search is a dozen trials")
	}
	for _, tc := range []struct {
		name  string
		cfg   impair.Config
		found bool
	}{
		{"20M bottleneck", impair.Config{Rate: 20e6, QueueLimit: 50, Delay: time.Millisecond}, true},
		{"5% loss", impair.Config{Loss: impair.RandomLoss(0.05)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := link.Open(link.Netstack, tc.cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			srv := startServer(t, ServerConfig{Network: l.Server, Listen: l.ServerHost + ":0"})
			defer srv.Close()
			c := &Client{Network: l.Client, Server: srv.Addr().String(), SameHost: true, Settle: 100 * time.Millisecond}
			spec := TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1200}
			// 0.5% allowed: a trial needs 200 frames to show it, so 5% loss
			// cannot pass by luck (at most 1 lost of 200: p < 0.001).
			r, err := c.FindMaxRate(context.Background(), spec, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			if r.Search == nil || r.Search.Found != tc.found {
				t.Fatalf("search %+v, want found %v", r.Search, tc.found)
			}
			if tc.found {
				if r.LostPct > 0.5 || r.OfferedBps == nil || *r.OfferedBps < 9.75e6 || *r.OfferedBps > 21e6 {
					t.Errorf("found offered %v with loss %.3f%%; want about 20 Mbit/s within 0.5%%", r.OfferedBps, r.LostPct)
				}
			} else if r.LostPct <= 0.5 && r.SentFrames >= r.Search.MinFrames {
				t.Errorf("not found, yet the result lost only %.3f%%", r.LostPct)
			}
			t.Logf("%d trials; result offered %.1f Mbit/s lost %.3f%%", len(r.Search.Trials), *r.OfferedBps/1e6, r.LostPct)
		})
	}
}
