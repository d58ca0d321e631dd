package udp

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
)

// LatencyConfig configures a UDP request/response test.
type LatencyConfig struct {
	Cookie   uint64
	Size     int            // frame bytes of one request (and of its reply)
	Duration time.Duration  // how long to run
	Warmup   time.Duration  // round trips completing this soon after the start are not recorded
	Interval time.Duration  // > 0: per-interval figures
	Done     *atomic.Uint64 // if set, counts round trips as they complete
	// MinTimeout and MaxTimeout bound the adaptive reply timeout (RTO-like:
	// 4 × smoothed RTT + 8 × its variation). Zero values mean 10 ms and 1 s.
	// Before the first sample the timeout is a quarter of Duration, within
	// those bounds, doubled after each timeout (RFC 6298's backoff), so that a
	// lost first request does not take a short run's whole time.
	MinTimeout, MaxTimeout time.Duration
	// Wait is how to wait for each reply (stack.Receiver): "" (blocked in the
	// kernel where the socket allows it), stack.WaitBusyPoll or
	// stack.WaitNetpoller.
	Wait string
}

// rto is an adaptive retransmission-style timeout (RFC 6298's estimator).
// Until the first sample it is initial, which each timeout doubles.
type rto struct {
	srtt, rttvar time.Duration
	min, max     time.Duration
	initial      time.Duration
}

// newRTO bounds the timeout by lo and hi and starts it at a quarter of the
// run (RFC 6298 starts at 1 s, which is longer than many latency runs).
func newRTO(lo, hi, run time.Duration) rto {
	if lo <= 0 {
		lo = 10 * time.Millisecond
	}
	if hi <= 0 {
		hi = time.Second
	}
	hi = max(hi, lo)
	return rto{min: lo, max: hi, initial: min(max(run/4, lo), hi)}
}

// expired: a request went unanswered. Before any sample, wait twice as long
// for the next one (after one, the estimate stands: a loss on a lossy link
// is not a sign that the round trip grew).
func (r *rto) expired() {
	if r.srtt == 0 {
		r.initial = min(2*r.initial, r.max)
	}
}

func (r *rto) update(d time.Duration) {
	if r.srtt == 0 {
		r.srtt, r.rttvar = d, d/2
		return
	}
	diff := r.srtt - d
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = (3*r.rttvar + diff) / 4
	r.srtt = (7*r.srtt + d) / 8
}

func (r *rto) timeout() time.Duration {
	if r.srtt == 0 {
		if r.initial <= 0 {
			return r.max
		}
		return r.initial
	}
	return min(max(4*r.srtt+8*r.rttvar, r.min), r.max)
}

// lateWindow is how many recent requests' send times PingPong keeps.
const lateWindow = 64

// PingPong runs back-to-back echo round trips on conn (a connected UDP socket).
// A request whose reply does not come back within the adaptive timeout counts as
// lost, never as a latency; a reply that comes back later counts as late.
func PingPong(ctx context.Context, conn net.Conn, cfg LatencyConfig) (stats.PingPongReport, *stats.RTT, error) {
	t := newRTO(cfg.MinTimeout, cfg.MaxTimeout, cfg.Duration)
	// When each recent request went out, so that a late reply, which names its
	// request, still gives the estimator a sample (no retransmission, so no
	// ambiguity for Karn's rule to avoid).
	var sentAt [lateWindow]time.Time
	reqs := frame.NewEchoRequests(cfg.Cookie, cfg.Size)
	resp := make([]byte, MaxDatagram+1)
	seen := stats.NewSeqTracker(0)
	pp := stats.PingPong{Duration: cfg.Duration, Warmup: cfg.Warmup, Interval: cfg.Interval, Done: cfg.Done}
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	// Wait for each reply blocked in the kernel where the socket allows it
	// (stack.Blocking), through the netpoller elsewhere.
	rd, wait, release := stack.Receiver(conn, cfg.Wait)
	defer release()
	// A Blocking sends too: the netpoller does not watch the socket meanwhile.
	// A round trip is timed from its request's send call to its reply's
	// receive (stack.Stamped), not over the framing around them.
	st := stack.NewStamped(rd, conn)

	rt := func(seq uint64) (time.Duration, bool, error) {
		req, _, err := reqs.Next(seq)
		if err != nil {
			return 0, false, err
		}
		_, err = st.Write(req)
		sent := st.Sent()
		sentAt[seq%lateWindow] = sent
		if err != nil {
			if unreachable(err) {
				return 0, false, refusedError(err)
			}
			if transient(err) {
				return 0, false, nil
			}
			return 0, false, err
		}
		deadline := sent.Add(t.timeout())
		if err := st.SetReadDeadline(deadline); err != nil {
			return 0, false, err
		}
		for {
			n, err := st.Read(resp)
			now := st.Received()
			if err != nil {
				if isTimeout(err) {
					if ctx.Err() != nil {
						return 0, false, ctx.Err()
					}
					t.expired()
					return 0, false, nil
				}
				if unreachable(err) {
					return 0, false, refusedError(err)
				}
				if transient(err) {
					continue
				}
				return 0, false, err
			}
			rh, rb, derr := frame.Decode(resp[:n], len(resp))
			if derr != nil || rh.Type != frame.TypeEchoReply || rh.Cookie != cfg.Cookie {
				if errors.Is(derr, frame.ErrChecksum) {
					pp.Report.Corrupt++
				}
				continue // not ours or damaged: keep waiting for the real reply
			}
			if len(rb) != len(req)-frame.HeaderLen || !frame.CheckBody(rb, rh.Seq) {
				pp.Report.Corrupt++ // a reply of another size is no echo of ours
				continue
			}
			switch seen.Add(rh.Seq) {
			case stats.OutcomeDuplicate:
				pp.Report.Duplicate++
				continue
			}
			if rh.Seq != seq {
				pp.Report.Late++ // the reply to an earlier, timed-out request
				if rh.Seq < seq && seq-rh.Seq < lateWindow {
					// Its round trip is a sample all the same: the timeout
					// was too short for this path, so wait longer for this one.
					t.update(now.Sub(sentAt[rh.Seq%lateWindow]))
					if err := st.SetReadDeadline(sent.Add(t.timeout())); err != nil {
						return 0, false, err
					}
				}
				continue
			}
			d := now.Sub(sent)
			t.update(d)
			pp.Report.BodyBytes += uint64(len(rb))
			return d, true, nil
		}
	}
	err := pp.Run(ctx, rt)
	pp.Report.Wait = wait
	return pp.Report, pp.RTT, err
}
