package duel

import (
	"context"
	"time"
)

// SearchTrial is one trial of a bit rate search.
type SearchTrial struct {
	BitrateBps float64 `json:"bitrate_bps"` // offered rate asked for; 0 = unpaced
	OfferedBps float64 `json:"offered_bps"` // what the sender achieved
	LostPct    float64 `json:"lost_pct"`
	Pass       bool    `json:"pass"` // loss at or below the limit
}

// RateSearch records how a UDP throughput test's bit rate was found.
type RateSearch struct {
	MaxLossPct float64       `json:"max_loss_pct"`
	Trials     []SearchTrial `json:"trials"`
}

// searchSteps bounds the bisection: it stops when the bracket is within 3% or
// after this many trials.
const searchSteps = 8

// FindMaxRate runs a UDP throughput test at the highest offered rate whose loss
// stays at or below maxLossPct, RFC 2544 style: a trial unpaced gives the
// ceiling; a bisection of short trials between 0 and that ceiling finds the
// highest passing rate; a final test of spec.Duration runs at it. The Result is
// the final test's, with the search in Result.Search.
func (c *Client) FindMaxRate(ctx context.Context, spec TestSpec, maxLossPct float64) (Result, error) {
	trialDur := max(spec.Duration/5, 500*time.Millisecond)
	search := &RateSearch{MaxLossPct: maxLossPct}
	trial := func(rate float64) (Result, error) {
		s := spec
		s.Duration, s.Bitrate, s.Interval = trialDur, rate, 0
		r, err := c.RunTest(ctx, s)
		if err != nil {
			return r, err
		}
		t := SearchTrial{BitrateBps: rate, LostPct: r.LostPct, Pass: r.Error == "" && r.LostPct <= maxLossPct}
		if r.OfferedBps != nil {
			t.OfferedBps = *r.OfferedBps
		}
		search.Trials = append(search.Trials, t)
		return r, nil
	}
	first, err := trial(0)
	if err != nil {
		return first, err
	}
	best := 0.0
	if search.Trials[0].Pass {
		best = 0 // unpaced already passes: run the final test unpaced
	} else {
		lo, hi := 0.0, search.Trials[0].OfferedBps
		for i := 0; i < searchSteps && hi > 0 && (hi-lo)/hi > 0.03; i++ {
			if ctx.Err() != nil {
				return first, ctx.Err()
			}
			mid := (lo + hi) / 2
			if _, err := trial(mid); err != nil {
				return first, err
			}
			if search.Trials[len(search.Trials)-1].Pass {
				lo = mid
			} else {
				hi = mid
			}
		}
		best = lo
		if best == 0 {
			best = hi / 100 // nothing passed: report the slowest rate tried's tenth, honestly lossy or not
		}
	}
	final := spec
	final.Bitrate = best
	r, err := c.RunTest(ctx, final)
	if err != nil {
		return r, err
	}
	r.Search = search
	return r, nil
}
