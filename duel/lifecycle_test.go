package duel

import (
	"context"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// TestLifecycleAcrossDelay: across a link of 50 ms each way, each lifecycle
// step measures what it is named for: the first byte reaches the server after
// the handshake's round trip and one more trip (at least 150 ms, where the
// first reply's round trip is 100 ms), the first reply takes a round trip, and
// the server is told of the close a FIN's trip (at least 50 ms) after it left.
// Lower bounds only: a busy machine adds time, never removes it.
func TestLifecycleAcrossDelay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs across a 50 ms link")
	}
	const delay = 50 * time.Millisecond
	l, err := link.Open(link.Netstack, impair.Config{Delay: delay}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan := []TestSpec{
		{Proto: ProtoTCP, Test: TestLatency, Duration: 500 * time.Millisecond, Size: 64},
		{Proto: ProtoUDP, Test: TestLatency, Duration: 500 * time.Millisecond, Size: 64},
		{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1400, Bitrate: 1e6},
	}
	rs, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond}, plan, "")
	if err != nil {
		t.Fatal(err)
	}
	ms := func(v *float64) float64 {
		if v == nil {
			return -1
		}
		return *v / 1000
	}
	const slack = 0.97 // the emulated delay's own rounding
	for _, r := range rs {
		life := r.Lifecycle
		if r.Error != "" {
			t.Fatalf("%s %s: %s", r.Proto, r.Test, r.Error)
		}
		// TCP: SYN, SYN-ACK (a round trip), then the first byte's trip; UDP: one trip.
		trips := 1.0
		if r.Proto == ProtoTCP {
			trips = 3
		}
		if got, want := ms(life.FirstByteUS), trips*delay.Seconds()*1000; got < slack*want {
			t.Errorf("%s %s: first byte at %.1f ms, want at least %.0f ms (%.0f trips of 50 ms)", r.Proto, r.Test, got, want, trips)
		}
		if r.Test == TestLatency {
			if got := ms(life.FirstReplyUS); got < slack*100 {
				t.Errorf("%s: first reply after %.1f ms, want at least a round trip (100 ms)", r.Proto, got)
			}
		}
		if r.Proto == ProtoTCP {
			if !life.PeerSawClose || ms(life.PeerSawCloseUS) < slack*50 {
				t.Errorf("tcp %s: server told of close %v after %.1f ms, want the FIN's trip (at least 50 ms)", r.Test, life.PeerSawClose, ms(life.PeerSawCloseUS))
			}
		}
		t.Logf("%s %s: first byte %.1f ms, first reply %.1f ms, close seen %.1f ms", r.Proto, r.Test, ms(life.FirstByteUS), ms(life.FirstReplyUS), ms(life.PeerSawCloseUS))
	}
}
