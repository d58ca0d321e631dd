package duel

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// SearchTrial is one trial of a bit rate search.
type SearchTrial struct {
	BitrateBps float64 `json:"bitrate_bps"` // offered rate asked for; 0 = unpaced
	OfferedBps float64 `json:"offered_bps"` // what the sender achieved
	// DeliveredBps is the frame bits per second the receiver took in over its
	// own span (first to last arrival): the rate the path carried.
	DeliveredBps float64 `json:"delivered_bps"`
	LostPct      float64 `json:"lost_pct"`
	Frames       uint64  `json:"frames"` // frames sent
	Final        bool    `json:"final"`  // a full-length test, not a short trial
	// Pass: loss within the limit, and the receiver took frames in as fast as
	// they were offered (delivered at least 97% of offered, 95% for a final
	// test: a queue that grows means the rate is above the path's, even before
	// it overflows).
	Pass bool `json:"pass"`
}

// RateSearch records how a UDP throughput test's bit rate was found.
type RateSearch struct {
	MaxLossPct float64 `json:"max_loss_pct"`
	// MinFrames is how many frames a test must send for one lost frame to be
	// within the limit (100/max_loss_pct: 1000 for 0.1%). A test with fewer
	// frames passes only if it lost none.
	MinFrames uint64        `json:"min_frames"`
	Trials    []SearchTrial `json:"trials"`
	// CapBps is the server's --max-bitrate, which bounded the search (it
	// refused the unpaced trial, and any above it): trials then ask for
	// that rate at most, and the answer is at most that. 0: no bound.
	CapBps float64 `json:"cap_bps,omitempty"`
	// Found says whether a final, full-length test passed. When it is
	// false, no short trial passed, or no full-length test did (the result
	// is the last test's), and the run exits 1.
	Found bool `json:"found"`
}

// minFrames is how many frames make one lost frame exactly maxLossPct: at least
// 100 and at most a million.
func minFrames(maxLossPct float64) uint64 {
	if maxLossPct <= 0 {
		return 100
	}
	return uint64(min(1e6, max(100, math.Ceil(100/maxLossPct))))
}

const (
	// bracketTol: the search stops when the highest passing rate is within
	// this of the lowest failing one.
	bracketTol = 0.03
	// deliveredTol: a test passes only if the receiver took in at least
	// 1-deliveredTol of the offered rate.
	deliveredTol = 0.03
	// finalDeliveredTol is deliveredTol for the full-length test, whose span
	// a single hiccup of a busy machine can stretch: its rate is bracketed
	// already, and its loss is what it must show.
	finalDeliveredTol = 0.05
	// maxTrials bounds the short trials.
	maxTrials = 14
	// finalAttempts bounds the full-length tests at the end of a search.
	finalAttempts = 4
	// finalBackoff is how far below a failed full-length test the next one
	// goes, at first (see confirmRate).
	finalBackoff = 0.10
)

// FindMaxRate runs a UDP throughput test at the highest offered rate that the
// path carries with loss at or below maxLossPct, RFC 2544 style, in short
// trials bracketed by what the receiver delivered:
//
//   - an unpaced trial gives the sender's ceiling; if it passes, unpaced is the
//     answer;
//   - a failing trial's delivered rate (what got through) is the next guess, a
//     little below it; a passing trial is followed by one a little above it,
//     the step doubling while trials pass; a guess outside the bracket is
//     replaced by the bracket's middle;
//   - the bracket holds the rates the sender achieved (a busy sender may offer
//     less than asked); the search stops when it is within 3%, then a test of
//     spec.Duration runs at the highest passing rate (lower, and again, while
//     it fails: 10% below the lesser of its offered and delivered rates, then
//     20%, then 40%; see confirmRate).
//
// The Result is the final test's, its link counters that test's alone, with the
// trials in Result.Search. When no rate passed, Search.Found is false and the
// Result is the last test's.
func (c *Client) FindMaxRate(ctx context.Context, spec TestSpec, maxLossPct float64) (Result, error) {
	search := &RateSearch{MaxLossPct: maxLossPct, MinFrames: minFrames(maxLossPct)}
	var last Result
	run := func(rate float64, d time.Duration, final bool) (SearchTrial, error) {
		if search.CapBps > 0 && (rate == 0 || rate > search.CapBps) {
			rate = search.CapBps
		}
		s := spec
		s.Duration, s.Bitrate = d, rate
		if !final {
			s.Interval = 0
		}
		if c.onStart != nil {
			c.onStart() // the result's link counters are its own test's alone
		}
		// Across an emulated link, each trial ends once the link's queue
		// has drained (RunOnLink's drain, before the fin): an overrun's
		// backlog never slows the next trial.
		r, err := c.RunTest(ctx, s)
		if limit := refusedOverRate(err); limit > 0 && search.CapBps == 0 && (rate == 0 || rate > limit) {
			// The server's --max-bitrate: search below it, from it.
			search.CapBps = limit
			s.Bitrate = limit
			rate = limit
			r, err = c.RunTest(ctx, s)
		}
		if err != nil {
			return SearchTrial{}, err
		}
		last = r
		t := judge(r, rate, maxLossPct, final)
		t.Final = final
		search.Trials = append(search.Trials, t)
		return t, nil
	}
	trialDur := max(spec.Duration/4, time.Second)
	best, ok, err := searchRate(ctx, search.MinFrames, func(rate float64) (SearchTrial, error) { return run(rate, trialDur, false) })
	if err != nil {
		return Result{}, err
	}
	if ok {
		search.Found, err = confirmRate(best, func(rate float64) (SearchTrial, bool, error) {
			t, err := run(rate, spec.Duration, true)
			return t, last.Error != "", err
		})
		if err != nil {
			return Result{}, err
		}
	}
	last.Search = search
	return last, nil
}

// confirmRate runs full-length tests (final) from the rate ask, the search's
// best, until one passes, at most finalAttempts; stop says a test ended in an
// error, which a lower rate will not mend. A test that fails is followed by
// one below the least of its offered, delivered and asked rates, 10% below
// and twice as far at each further failure: the short trials passed a rate
// that the full length did not hold, which on a receiver short of CPU (a
// loopback on two cores) is not a percent too high but a burst of loss every
// second or so, one that a short trial may miss; such loss falls steeply
// only well below the rate (loopback, 2 cores: 20G lost 4-12% of a second's
// test, 15G under 0.1%). An unpaced test (ask 0: its trial passed)
// that fails is followed by paced ones, below what it offered and delivered.
func confirmRate(ask float64, final func(rate float64) (t SearchTrial, stop bool, err error)) (bool, error) {
	down := finalBackoff
	for attempt := 0; attempt < finalAttempts; attempt++ {
		t, stop, err := final(ask)
		if err != nil {
			return false, err
		}
		if t.Pass || stop {
			return t.Pass, nil
		}
		base := min(t.OfferedBps, t.DeliveredBps)
		if ask > 0 { // 0: unpaced, which asked for no rate
			base = min(base, ask)
		}
		if base <= 0 {
			return false, nil
		}
		// A sender short of what it is asked for offers less again: ask
		// for the rate meant, divided by the share it achieved.
		ask = base * (1 - down) / t.senderShare()
		down = min(2*down, 0.5)
	}
	return false, nil
}

// senderShare is the share of its asked rate that a paced trial's sender
// offered, within 25% and 100%; 1 for an unpaced trial or one that offered
// nothing.
func (t SearchTrial) senderShare() float64 {
	if t.BitrateBps <= 0 || t.OfferedBps <= 0 {
		return 1
	}
	return min(1, max(0.25, t.OfferedBps/t.BitrateBps))
}

// judge turns a test's Result into a trial: what it offered and delivered and
// whether it passed.
func judge(r Result, rate, maxLossPct float64, final bool) SearchTrial {
	t := SearchTrial{BitrateBps: rate, LostPct: r.LostPct, Frames: r.SentFrames, DeliveredBps: r.deliveredBps}
	if r.OfferedBps != nil {
		t.OfferedBps = *r.OfferedBps
	}
	allowed := math.Floor(maxLossPct / 100 * float64(r.SentFrames))
	tol := deliveredTol
	if final {
		tol = finalDeliveredTol
	}
	t.Pass = r.Error == "" && r.SentFrames > 0 && float64(r.LostFrames) <= allowed &&
		t.DeliveredBps >= (1-tol)*t.OfferedBps
	return t
}

// deliveredRate is the frame bits per second a receiver took in: unique frames
// of size bytes over its span from first to last arrival (n frames span n-1
// gaps).
func deliveredRate(unique uint64, size int, span time.Duration) float64 {
	if unique < 2 || span <= 0 {
		return 0
	}
	return float64(unique-1) * float64(size) * 8 / span.Seconds()
}

// searchRate finds the highest passing rate by trials (see FindMaxRate) and
// returns the rate to ask for it. ok is false when no trial passed. An unpaced
// trial that passes gives 0, unpaced.
//
// The bracket holds the rates the sender achieved; a busy sender offers less
// than it is asked, so each guess is asked for divided by the share of the
// asked rate the last paced trial achieved.
//
// A failed trial that sent fewer than minFrames frames ends the search: below
// it trials are too short for their loss to say anything (a link that loses
// 5% at every rate passes a trial of 8 frames two times in three), so going
// lower would only find a rate by luck.
func searchRate(ctx context.Context, minFrames uint64, trial func(rate float64) (SearchTrial, error)) (ask float64, ok bool, err error) {
	first, err := trial(0)
	if err != nil || first.Pass {
		return 0, err == nil, err
	}
	lo, hi := 0.0, first.OfferedBps
	guess := first.DeliveredBps * (1 - bracketTol/3)
	step, eff := bracketTol, 1.0
	// down is how far below the bracket's top the next guess goes after a
	// failure: it doubles while trials keep failing, so a path that loses a
	// little too much at every rate near the top (a receiver short of CPU,
	// not a bottleneck that delivers less) is left in a few trials rather
	// than a percent at a time.
	down := bracketTol
	for i := 1; i < maxTrials; i++ {
		if lo > 0 && hi <= lo*(1+bracketTol) {
			break
		}
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		if !(guess > lo && guess < hi) || (lo > 0 && guess > hi/(1+bracketTol/2)) {
			guess = middle(lo, hi)
		}
		t, err := trial(guess / eff)
		if err != nil {
			return 0, false, err
		}
		got := t.OfferedBps
		if t.BitrateBps > 0 && got > 0 {
			eff = t.senderShare()
		}
		if t.Pass {
			lo = max(lo, got)
			guess, step, down = lo*(1+step), step*2, bracketTol
			continue
		}
		if t.Frames < minFrames {
			break
		}
		hi, step = min(hi, max(got, lo)), bracketTol
		if hi <= lo { // failed below a rate that passed: noise; widen
			hi = lo * (1 + 2*bracketTol)
		}
		// What got through, a little below it; and at least down below the
		// top of the bracket when everything nearly got through but a little
		// too much was lost.
		guess = min(t.DeliveredBps*(1-bracketTol/3), hi*(1-down))
		down = min(2*down, 0.5)
	}
	return lo / eff, lo > 0, nil
}

// middle is the middle of a bracket: geometric when it spans more than a
// factor of 4 (rates span orders of magnitude), else arithmetic.
func middle(lo, hi float64) float64 {
	if lo > 0 && hi/lo > 4 {
		return math.Sqrt(lo * hi)
	}
	if lo <= 0 {
		return hi / 4
	}
	return (lo + hi) / 2
}

// Tried lists a search's tests in one line, for a search that found nothing:
// "unpaced: offered 9.8G, delivered 50.1M, lost 99.5%; 49.7M: ...".
func (s *RateSearch) Tried(rate func(float64) string) string {
	var parts []string
	for _, t := range s.Trials {
		asked := "unpaced"
		if t.BitrateBps > 0 {
			asked = rate(t.BitrateBps)
		}
		if t.Final {
			asked += " (full length)"
		}
		parts = append(parts, fmt.Sprintf("%s: offered %s, delivered %s, lost %.3g%%", asked, rate(t.OfferedBps), rate(t.DeliveredBps), t.LostPct))
	}
	return strings.Join(parts, "; ")
}
