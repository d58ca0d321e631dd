package impair

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSlot(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		in, netem string
		want      Slot
	}{
		{"10ms", "10ms 10ms", Slot{Min: 10 * ms, Max: 10 * ms}},
		{"10ms 30ms", "10ms 30ms", Slot{Min: 10 * ms, Max: 30 * ms}},
		{"800us 1.2ms packets 8 bytes 64k", "800us 1200us packets 8 bytes 65536", Slot{Min: 800 * time.Microsecond, Max: 1200 * time.Microsecond, Packets: 8, Bytes: 64 << 10}},
		{"10msec 20 bytes 3000", "10ms 20us bytes 3000", Slot{Min: 10 * ms, Max: 20 * time.Microsecond, Bytes: 3000}},
		{"distribution pareto 20ms 5ms packets 4", "distribution pareto 20ms 5ms packets 4", Slot{Dist: DistPareto, Delay: 20 * ms, Jitter: 5 * ms, Packets: 4}},
	} {
		got, err := ParseSlot(tc.in)
		if err != nil || got != tc.want || got.String() != tc.netem {
			t.Errorf("%q: %+v %v (%q); want %+v (%q)", tc.in, got, err, got.String(), tc.want, tc.netem)
		}
	}
	for _, tc := range []struct{ in, err string }{
		{"", "empty"},
		{"soon", `MIN "soon"`},
		{"10ms x", `MAX "x"`},
		{"10ms packets", "packets needs a number"},
		{"10ms packets 0", `packets "0"`},
		{"10ms bytes 2 packets 3", `"packets 3": unexpected`},
		{"distribution normal 10ms", "needs DIST DELAY JITTER"},
		{"distribution uniform 10ms 5ms", `distribution "uniform"`},
		{"distribution normal 10ms 0", `jitter "0"`},
		{"10ms 20ms 30ms", `"30ms": unexpected`},
	} {
		if _, err := ParseSlot(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v; want %q", tc.in, err, tc.err)
		}
	}
}

// TestGateConfigErrors: the slot, trace and ECN settings iproute2 (or
// sense) refuses name the field.
func TestGateConfigErrors(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tr := &Trace{Opps: []time.Duration{ms}, Period: ms}
	loss, _ := ParseLossModel("random 1%")
	for _, tc := range []struct {
		cfg          Config
		field, needs string
	}{
		{Config{Slot: Slot{Min: 20 * ms, Max: 10 * ms}}, "Slot", ""},
		{Config{Slot: Slot{Min: -ms, Max: ms}}, "Slot", ""},
		{Config{Slot: Slot{Min: 2 * MaxDelay, Max: 2 * MaxDelay}}, "Slot", ""},
		{Config{Slot: Slot{Packets: 3}}, "Slot", ""},
		{Config{Slot: Slot{Dist: DistNormal, Delay: ms}}, "Slot", ""},
		{Config{Trace: tr, Rate: 1e6}, "Trace", ""},
		{Config{Trace: tr, Slot: Slot{Min: ms, Max: ms}}, "Trace", ""},
		{Config{ECN: true}, "ECN", "Loss"},
	} {
		var ce *ConfigError
		if err := tc.cfg.Validate(); !errors.As(err, &ce) || ce.Field != tc.field || ce.Needs != tc.needs {
			t.Errorf("%+v: %v; want field %s needs %q", tc.cfg, err, tc.field, tc.needs)
		}
	}
	for _, c := range []Config{{Slot: Slot{Min: ms, Max: 2 * ms, Packets: 3}}, {Trace: tr, Delay: ms}, {Loss: loss, ECN: true}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
		if !c.Enabled() {
			t.Errorf("%+v: not enabled", c)
		}
	}
	if got := (Config{Loss: loss, ECN: true, Slot: Slot{Min: ms, Max: 2 * ms}}).Netem(); got != "loss random 1% ecn slot 1ms 2ms" {
		t.Errorf("netem %q", got)
	}
}
