package duel

import (
	"context"
	"fmt"
	"math/bits"
	"net"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
	"github.com/netduel/netduel/udp"
)

// The throughput test: the client sends data frames for the duration, the
// server counts them.
var (
	tcpThroughput = register(&Kind{Proto: ProtoTCP, Test: TestThroughput, Rank: 100, DefaultSize: DefaultTCPSize,
		Figures: FigFrames | FigStream | FigTCPInfo | FigConnection,
		half: kindHalves{transport: stream{}, send: sendTCPThroughput, serve: serveTCPThroughput,
			merge: mergeThroughput, check: checkThroughput}})
	udpThroughput = register(&Kind{Proto: ProtoUDP, Test: TestThroughput, Rank: 101, DefaultSize: DefaultUDPSize, MaxSize: maxUDPFrame,
		Figures: FigFrames | FigStream | FigPacing | FigJitter,
		half: kindHalves{transport: datagrams{}, send: sendUDPThroughput, udpMode: udp.ModeReceive,
			merge: mergePacedThroughput, check: checkThroughput}})
)

func sendTCPThroughput(ctx context.Context, conn net.Conn, p sendParams, d *dataOutcome) {
	d.send, d.err = tcp.SendThroughput(ctx, conn, tcp.ThroughputConfig{Cookie: p.cookie, Size: p.spec.Size, Duration: p.spec.Duration, Sent: p.live})
	d.sentFrames = d.send.Frames
}

func sendUDPThroughput(ctx context.Context, conn net.Conn, p sendParams, d *dataOutcome) {
	d.send, d.err = udp.SendThroughput(ctx, conn, udp.ThroughputConfig{Cookie: p.cookie, Size: p.spec.Size, Bitrate: p.spec.Bitrate, Duration: p.spec.Duration, Sent: p.live})
	d.sentFrames = d.send.Frames
}

// serveTCPThroughput counts the stream's frames; the session reports them
// once it knows how many the client sent.
func serveTCPThroughput(sess *session, conn net.Conn, rd *frame.Reader, accepted time.Time, view *ServerView) error {
	recv := stats.NewStreamReceiver()
	recv.SetIntervalFrom(sess.spec.Interval, sess.spec.Duration, accepted)
	err := tcp.Receive(sess.dataCtx, conn, rd, sess.cookie, recv)
	if first := recv.First(); !first.IsZero() {
		view.FirstUnixNs = first.UnixNano()
	}
	sess.mu.Lock()
	sess.recv = recv
	sess.mu.Unlock()
	return err
}

// mergeThroughput: frames as the server counted them, goodput over the
// receiver's span. Without the server's view, only what the sender knows.
func mergeThroughput(res *Result, d dataOutcome, v ServerView, m mergeInfo) {
	life := &res.Lifecycle
	res.DurationS = d.send.Duration.Seconds()
	res.SentFrames = d.send.Frames
	if !m.counted {
		res.Extent = ClientOnly
		return
	}
	res.ReceivedFrames = v.Received
	res.LostFrames, res.ReorderedFrames = v.Lost, v.Reordered
	res.DuplicateFrames, res.CorruptFrames = v.Duplicate, v.Corrupt
	rr := v.RecvReport
	if m.sameHost && v.LastNs > 0 && !d.send.Start.IsZero() {
		// One clock: the span runs from the sender's first write.
		rr.Span = max(rr.Span, time.Duration(v.LastNs-d.send.Start.UnixNano()))
	}
	res.GoodputBps = rr.Goodput(d.send.Duration)
	if m.sameHost && v.FirstUnixNs > 0 {
		life.FirstByteUS = ptr(max(0, us(time.Duration(v.FirstUnixNs-d.connectAt.UnixNano()))))
	}
	res.Intervals = stats.EndAt(v.Intervals, m.spec.Duration)
}

// mergePacedThroughput adds a paced sender's figures (rates asked for,
// offered and delivered) and the receiver's jitter.
func mergePacedThroughput(res *Result, d dataOutcome, v ServerView, m mergeInfo) {
	mergeThroughput(res, d, v, m)
	res.OfferedBps = ptr(d.send.OfferedRate())
	res.RequestedBps = ptr(m.spec.Bitrate)
	if w := pacingWarning(m.spec.Bitrate, *res.OfferedBps); w != "" && d.send.Unreachable == 0 { // else the test's ICMP error says why
		res.Warnings = append(res.Warnings, w)
	}
	refused := d.send.Refused
	res.SenderRefused = &refused
	if m.counted {
		res.deliveredBps = deliveredRate(v.Unique, m.spec.Size, v.Span)
		if v.Jitter.Samples >= 2 { // RFC 3550 jitter compares two arrivals
			j := Jitter(v.Jitter)
			res.Jitter = &j
		}
	}
}

// checkThroughput: counts within what was sent. A link may duplicate a
// frame once (netem's duplicate), so arrivals are at most twice what was sent.
func checkThroughput(v ServerView, win window) error {
	switch {
	case v.Unique > win.sent:
		return fmt.Errorf("unique %d > sent %d", v.Unique, win.sent)
	case v.Lost > win.sent-v.Unique || (v.Error == "" && v.Lost != win.sent-v.Unique):
		// A server that failed midway may count less; one that did not counts exactly.
		return fmt.Errorf("lost %d with %d of %d sent frames delivered (want %d)", v.Lost, v.Unique, win.sent, win.sent-v.Unique)
	case v.Unique > v.Received || v.Duplicate > v.Received || v.Received-v.Duplicate != v.Unique:
		return fmt.Errorf("received %d is not unique %d + duplicate %d", v.Received, v.Unique, v.Duplicate)
	case v.Received > maxCopies(win.sent):
		return fmt.Errorf("received %d: more than twice the %d sent", v.Received, win.sent)
	case v.Corrupt > maxCopies(win.sent):
		return fmt.Errorf("corrupt %d: more than twice the %d sent", v.Corrupt, win.sent)
	case v.Reordered > v.Unique || v.Late > v.Reordered:
		return fmt.Errorf("reordered %d, late %d with %d unique frames", v.Reordered, v.Late, v.Unique)
	}
	// Every frame the client sends has a body of the spec's size, and a server
	// counts a frame's body when it counts the frame unique: a goodput of 0
	// beside every frame received intact is a lie, as is one above them.
	body := uint64(max(win.spec.Size-frame.HeaderLen, 0))
	if hi, lo := bits.Mul64(v.Unique, body); hi != 0 || v.BodyBytes != lo {
		return fmt.Errorf("body_bytes %d: not what %d unique frames of %d-byte bodies hold", v.BodyBytes, v.Unique, body)
	}
	if err := checkJitter(v.Jitter, win.elapsed); err != nil {
		return err
	}
	return checkIntervals(v.Intervals, v, win, body)
}
