package duel

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
	"github.com/netduel/netduel/udp"
)

// The latency test: the client sends one echo request at a time and times
// its reply; the server echoes.
var (
	tcpLatency = register(&Kind{Proto: ProtoTCP, Test: TestLatency, Rank: 200, DefaultSize: DefaultLatencySize,
		Figures: FigFrames | FigRoundTrips | FigTCPInfo | FigConnection,
		half: kindHalves{transport: stream{}, send: sendTCPPingPong, serve: serveTCPEcho,
			merge: mergeLatency, check: checkEcho}})
	udpLatency = register(&Kind{Proto: ProtoUDP, Test: TestLatency, Rank: 201, DefaultSize: DefaultLatencySize, MaxSize: maxUDPFrame,
		Figures: FigFrames | FigRoundTrips,
		half: kindHalves{transport: datagrams{}, send: sendUDPPingPong, udpMode: udp.ModeEcho,
			merge: mergeLatency, check: checkEcho}})
)

func sendTCPPingPong(ctx context.Context, conn net.Conn, p sendParams, d *dataOutcome) {
	d.pp, d.rtt, d.err = tcp.PingPong(ctx, conn, tcp.LatencyConfig{Cookie: p.cookie, Size: p.spec.Size, Duration: p.spec.Duration, Warmup: p.warmup, Interval: p.spec.Interval, Done: p.live, Wait: p.wait})
	d.sentFrames, d.idle = d.pp.Sent, true
}

func sendUDPPingPong(ctx context.Context, conn net.Conn, p sendParams, d *dataOutcome) {
	d.pp, d.rtt, d.err = udp.PingPong(ctx, conn, udp.LatencyConfig{Cookie: p.cookie, Size: p.spec.Size, Duration: p.spec.Duration, Warmup: p.warmup, Interval: p.spec.Interval, Done: p.live, Wait: p.wait})
	d.sentFrames, d.idle = d.pp.Sent, true
}

// serveTCPEcho answers the stream's echo requests.
func serveTCPEcho(sess *session, conn net.Conn, rd *frame.Reader, _ time.Time, view *ServerView) error {
	c, err := tcp.Echo(sess.dataCtx, conn, rd, sess.cookie, sess.srv.waitFor(sess.spec))
	view.Requests, view.Echoed, view.Wait = c.Requests, c.Echoed, c.Wait
	if !c.First.IsZero() {
		view.FirstUnixNs = c.First.UnixNano()
	}
	return err
}

// mergeLatency: the client's own round trips; the server only counts.
func mergeLatency(res *Result, d dataOutcome, v ServerView, m mergeInfo) {
	life := &res.Lifecycle
	res.DurationS = d.pp.Duration.Seconds()
	res.SentFrames, res.ReceivedFrames = d.pp.Sent, d.pp.Received
	res.LostFrames, res.ReorderedFrames = d.pp.Lost, d.pp.Late
	res.DuplicateFrames, res.CorruptFrames = d.pp.Duplicate, d.pp.Corrupt
	res.GoodputBps = stats.Rate(d.pp.BodyBytes, d.pp.Duration)
	if d.rtt != nil && d.rtt.Count() > 0 { // no round trip: no figures, not zeros
		s := d.rtt.Summary()
		res.RTT = &s
		res.RTTHistogram = d.rtt.Encode()
	}
	if d.pp.Received > 0 {
		life.FirstReplyUS = ptr(us(d.pp.FirstRTT))
	}
	if m.sameHost && v.FirstUnixNs > 0 {
		life.FirstByteUS = ptr(max(0, us(time.Duration(v.FirstUnixNs-d.connectAt.UnixNano()))))
	}
	res.Intervals = stats.EndAt(d.pp.Intervals, m.spec.Duration)
	if d.pp.Wait != "" || v.Wait != "" {
		res.Wait = &Waits{Client: d.pp.Wait, Server: v.Wait}
	}
}

// checkEcho: the client measures latency itself; the server only counts.
func checkEcho(v ServerView, win window) error {
	if v.Echoed > v.Requests {
		return fmt.Errorf("echoed %d > requests %d", v.Echoed, v.Requests)
	}
	if v.Requests > maxCopies(win.sent) {
		return fmt.Errorf("requests %d: more than twice the %d sent", v.Requests, win.sent)
	}
	return nil
}
