package duel

import (
	"context"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// TestRunOnLossyLink runs TCP and UDP throughput across each emulated backend
// with 1% loss each way and 5 ms delay: TCP delivers every frame and
// retransmits; UDP loses exactly the datagrams the link dropped.
func TestRunOnLossyLink(t *testing.T) {
	backends := []string{link.Netstack}
	if err := link.TunAvailable(); err != nil {
		t.Logf("tun backend skipped: %v", err)
	} else {
		backends = append(backends, link.Tun)
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			l, err := link.Open(backend, impair.Config{Loss: impair.RandomLoss(0.01), Delay: 5 * time.Millisecond, Seed: 1}, "cubic")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			plan := []TestSpec{
				{Proto: ProtoTCP, Test: TestThroughput, Duration: 1500 * time.Millisecond, Size: 64 << 10},
				{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1200, Bitrate: 20e6},
			}
			res, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond}, plan, "lossy")
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 {
				t.Fatalf("%d results", len(res))
			}
			for _, r := range res {
				checkLossyLink(t, r, backend)
				up := r.Link.Up
				switch r.Proto {
				case ProtoTCP:
					checkLossyTCP(t, r)
				case ProtoUDP:
					checkLossyUDP(t, r)
				}
				t.Logf("%s over %s: goodput %.1f Mbit/s offered %v sent %d in %v, lost %d, link up %+v", r.Proto, backend, r.GoodputBps/1e6, r.OfferedBps, r.SentFrames, r.DurationS, r.LostFrames, up)
			}
		})
	}
}

// checkLossyLink checks that r of TestRunOnLossyLink ran without error, in
// its cell, across backend's lossy link, and that the link did its work.
func checkLossyLink(t *testing.T, r Result, backend string) {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("%s %s: %s", r.Proto, r.Test, r.Error)
	}
	if r.Link == nil || r.Cell != "lossy" || r.Link.Emulator != backend || r.Link.Loss != 1 || r.Link.DelayMs != 5 {
		t.Fatalf("%s: link %+v cell %q", r.Proto, r.Link, r.Cell)
	}
	up := r.Link.Up
	if up.Dropped == 0 || r.Link.ServerStack == nil || r.Link.ClientStack == nil {
		t.Fatalf("%s: link did nothing: %+v", r.Proto, r.Link)
	}
}

// checkLossyTCP checks that TCP across the lossy link delivered every frame
// and retransmitted some.
func checkLossyTCP(t *testing.T, r Result) {
	t.Helper()
	retrans := r.Link.ClientStack.TCPRetransmits
	if r.TCP != nil {
		retrans = max(retrans, uint64(r.TCP.Retransmits))
	}
	if r.LostFrames != 0 || r.CorruptFrames != 0 || r.ReceivedFrames == 0 || retrans == 0 {
		t.Errorf("tcp: received %d lost %d corrupt %d retransmits %d; want all delivered, some retransmitted",
			r.ReceivedFrames, r.LostFrames, r.CorruptFrames, retrans)
	}
}

// checkLossyUDP checks that UDP across the lossy link lost exactly the
// datagrams the link (or a lagging queue) dropped, none of them corrupt.
func checkLossyUDP(t *testing.T, r Result) {
	t.Helper()
	up := r.Link.Up
	// Every lost frame was dropped by the link, or (a loaded
	// machine) by the sender's device queue or the
	// receiver's socket buffer; the link may also have
	// dropped one or both of the client's end datagrams.
	accounted := up.DroppedUDP + r.Link.ClientStack.DeviceDrops + r.Link.ServerStack.UDPSocketDrops
	if r.LostFrames > accounted || r.LostFrames+2 < accounted || up.DroppedUDP == 0 {
		t.Errorf("udp: lost %d frames, link dropped %d datagrams (%+v), client device %d, server socket %d",
			r.LostFrames, up.DroppedUDP, up, r.Link.ClientStack.DeviceDrops, r.Link.ServerStack.UDPSocketDrops)
	}
	if r.Link.ServerStack.UDPChecksumErrors != 0 {
		t.Errorf("udp: %d checksum errors without corruption", r.Link.ServerStack.UDPChecksumErrors)
	}
}

// TestLossAccounting floods UDP across each backend, unpaced, and checks that
// every lost frame is accounted for, exactly: dropped by the link, before it
// (lost_before_link: the sender's device queue full, the forwarder lagging),
// after it (the receiver's device or socket buffer), or refused by the
// sender's stack. Over tun with offloads the kernel counts a dropped
// super-packet (up to 64 datagrams) once in its device drops, which therefore
// cannot account for the loss; lost_before_link does, on both backends.
func TestLossAccounting(t *testing.T) {
	backends := []string{link.Netstack}
	if link.TunAvailable() == nil {
		backends = append(backends, link.Tun)
	}
	cases := []struct {
		name string
		cfg  impair.Config
		spec TestSpec
		held bool // frames must be left in the link at the end
	}{
		{"flood", impair.Config{Loss: impair.RandomLoss(0.02), Seed: 3},
			TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1400}, false},
		// 5 Mbit/s into 200 kbit/s: the queue takes 13 s to drain, more
		// than the 5 s the client waits for it (maxSettle).
		{"queue left", impair.Config{Rate: 200e3, Seed: 3},
			TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1400, Bitrate: 5e6}, true},
	}
	for _, backend := range backends {
		for _, tc := range cases {
			if tc.held && backend != backends[len(backends)-1] {
				continue // one backend is enough for a 5 s wait
			}
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				if tc.held {
					t.Parallel() // 10 s of waiting: the client's drain and the server's settle, 5 s each at most
				}
				l, err := link.Open(backend, tc.cfg, "cubic")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				res, _, err := RunOnLink(context.Background(), l, Client{Settle: 200 * time.Millisecond}, []TestSpec{tc.spec}, "")
				if err != nil || len(res) != 1 || res[0].Link.ClientStack == nil {
					t.Fatalf("%v %+v", err, res)
				}
				r := res[0]
				li := r.Link
				if r.LostBeforeLink == nil || r.LostInLink == nil {
					t.Fatal("no lost_before_link or lost_in_link for a UDP throughput test across a link")
				}
				before, held := *r.LostBeforeLink, *r.LostInLink
				accounted := li.Up.DroppedUDP + before + held + li.ServerStack.DeviceDrops + li.ServerStack.UDPSocketDrops
				if r.SenderRefused != nil {
					accounted += *r.SenderRefused
				}
				diff := int64(r.LostFrames) - int64(accounted)
				if diff < 0 {
					diff = -diff
				}
				// The client's two end datagrams may be lost too, and a few
				// datagrams of the namespace's own (none expected) counted.
				if r.LostFrames == 0 || diff > 5 || before > 0 && li.ClientStack.DeviceDrops == 0 || tc.held != (held > 0) {
					t.Errorf("lost %d of %d; accounted %d (link %d, before the link %d, held by it %d, client device %d, server device %d, socket %d, refused %v)",
						r.LostFrames, r.SentFrames, accounted, li.Up.DroppedUDP, before, held, li.ClientStack.DeviceDrops,
						li.ServerStack.DeviceDrops, li.ServerStack.UDPSocketDrops, r.SenderRefused)
				}
				if li.Up.Held != held || li.Up.Forwarded+li.Up.Held+li.Up.Dropped+li.Up.QueueDrops != li.Up.Packets+li.Up.Duplicated {
					t.Errorf("the link's counters do not add up: %+v", li.Up.Counters)
				}
				t.Logf("lost %d of %d: link %d, before the link %d (client device drops %d), held %d, socket %d",
					r.LostFrames, r.SentFrames, li.Up.DroppedUDP, before, li.ClientStack.DeviceDrops, held, li.ServerStack.UDPSocketDrops)
			})
		}
	}
}

// TestLostBeforeLinkCases: lost_before_link is what the sender's stack took
// less what the link counted, never negative, and only where a frame is one
// packet of a UDP throughput test.
func TestLostBeforeLinkCases(t *testing.T) {
	t.Parallel()
	refused := func(n uint64) *uint64 { return &n }
	for _, tc := range []struct {
		name    string
		r       Result
		packets uint64
		want    int64 // -1: none
	}{
		{"udp throughput", Result{Proto: ProtoUDP, Test: TestThroughput, Size: 1400, SentFrames: 1000}, 700, 300},
		{"refused frames never left", Result{Proto: ProtoUDP, Test: TestThroughput, Size: 1400, SentFrames: 1000, SenderRefused: refused(100)}, 700, 200},
		{"link counted more (stray packets)", Result{Proto: ProtoUDP, Test: TestThroughput, Size: 1400, SentFrames: 10}, 12, 0},
		{"largest frame of one packet", Result{Proto: ProtoUDP, Test: TestThroughput, Size: 1472, SentFrames: 10}, 4, 6},
		{"fragmented frames", Result{Proto: ProtoUDP, Test: TestThroughput, Size: 1473, SentFrames: 10}, 4, -1},
		{"tcp", Result{Proto: ProtoTCP, Test: TestThroughput, Size: 1400, SentFrames: 10}, 4, -1},
		{"udp latency", Result{Proto: ProtoUDP, Test: TestLatency, Size: 64, SentFrames: 10}, 4, -1},
	} {
		got := lostBeforeLink(&tc.r, tc.packets)
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: %d, want none", tc.name, *got)
		case tc.want >= 0 && (got == nil || *got != uint64(tc.want)):
			t.Errorf("%s: %v, want %d", tc.name, got, tc.want)
		}
	}
}

// TestNoLostBeforeLinkWithoutLink: emulator none counts no packets, so it
// claims no frame lost before a link (it claimed every frame sent).
func TestNoLostBeforeLinkWithoutLink(t *testing.T) {
	t.Parallel()
	l, err := link.Open(link.None, impair.Config{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan := []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 200 * time.Millisecond, Size: 1400}}
	res, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond}, plan, "")
	if err != nil || len(res) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	if res[0].LostBeforeLink != nil {
		t.Errorf("lost_before_link %d of %d sent, across no link", *res[0].LostBeforeLink, res[0].SentFrames)
	}
}
