package impair

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// pipeCheck is what a Pipe measures for the self-check (under its lock): the
// delay each delivered copy got (its hand-over minus its arrival: the
// model's delay plus the pipe's lateness), and the spacing of copies the rate
// sent back to back, over runs of them at least minRateRun long.
//
// A run, not each copy: a copy's spacing from the one before is its
// serialisation time plus the difference of the two hand-overs' lateness,
// which does not cancel out when runs are short. A jittered link's return
// direction sends bursts of a few ACKs back to back at 20 µs each (30
// Mbit/s), where a hand-over's few µs of lateness read as a rate of 20
// Mbit/s; over a run only its ends' lateness counts.
type pipeCheck struct {
	delay *hdrhistogram.Histogram // ns, reordered copies left out
	base  Tally                   // the link's trials at the last reset
	last  time.Duration           // the previous hand-over
	rateN uint64
	bytes uint64        // Σ the rate's length of back-to-back copies, in runs kept
	gaps  time.Duration // Σ their runs' actual length
	run   rateRun       // the run of back-to-back copies under way
}

// minRateRun is the shortest run of back-to-back copies the rate is judged
// over: a hand-over's lateness (µs) is then a small part of it.
const minRateRun = time.Millisecond

// rateRun is a run of copies the rate sent back to back.
type rateRun struct {
	from, to time.Duration // the hand-over before its first copy, and its last's
	n, bytes uint64
}

// kept says whether the run is long enough to judge the rate over.
func (r rateRun) kept() bool { return r.n > 0 && r.to-r.from >= minRateRun }

// endRun counts the run under way, if long enough, and starts none.
func (c *pipeCheck) endRun() {
	if r := c.run; r.kept() {
		c.rateN += r.n
		c.bytes += r.bytes
		c.gaps += r.to - r.from
	}
	c.run = rateRun{}
}

// newDelayHist records delays in ns, to 1 µs at least (about 150 KiB where
// 1 ns would take 225) and two minutes at most (delay plus jitter), 3
// significant digits.
func newDelayHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(int64(time.Microsecond), int64(2*MaxDelay), 3)
}

// delivered records a copy handed on at now.
func (c *pipeCheck) delivered(cfg Config, now time.Duration, it pending) {
	gated := cfg.gated() // slots and traces hold packets beyond the model's delay and rate
	if !it.reordered && !gated {
		_ = c.delay.RecordValue(max(1, int64(now-it.at)))
	}
	if it.spaced > 0 && !gated {
		if c.run.n == 0 {
			c.run.from = c.last
		}
		c.run.n++
		c.run.bytes += uint64(cfg.rateBytes(len(it.pkt)))
		c.run.to = now
	} else {
		c.endRun()
	}
	c.last = now
}

func (c *pipeCheck) reset(t Tally) {
	c.delay.Reset()
	c.base = t
	c.rateN, c.bytes, c.gaps = 0, 0, 0
	c.run = rateRun{}
}

// Tally returns the self-check's counts since the last ResetLateness: the
// link's trials, the delivered copies' delay quantiles and the rate's
// spacing. Check judges them.
func (p *Pipe) Tally() Tally {
	if p.pass {
		return Tally{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.model.t.sub(p.check.base)
	if n := p.check.delay.TotalCount(); n > 0 {
		t.DelayN = uint64(n)
		t.DelayP50 = time.Duration(p.check.delay.ValueAtQuantile(50))
		t.DelayP99 = time.Duration(p.check.delay.ValueAtQuantile(99))
	}
	t.RateN, t.RateBytes, t.RateActual = p.check.rateN, p.check.bytes, p.check.gaps
	if r := p.check.run; r.kept() { // the run under way
		t.RateN, t.RateBytes, t.RateActual = t.RateN+r.n, t.RateBytes+r.bytes, t.RateActual+r.to-r.from
	}
	return t
}
