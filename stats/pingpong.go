package stats

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// RoundTrip sends request seq and waits for its reply. It returns the round trip
// and ok=true when the reply came back in time, ok=false when the request timed
// out (a lost round trip, never a latency), or an error that ends the test.
type RoundTrip func(seq uint64) (rtt time.Duration, ok bool, err error)

// BadReply marks a round trip's error as one that came after its request
// went out, when a reply came back and was refused (corrupt, another
// request's, of another size; the transport counts it Corrupt): Run then
// counts the request sent, so that Sent still covers every reply counted.
// Other errors leave the request out of Sent: it may not have gone out, or
// the test ended while it was in flight.
func BadReply(err error) error {
	if err == nil {
		return nil
	}
	return badReply{err}
}

type badReply struct{ error }

func (e badReply) Unwrap() error { return e.error }

// PingPongReport is the client's view of a request/response test.
type PingPongReport struct {
	Sent      uint64 // requests sent
	Received  uint64 // replies matched to their request in time (warm-up included)
	Lost      uint64 // requests whose reply did not come back in time
	Late      uint64 // replies that came back after their request had timed out
	Duplicate uint64 // replies seen twice
	Corrupt   uint64 // replies that failed their CRC or body check (TCP: or were not the awaited reply)
	BodyBytes uint64 // verified reply body bytes
	Duration  time.Duration
	FirstRTT  time.Duration // the first round trip, before any warm-up trimming
	Warmup    uint64        // round trips left out of the histogram as warm-up
	Intervals []Interval    // with PingPong.Interval set
	Wait      string        // how the client waited for replies (stack.WaitBlocking...)
}

// PingPong drives back-to-back round trips for Duration and records them in RTT,
// leaving out those that complete within Warmup of the start. Transports count
// Late, Duplicate, Corrupt and BodyBytes in Report themselves.
type PingPong struct {
	Duration time.Duration
	Warmup   time.Duration
	Interval time.Duration // > 0: record per-interval figures
	RTT      *RTT
	Report   PingPongReport
	// Done, if set, counts completed round trips as they happen (for live progress).
	Done *atomic.Uint64
	iv   intervals
	ivAt int // the bucket holding the interval histogram (-1: none yet)
}

// Run performs round trips until Duration has passed or ctx is done. It returns
// the first error rt returned; the report holds what was measured until then.
func (p *PingPong) Run(ctx context.Context, rt RoundTrip) error {
	if p.RTT == nil {
		p.RTT = NewRTT()
	}
	start := time.Now()
	end := start.Add(p.Duration)
	warmEnd := start.Add(p.Warmup)
	p.iv = newIntervals(p.Interval, p.Duration, start)
	p.ivAt = -1
	defer func() {
		p.Report.Duration = time.Since(start)
		if p.iv.enabled() {
			p.Report.Intervals = p.iv.list()
		}
	}()
	for seq := uint64(0); ; seq++ {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			return nil
		}
		p.Report.Sent++
		bodyBefore := p.Report.BodyBytes
		d, ok, err := rt(seq)
		if err != nil {
			if !errors.As(err, new(badReply)) {
				p.Report.Sent-- // the request may not have gone out; count only completed tries
			}
			return err
		}
		var (
			b  *bucket
			bi int
		)
		if p.iv.enabled() {
			bi, b = p.iv.atIndex(time.Now())
		}
		if !ok {
			p.Report.Lost++
			if b != nil {
				b.lost++
			}
			continue
		}
		p.Report.Received++
		if p.Done != nil {
			p.Done.Add(1)
		}
		if b != nil {
			b.frames++
			b.body += p.Report.BodyBytes - bodyBefore
			if p.ivAt != bi { // a new interval: the last one's histogram is summarised and reused
				var r *RTT
				if p.ivAt >= 0 {
					r = p.iv.buckets[p.ivAt].closeRTT()
				}
				if r == nil {
					r = newIntervalRTT()
				}
				b.rtt, p.ivAt = r, bi
			}
			b.rtt.Record(d)
		}
		if p.Report.Received == 1 {
			p.Report.FirstRTT = d
		}
		if time.Now().Before(warmEnd) {
			p.Report.Warmup++
			continue
		}
		p.RTT.Record(d)
	}
}
