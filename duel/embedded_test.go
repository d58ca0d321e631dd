package duel

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/stack"
)

// linkBackends are the emulated backends a test can open here.
func linkBackends(t *testing.T) []string {
	backends := []string{link.Netstack}
	if err := link.TunAvailable(); err != nil {
		t.Logf("tun backend skipped: %v", err)
	} else {
		backends = append(backends, link.Tun)
	}
	return backends
}

// TestEmbeddedControlOffLink: across a clean link, the only packets on the
// link during a UDP test are its datagrams: the control channel does not
// cross it.
func TestEmbeddedControlOffLink(t *testing.T) {
	for _, backend := range linkBackends(t) {
		t.Run(backend, func(t *testing.T) {
			l, err := link.Open(backend, impair.Config{Seed: 1}, "cubic")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			plan := []TestSpec{
				{Proto: ProtoUDP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 1200, Bitrate: 5e6},
				{Proto: ProtoUDP, Test: TestLatency, Duration: 300 * time.Millisecond, Size: 64},
			}
			res, _, err := RunOnLink(context.Background(), l, Client{Settle: 50 * time.Millisecond}, plan, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Error != "" || r.SentFrames == 0 || r.Link == nil {
					t.Fatalf("%s %s: error %q, sent %d", r.Proto, r.Test, r.Error, r.SentFrames)
				}
				// Client and server share this process: both wait through
				// the netpoller, the faster way between goroutines.
				if r.Test == TestLatency && (r.Wait == nil || *r.Wait != (Waits{stack.WaitNetpoller, stack.WaitNetpoller})) {
					t.Fatalf("%s %s: wait %+v, want the netpoller at both ends", r.Proto, r.Test, r.Wait)
				}
				// The client's two end datagrams follow its frames; tun's
				// kernel may add a packet of its own now and then (neighbour
				// discovery); the control channel would add dozens.
				if up := r.Link.Up.Packets; up < r.SentFrames+2 || up > r.SentFrames+2+3 {
					t.Errorf("%s %s: %d packets crossed the link client to server for %d datagrams sent",
						r.Proto, r.Test, up, r.SentFrames)
				}
			}
		})
	}
}

// TestTotalLossIsAMeasurement: a link that drops everything gives results,
// not a run that waits out the handshake and blames the server: UDP lost
// 100%, TCP's data connection never got through.
func TestTotalLossIsAMeasurement(t *testing.T) {
	for _, backend := range linkBackends(t) {
		t.Run(backend, func(t *testing.T) {
			l, err := link.Open(backend, impair.Config{Loss: impair.RandomLoss(1), Seed: 1}, "cubic")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			plan := []TestSpec{
				{Proto: ProtoUDP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 1200, Bitrate: 5e6},
				{Proto: ProtoUDP, Test: TestLatency, Duration: 300 * time.Millisecond, Size: 64},
				{Proto: ProtoTCP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 64 << 10},
			}
			res, _, err := RunOnLink(context.Background(), l, Client{Settle: 50 * time.Millisecond}, plan, "")
			if err != nil {
				t.Fatalf("RunOnLink: %v", err)
			}
			if len(res) != len(plan) {
				t.Fatalf("%d results for %d tests", len(res), len(plan))
			}
			for _, r := range res[:2] {
				if r.Error != "" || r.SentFrames == 0 || r.LostFrames != r.SentFrames || r.LostPct != 100 || r.ReceivedFrames != 0 {
					t.Errorf("udp %s: error %q, sent %d, lost %d (%g%%): want all lost, no error", r.Test, r.Error, r.SentFrames, r.LostFrames, r.LostPct)
				}
			}
			if r := res[1]; r.RTT != nil || r.RTTHistogram != "" {
				t.Errorf("udp latency with no round trip: RTT %+v: want no figures (zeros would pass an assertion)", r.RTT)
			}
			if r := res[2]; !strings.Contains(r.Error, "never got through") || r.SentFrames != 0 || r.Extent != NotRun {
				t.Errorf("tcp throughput: error %q, sent %d, extent %d: want its data connection never got through, so it never ran (no zeros in its JSON)", r.Error, r.SentFrames, r.Extent)
			}
		})
	}
}
