package duel

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/stack"
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

// stallingNetwork is the OS stack, with a UDP socket whose reader stalls
// once, after its first datagrams: a server goroutine starved on a loaded
// machine while its socket buffer holds the rest.
type stallingNetwork struct {
	stack.OS
	after int
	stall time.Duration
}

func (n *stallingNetwork) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	pc, err := n.OS.ListenPacket(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &stallingConn{PacketConn: pc, after: n.after, stall: n.stall}, nil
}

type stallingConn struct {
	net.PacketConn
	after int
	stall time.Duration
	reads int
}

func (c *stallingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.reads++; c.reads == c.after {
		time.Sleep(c.stall)
	}
	return c.PacketConn.ReadFrom(b)
}

// TestSettleWaitsForAStalledReader: the server's reader stalls (400 ms)
// while the rest of the test's datagrams wait in its socket buffer, longer
// than the 100 ms settle. The client's end datagrams, queued behind them,
// tell the server they are still to be read: it counts every frame, where a
// settle that only watched arrivals gave up after 100 ms of quiet and
// counted the queued frames lost.
func TestSettleWaitsForAStalledReader(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{Network: &stallingNetwork{after: 20, stall: 400 * time.Millisecond}})
	c := newClient(srv)
	c.Settle = 100 * time.Millisecond
	r, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 200 * time.Millisecond, Size: 200, Bitrate: 2e6})
	if err != nil || r.Error != "" {
		t.Fatalf("%v %s", err, r.Error)
	}
	if r.SentFrames < 100 || r.LostFrames != 0 || r.ReceivedFrames != r.SentFrames {
		t.Fatalf("sent %d, received %d, lost %d: the frames queued behind a stalled reader were counted lost", r.SentFrames, r.ReceivedFrames, r.LostFrames)
	}
}
