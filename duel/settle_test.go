package duel

import (
	"context"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// TestSettleCoversTheDataPath: the embedded run's fin travels off the link, so
// it reaches the server before the frames still queued on a slow link. The
// server must wait for them (until they stop arriving), not a fixed settle
// time from the fin: sending 6 Mbit/s into a 2 Mbit/s link with room in its
// queue for all of it leaves ~0.8 s of frames queued at the fin, far more
// than the 300 ms settle. Every frame counted lost must be one that something
// on the path says it dropped (the link, a device queue, a socket buffer: a
// loaded machine may drop a few); the old code counted ~60% lost.
func TestSettleCoversTheDataPath(t *testing.T) {
	t.Parallel()
	l, err := link.Open(link.Netstack, impair.Config{Rate: 2e6, Seed: 1}, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan := []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 400 * time.Millisecond, Size: 1400, Bitrate: 6e6}}
	res, _, err := RunOnLink(context.Background(), l, Client{Settle: 300 * time.Millisecond}, plan, "")
	if err != nil || len(res) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	r := res[0]
	if r.Error != "" || r.SentFrames == 0 || r.Link == nil {
		t.Fatalf("sent %d (%s), link %+v", r.SentFrames, r.Error, r.Link)
	}
	dropped := r.Link.Up.DroppedUDP
	if s := r.Link.ClientStack; s != nil {
		dropped += s.DeviceDrops
	}
	if s := r.Link.ServerStack; s != nil {
		dropped += s.UDPSocketDrops
	}
	if r.LostFrames > dropped {
		t.Fatalf("sent %d, lost %d, dropped on the path %d (link %+v): frames in flight after the fin were counted as lost",
			r.SentFrames, r.LostFrames, dropped, r.Link.Up)
	}
}
