package tcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
)

// EchoCounts is the server's view of a latency test.
type EchoCounts struct {
	Requests uint64    // intact echo requests received
	Echoed   uint64    // replies written
	First    time.Time // when the first byte of the first request was read
	Wait     string    // how the server waited for requests (stack.WaitBlocking...)
}

// Echo answers echo requests from rd on conn until the client's FIN (io.EOF). Each
// reply has the request's sequence number, body and size: never more bytes than
// were received. A frame of another cookie or type ends the connection.
// want says how to wait for each request (see stack.Receiver; "" is blocked
// in the kernel where the socket allows it).
func Echo(ctx context.Context, conn net.Conn, rd *frame.Reader, cookie uint64, want string) (EchoCounts, error) {
	var c EchoCounts
	stop := unblockOnCancel(ctx, conn)
	defer stop()
	wait, w, undo := readBlocked(rd, conn, want)
	defer undo()
	c.Wait = wait
	if rd.Tap(func(src io.Reader) io.Reader { return &firstArrival{src: src, at: &c.First} }) > 0 {
		c.First = time.Now() // the first request's bytes came with the attach message
	}
	for {
		h, _, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return c, nil
			}
			if ctx.Err() != nil {
				return c, ctx.Err()
			}
			return c, err
		}
		if h.Type != frame.TypeEchoRequest || h.Cookie != cookie {
			return c, fmt.Errorf("unexpected %s frame on a latency connection", h.Type)
		}
		c.Requests++
		// The reply is the request with its type changed: its header is
		// rewritten in place, over the body's CRC the read computed (no copy
		// of the body, no second pass over it: a 64 KiB request's reply
		// goes out µs sooner).
		out := rd.Frame()
		h.Type = frame.TypeEchoReply
		if err := frame.SealHeader(out[:frame.HeaderLen], h, rd.BodyCRC()); err != nil {
			return c, err
		}
		if _, err := w.Write(out); err != nil {
			return c, err
		}
		c.Echoed++
	}
}

// readBlocked makes rd, which reads conn directly or through a wrapper that
// can read through another reader (ReadThrough), wait for each request as
// want asks (stack.Receiver: blocked in the kernel where the socket allows
// it, by default), and returns how its reads wait, what to write replies
// through (the stack.Blocking where there is one) and what undoes it. Any
// other reader keeps the netpoller.
func readBlocked(rd *frame.Reader, conn net.Conn, want string) (wait string, w io.Writer, undo func()) {
	wait, w, undo = stack.WaitNetpoller, conn, func() {}
	rd.Tap(func(cur io.Reader) io.Reader {
		l, layered := cur.(interface{ ReadThrough(io.Reader) })
		if !layered && cur != io.Reader(conn) {
			return cur
		}
		var (
			src     stack.DeadlineReader
			release func()
		)
		src, wait, release = stack.Receiver(conn, want)
		if b, ok := src.(*stack.Blocking); ok {
			w = b
		}
		if !layered {
			undo = func() {
				rd.Tap(func(io.Reader) io.Reader { return conn })
				release()
			}
			return src
		}
		l.ReadThrough(src)
		undo = func() {
			l.ReadThrough(nil)
			release()
		}
		return cur
	})
	return wait, w, undo
}

// firstArrival notes when a read first returned bytes (in *at, if zero).
type firstArrival struct {
	src io.Reader
	at  *time.Time
}

func (f *firstArrival) Read(p []byte) (int, error) {
	n, err := f.src.Read(p)
	if n > 0 && f.at.IsZero() {
		*f.at = time.Now()
	}
	return n, err
}

// LatencyConfig configures a TCP request/response test.
type LatencyConfig struct {
	Cookie   uint64
	Size     int            // frame bytes of one request (and of its reply)
	Duration time.Duration  // how long to run
	Warmup   time.Duration  // round trips completing this soon after the start are not recorded
	Timeout  time.Duration  // a reply that takes longer ends the test with an error; 0 means 10 s
	Interval time.Duration  // > 0: per-interval figures
	Done     *atomic.Uint64 // if set, counts round trips as they complete
	Wait     string         // how to wait for each reply (stack.Receiver)
}

// PingPong runs back-to-back echo round trips on conn. TCP does not lose replies: one that does not come back within cfg.Timeout is an error.
func PingPong(ctx context.Context, conn net.Conn, cfg LatencyConfig) (stats.PingPongReport, *stats.RTT, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	stop := unblockOnCancel(ctx, conn)
	defer stop()
	reqs := frame.NewEchoRequests(cfg.Cookie, cfg.Size)
	// Wait for each reply blocked in the kernel where the socket allows it
	// (stack.Blocking), through the netpoller elsewhere.
	src, wait, release := stack.Receiver(conn, cfg.Wait)
	defer release()
	// Requests go through the Blocking where there is one; a round trip is
	// timed from its request's send call to its reply's receive
	// (stack.Stamped), not over the framing around them.
	st := stack.NewStamped(src, conn)
	rd := frame.NewReader(st, cfg.Size)
	pp := stats.PingPong{Duration: cfg.Duration, Warmup: cfg.Warmup, Interval: cfg.Interval, Done: cfg.Done}
	rt := func(seq uint64) (time.Duration, bool, error) {
		req, built, err := reqs.Next(seq)
		if err != nil {
			return 0, false, err
		}
		if err := src.SetReadDeadline(built.Add(cfg.Timeout)); err != nil {
			return 0, false, err
		}
		if _, err := st.Write(req); err != nil {
			return 0, false, err
		}
		rh, rb, err := rd.Next()
		sent, now := st.Sent(), st.Received()
		if err != nil {
			var fe *frame.Error
			if errors.As(err, &fe) { // a reply came, and is not a valid frame
				pp.Report.Corrupt++
				err = stats.BadReply(err)
			}
			return 0, false, fmt.Errorf("reading echo reply %d: %w", seq, err)
		}
		if rh.Type != frame.TypeEchoReply || rh.Cookie != cfg.Cookie || rh.Seq != seq {
			pp.Report.Corrupt++
			return 0, false, stats.BadReply(fmt.Errorf("unexpected %s frame (seq %d) while waiting for echo reply %d", rh.Type, rh.Seq, seq))
		}
		if len(rb) != len(req)-frame.HeaderLen || !frame.CheckBody(rb, seq) {
			pp.Report.Corrupt++
			return 0, false, stats.BadReply(fmt.Errorf("echo reply %d: body (%d bytes) does not match the request's (%d)", seq, len(rb), len(req)-frame.HeaderLen))
		}
		if now.Before(sent) {
			// Cannot happen while the reader reads no further than the
			// frame it needs: a reply read before its request was sent
			// would be a negative round trip, never a figure.
			return 0, false, fmt.Errorf("echo reply %d was read before its request was sent", seq)
		}
		pp.Report.BodyBytes += uint64(len(rb))
		return now.Sub(sent), true, nil
	}
	err := pp.Run(ctx, rt)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	pp.Report.Wait = wait
	return pp.Report, pp.RTT, err
}
