package impair

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// TraceMTU is what one delivery opportunity of a trace carries, in IP
// bytes: one MTU-sized packet (mahimahi's), or several smaller ones.
const TraceMTU = 1500

// MaxTraceLines bounds a trace file (8 bytes of memory a line).
const MaxTraceLines = 1 << 22

// Trace is a mahimahi-format delivery trace: the times, from the link's
// start, of its delivery opportunities, each able to carry TraceMTU bytes
// of the packets due by then (a packet larger than TraceMTU takes one whole
// opportunity); an opportunity nothing is due for goes unused. After the
// last one the trace repeats, shifted by its time (Period), as mahimahi
// replays it. It replaces the rate: the link's delay, loss and the rest
// apply before it, and the queue limit counts the packets waiting for an
// opportunity.
type Trace struct {
	Name   string          // where it came from (the file's name)
	Opps   []time.Duration // non-decreasing; several at one time are several opportunities
	Period time.Duration   // the last opportunity's time (> 0)
}

// TraceError says which line of a trace is wrong.
type TraceError struct {
	Line int // 1-based; 0: the file as a whole
	Msg  string
}

func (e *TraceError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// LoadTrace reads a trace file (see ParseTrace).
func LoadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTrace(f, path)
}

// ParseTrace reads a mahimahi trace: one line per delivery opportunity, a
// whole number of milliseconds since the start, non-decreasing, the last
// above 0. Its error is a *TraceError naming the line at fault.
func ParseTrace(r io.Reader, name string) (*Trace, error) {
	t := &Trace{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	var last int64
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		ms, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil || ms < 0:
			return nil, &TraceError{line, fmt.Sprintf("%q is not a whole number of milliseconds (one delivery opportunity a line)", s)}
		case ms < last:
			return nil, &TraceError{line, fmt.Sprintf("%d ms is before the previous line's %d ms: times must not decrease", ms, last)}
		case ms > int64(24*time.Hour/time.Millisecond):
			return nil, &TraceError{line, fmt.Sprintf("%d ms is over a day", ms)}
		case len(t.Opps) == MaxTraceLines:
			return nil, &TraceError{line, fmt.Sprintf("more than %d lines", MaxTraceLines)}
		}
		last = ms
		t.Opps = append(t.Opps, time.Duration(ms)*time.Millisecond)
	}
	if err := sc.Err(); err != nil {
		return nil, &TraceError{line + 1, err.Error()}
	}
	switch {
	case len(t.Opps) == 0:
		return nil, &TraceError{0, "the trace is empty: want one line per delivery opportunity, in ms since the start"}
	case last == 0:
		return nil, &TraceError{line, "the trace must last more than 0 ms (its last line is its period)"}
	}
	t.Period = t.Opps[len(t.Opps)-1]
	return t, nil
}

// Rate is the trace's mean capacity in bits per second: TraceMTU bytes
// per opportunity, over one period.
func (t *Trace) Rate() float64 {
	return float64(len(t.Opps)) * TraceMTU * 8 / t.Period.Seconds()
}

// traceGate walks a trace's opportunities: the current one (index k in the
// period that starts at base) and the bytes it has left.
type traceGate struct {
	t      *Trace
	k      int
	base   time.Duration
	budget int
}

func newTraceGate(t *Trace) *traceGate { return &traceGate{t: t, budget: TraceMTU} }

func (g *traceGate) cur() time.Duration { return g.base + g.t.Opps[g.k] }

func (g *traceGate) advance() {
	if g.k++; g.k == len(g.t.Opps) {
		g.k, g.base = 0, g.base+g.t.Period
	}
	g.budget = TraceMTU
}

// admit: the head packet takes the first opportunity at or after it is
// due with room for it (a fresh one for a packet over TraceMTU).
func (g *traceGate) admit(now, due time.Duration, size int) (bool, time.Duration) {
	if c := g.cur(); c < due {
		if n := (due - c) / g.t.Period; n > 0 { // idle for whole periods
			g.base += n * g.t.Period
			g.budget = TraceMTU
		}
		for g.cur() < due {
			g.advance()
		}
	}
	if size > g.budget && g.budget < TraceMTU {
		g.advance()
	}
	at := g.cur()
	if at > now {
		return false, at
	}
	g.budget -= size
	return true, at
}

// String describes the trace for people: its file, opportunities per
// period and mean rate.
func (t *Trace) String() string {
	return fmt.Sprintf("%s: %d opportunities in %v, mean %.2f Mbit/s", t.Name, len(t.Opps), t.Period, t.Rate()/1e6)
}

// Describe is the configuration's netem arguments, followed by what netem
// cannot express (a delivery trace); empty for a link that does nothing.
func (c Config) Describe() string {
	s := c.Netem()
	if c.Trace != nil {
		if s != "" {
			s += "; "
		}
		s += "delivery trace " + c.Trace.String()
	}
	return s
}
