package duel

import (
	"context"
	"math"
	"time"
)

// SearchTrial is one trial of a bit rate search.
type SearchTrial struct {
	BitrateBps float64 `json:"bitrate_bps"` // offered rate asked for; 0 = unpaced
	OfferedBps float64 `json:"offered_bps"` // what the sender achieved
	LostPct    float64 `json:"lost_pct"`
	Frames     uint64  `json:"frames"` // frames sent
	Pass       bool    `json:"pass"`   // loss at or below the limit, over at least min_frames frames
}

// RateSearch records how a UDP throughput test's bit rate was found.
type RateSearch struct {
	MaxLossPct float64 `json:"max_loss_pct"`
	// MinFrames is how many frames a trial must send for its loss to say
	// anything about the limit: one lost frame in fewer would already exceed
	// it (1000 frames for 0.1%). A trial with fewer does not pass, however
	// little it lost.
	MinFrames uint64        `json:"min_frames"`
	Trials    []SearchTrial `json:"trials"`
	// Found says whether the final, full-length test kept within the limit.
	// When it is false, the result is the last attempt's (the lowest rate
	// tried), whose loss is above max_loss_pct: no rate met the limit for the
	// whole duration.
	Found bool `json:"found"`
}

// minFrames is the smallest trial that can show a loss of at most maxLossPct:
// 100/maxLossPct frames (one lost frame is then exactly the limit), at least
// 100 and at most a million.
func minFrames(maxLossPct float64) uint64 {
	if maxLossPct <= 0 {
		return 100
	}
	return uint64(min(1e6, max(100, math.Ceil(100/maxLossPct))))
}

// finalAttempts bounds the full-length tests at the end of a search.
const finalAttempts = 4

// searchSteps bounds the bisection: it stops when the bracket is within 3% or
// after this many trials.
const searchSteps = 8

// FindMaxRate runs a UDP throughput test at the highest offered rate whose loss
// stays at or below maxLossPct, RFC 2544 style: a trial unpaced gives the
// ceiling; a bisection of short trials between 0 and that ceiling finds the
// highest passing rate; a final test of spec.Duration runs at it (stepping down
// 15% and again, at most twice, while the full-length test loses more than
// allowed, up to finalAttempts tests). The Result is the final test's, with the
// search in Result.Search; Search.Found is false when even the last attempt lost
// more than allowed.
func (c *Client) FindMaxRate(ctx context.Context, spec TestSpec, maxLossPct float64) (Result, error) {
	trialDur := max(spec.Duration/5, 500*time.Millisecond)
	search := &RateSearch{MaxLossPct: maxLossPct, MinFrames: minFrames(maxLossPct)}
	trial := func(rate float64) (Result, error) {
		s := spec
		s.Duration, s.Bitrate, s.Interval = trialDur, rate, 0
		r, err := c.RunTest(ctx, s)
		if err != nil {
			return r, err
		}
		t := SearchTrial{BitrateBps: rate, LostPct: r.LostPct, Frames: r.SentFrames,
			Pass: r.Error == "" && r.LostPct <= maxLossPct && r.SentFrames >= search.MinFrames}
		if r.OfferedBps != nil {
			t.OfferedBps = *r.OfferedBps
		}
		search.Trials = append(search.Trials, t)
		return r, nil
	}
	var err error
	best, err := bisectRate(ctx, func(rate float64) (SearchTrial, error) {
		if _, err := trial(rate); err != nil {
			return SearchTrial{}, err
		}
		return search.Trials[len(search.Trials)-1], nil
	})
	if err != nil {
		return Result{}, err
	}
	// The final, full-length test: a short trial can pass by luck, so while the
	// full test loses too much, step down and run it again (a few times at most).
	final := spec
	final.Bitrate = best
	var r Result
	for attempt := 0; ; attempt++ {
		r, err = c.RunTest(ctx, final)
		if err != nil {
			return r, err
		}
		t := SearchTrial{BitrateBps: final.Bitrate, LostPct: r.LostPct, Frames: r.SentFrames,
			Pass: r.Error == "" && r.LostPct <= maxLossPct && r.SentFrames >= search.MinFrames}
		if r.OfferedBps != nil {
			t.OfferedBps = *r.OfferedBps
		}
		search.Trials = append(search.Trials, t)
		if t.Pass || r.Error != "" || attempt == finalAttempts-1 || final.Bitrate == 0 {
			search.Found = t.Pass
			break
		}
		final.Bitrate *= 0.85
	}
	r.Search = search
	return r, nil
}

// bisectRate finds the highest passing rate: an unpaced trial (rate 0) first,
// whose achieved rate is the ceiling; if it passes, 0 (unpaced) is the answer.
// Otherwise it bisects between 0 and the ceiling until the bracket is within 3%.
// If nothing passes, it returns the lowest rate tried, the honest best effort.
func bisectRate(ctx context.Context, trial func(rate float64) (SearchTrial, error)) (float64, error) {
	first, err := trial(0)
	if err != nil || first.Pass {
		return 0, err
	}
	lo, hi := 0.0, first.OfferedBps
	for i := 0; i < searchSteps && hi > 0 && (hi-lo)/hi > 0.03; i++ {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		mid := (lo + hi) / 2
		t, err := trial(mid)
		if err != nil {
			return 0, err
		}
		if t.Pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return hi, nil
	}
	return lo, nil
}
