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
// time from the fin: sending 4 Mbit/s into a 2 Mbit/s link with room in its
// queue for all of it, a 100 ms settle loses nothing.
func TestSettleCoversTheDataPath(t *testing.T) {
	t.Parallel()
	l, err := link.Open(link.Netstack, impair.Config{Rate: 2e6, Seed: 1}, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan := []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 400 * time.Millisecond, Size: 1400, Bitrate: 4e6}}
	res, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond}, plan, "")
	if err != nil || len(res) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	r := res[0]
	if r.Error != "" || r.SentFrames == 0 || r.LostFrames != 0 {
		t.Fatalf("sent %d, lost %d (%s): frames in flight after the fin were counted as lost", r.SentFrames, r.LostFrames, r.Error)
	}
}
