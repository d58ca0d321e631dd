package duel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
)

// testFrames is a test-only kind, to show what adding a kind takes: this
// file and its register call. The client streams data frames; the server
// only counts the frames and bytes that arrive (no sequence accounting), and
// the result is those counts over the sender's time.
var testFrames = register(&Kind{Proto: ProtoTCP, Test: "frames", Rank: 900, DefaultSize: 1024,
	Figures: FigFrames | FigConnection,
	half: kindHalves{transport: stream{}, send: sendTCPThroughput, serve: serveFrameCount,
		merge: mergeFrameCount, check: checkFrameCount}})

func serveFrameCount(sess *session, _ net.Conn, rd *frame.Reader, _ time.Time, view *ServerView) error {
	for {
		h, body, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Cookie != sess.cookie {
			return fmt.Errorf("a frame of session %016x on session %016x's connection", h.Cookie, sess.cookie)
		}
		view.Received++
		view.Unique++
		view.BodyBytes += uint64(len(body))
		if view.FirstUnixNs == 0 {
			view.FirstUnixNs = time.Now().UnixNano()
		}
	}
}

func mergeFrameCount(res *Result, d dataOutcome, v ServerView, _ mergeInfo) {
	res.DurationS = d.send.Duration.Seconds()
	res.SentFrames, res.ReceivedFrames = d.send.Frames, v.Received
	res.LostFrames = d.send.Frames - min(d.send.Frames, v.Received)
	res.GoodputBps = stats.Rate(v.BodyBytes, d.send.Duration)
}

func checkFrameCount(v ServerView, win window) error {
	if v.Received > win.sent || v.BodyBytes > v.Received*uint64(win.spec.Size) {
		return fmt.Errorf("received %d frames, %d body bytes of %d sent", v.Received, v.BodyBytes, win.sent)
	}
	return nil
}

// TestRegisteredKindRuns: a kind registered in one file runs end to end,
// through the server's admission, its server half and the client's merge,
// and shows in the registry.
func TestRegisteredKindRuns(t *testing.T) {
	t.Parallel()
	if k, ok := LookupKind(ProtoTCP, "frames"); !ok || k != testFrames {
		t.Fatalf("LookupKind(tcp, frames) = %v, %v", k, ok)
	}
	if _, err := ParseTest("Frames"); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, ServerConfig{})
	r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: "frames", Duration: 200 * time.Millisecond, Size: 1024})
	if err != nil || r.Error != "" {
		t.Fatalf("%v %s", err, r.Error)
	}
	if r.SentFrames == 0 || r.ReceivedFrames != r.SentFrames || r.GoodputBps <= 0 {
		t.Fatalf("sent %d, received %d, goodput %v", r.SentFrames, r.ReceivedFrames, r.GoodputBps)
	}
	if _, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: "frames", Duration: time.Second, Size: 100}); err == nil {
		t.Fatal("udp frames ran: no such kind is registered")
	}
}
