package report

import (
	"errors"
	"fmt"
	"math"

	"github.com/netduel/netduel/duel"
)

// maxSavedBps bounds a saved rate: above a petabit per second no netduel run
// wrote it.
const maxSavedBps = 1e15

// checkSaved refuses a saved report whose figures no run could have written
// (a crafted or damaged file): negative or absurd rates and times, loss
// outside 0..100%, more frames counted than were sent. The client checks a
// server's report the same way (duel's validate.go); a file is no more
// trusted than a server.
func checkSaved(rep *duel.Report) error {
	if len(rep.Results) == 0 && rep.Error == "" {
		return errors.New("no results and no error: not a report netduel wrote (a run that ran no test says why)")
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		if _, ok := duel.LookupKind(r.Proto, r.Test); !ok {
			// A table would leave it out without a word.
			return fmt.Errorf("result %d: proto %q, test %q is no netduel test: not a report netduel wrote", i+1, r.Proto, r.Test)
		}
		if err := checkSavedResult(r); err != nil {
			return fmt.Errorf("result %d (%s): %w", i+1, duel.KindName(r.Proto, r.Test), err)
		}
	}
	return nil
}

func checkSavedResult(r *duel.Result) error {
	type figure struct {
		name   string
		v, max float64
	}
	figs := []figure{
		{"duration_s", r.DurationS, 366 * 24 * 3600}, {"lost_pct", r.LostPct, 100}, {"goodput_bps", r.GoodputBps, maxSavedBps},
	}
	for _, p := range []struct {
		name string
		v    *float64
	}{{"offered_bps", r.OfferedBps}, {"requested_bps", r.RequestedBps}} {
		if p.v != nil {
			figs = append(figs, figure{p.name, *p.v, maxSavedBps})
		}
	}
	if r.RTT != nil {
		for _, q := range []struct {
			name string
			v    float64
		}{{"min", r.RTT.Min}, {"mean", r.RTT.Mean}, {"p50", r.RTT.P50}, {"p90", r.RTT.P90}, {"p99", r.RTT.P99}, {"p999", r.RTT.P999}, {"max", r.RTT.Max}} {
			figs = append(figs, figure{"rtt_us." + q.name, q.v, 3600e6})
		}
	}
	if j := r.Jitter; j != nil {
		figs = append(figs, figure{"jitter_ms.mean", j.MeanMs, 3600e3}, figure{"jitter_ms.max", j.MaxMs, 3600e3}, figure{"jitter_ms.last", j.LastMs, 3600e3})
	}
	for _, f := range figs {
		if math.IsNaN(f.v) || f.v < 0 || f.v > f.max {
			return fmt.Errorf("%s %g is outside 0..%g: not a report netduel wrote", f.name, f.v, f.max)
		}
	}
	switch {
	case r.LostFrames > r.SentFrames:
		return fmt.Errorf("lost_frames %d > sent_frames %d: not a report netduel wrote", r.LostFrames, r.SentFrames)
	case r.SentFrames <= math.MaxUint64/2 && r.ReceivedFrames > 2*r.SentFrames:
		return fmt.Errorf("received_frames %d: more than twice the %d sent (a duplicating link's most): not a report netduel wrote", r.ReceivedFrames, r.SentFrames)
	}
	return nil
}
