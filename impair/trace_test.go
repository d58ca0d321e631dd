package impair

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTraceErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		line int
		msg  string
	}{
		{"", 0, "empty"},
		{"1\n2\nx\n", 3, `"x" is not a whole number`},
		{"1\n\n2\n", 2, `"" is not a whole number`},
		{"1\n5\n3\n", 3, "before the previous line's 5 ms"},
		{"0\n0\n", 2, "more than 0 ms"},
		{"1\n-2\n", 2, "not a whole number"},
		{"1.5\n", 1, "not a whole number"},
		{"1\n" + strings.Repeat("9", 5000) + "\n", 2, "too long"},
	} {
		_, err := ParseTrace(strings.NewReader(tc.in), "t")
		var te *TraceError
		if !errors.As(err, &te) || te.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v; want line %d and %q", tc.in, err, tc.line, tc.msg)
		}
	}
	tr, err := ParseTrace(strings.NewReader("1\n1\n 3 \n7\n10"), "t")
	if err != nil || !slices.Equal(tr.Opps, []time.Duration{1e6, 1e6, 3e6, 7e6, 10e6}) || tr.Period != 10*time.Millisecond {
		t.Errorf("%+v %v", tr, err)
	}
}

// TestTraceDeliveries: packets leave exactly at the trace's opportunities,
// repeating after the last; each opportunity carries up to TraceMTU bytes;
// opportunities nothing was due for go unused. Tried on biased models:
// repeating after last+1 ms, carrying one packet per opportunity whatever
// its size, or letting a packet use an opportunity from before it arrived
// each fail a case.
func TestTraceDeliveries(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tr, err := ParseTrace(strings.NewReader("1\n1\n3\n7\n10\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		arr  []arrival
		want []time.Duration
	}{
		{"saturated MTU packets", Config{Trace: tr}, saturated(12, 1500),
			[]time.Duration{1 * ms, 1 * ms, 3 * ms, 7 * ms, 10 * ms, 11 * ms, 11 * ms, 13 * ms, 17 * ms, 20 * ms, 21 * ms, 21 * ms}},
		{"three 500-byte packets an opportunity", Config{Trace: tr}, saturated(7, 500),
			[]time.Duration{1 * ms, 1 * ms, 1 * ms, 1 * ms, 1 * ms, 1 * ms, 3 * ms}},
		{"no room for the next: a fresh opportunity", Config{Trace: tr}, []arrival{{0, 1000}, {0, 1000}, {0, 400}},
			[]time.Duration{1 * ms, 1 * ms, 1 * ms}},
		{"idle opportunities unused", Config{Trace: tr}, []arrival{{2 * ms, 100}, {55 * ms, 100}, {1000*ms + 500*time.Microsecond, 1500}},
			[]time.Duration{3 * ms, 57 * ms, 1001 * ms}},
		{"after the delay", Config{Trace: tr, Delay: 5 * ms}, []arrival{{0, 1500}, {0, 1500}},
			[]time.Duration{7 * ms, 10 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []time.Duration
			for _, d := range runGated(NewModel(tc.cfg, seeded(1)), tc.arr) {
				got = append(got, d.at)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("departures %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTraceRateLong: over many periods a saturated link delivers
// TraceMTU bytes at every opportunity: the achieved rate is the trace's.
func TestTraceRateLong(t *testing.T) {
	t.Parallel()
	tr, err := LoadTrace("../testdata/cellular.trace")
	if err != nil {
		t.Fatal(err)
	}
	n := 3*len(tr.Opps) + 7
	deps := runGated(NewModel(Config{Trace: tr, QueueLimit: MaxQueueLimit}, seeded(1)), saturated(n, 1500))
	for i, d := range deps {
		want := tr.Opps[i%len(tr.Opps)] + time.Duration(i/len(tr.Opps))*tr.Period
		if d.at != want {
			t.Fatalf("packet %d leaves at %v, the trace's opportunity is at %v", i, d.at, want)
		}
	}
}
