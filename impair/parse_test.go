package impair

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParsePercent(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"5%", 0.05, ""},
		{"5", 0.05, ""},
		{" 0.1% ", 0.001, ""},
		{"0", 0, ""},
		{"100", 1, ""},
		{"100%", 1, ""},
		{"100.5", 0, "outside 0-100%"},
		{"-1%", 0, "outside 0-100%"},
		{"abc", 0, "not a percentage"},
		{"", 0, "not a percentage"},
		{"NaN", 0, "not a percentage"},
		{"Inf", 0, "not a percentage"},
		{"5%%", 0, "not a percentage"},
	} {
		got, err := ParsePercent(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePercent(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseLossModel(t *testing.T) {
	for _, tc := range []struct {
		in     string
		str    string  // String(): netem syntax
		mean   float64 // long-run loss
		errHas string
	}{
		{"1%", "random 1%", 0.01, ""},
		{"random 2.5", "random 2.5%", 0.025, ""},
		// p13 alone: iproute2 sets p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0,
		// which is Bernoulli loss with p13.
		{"state 5%", "state 5% 95% 0% 100% 0%", 0.05, ""},
		// Bursts: enter with 1%, leave with 30%: loss = π3 = p13 / (p13 + p31).
		{"state 1% 30%", "state 1% 30% 0% 100% 0%", 0.01 / 0.31, ""},
		// Isolated losses only: state 4 with p14 = 2%: π4 = p14 / (1 + p14).
		{"state 0 0 0 100 2", "state 0% 0% 0% 100% 2%", 0.02 / 1.02, ""},
		// gemodel p alone: r = 1 - p, 1-h = 100%, 1-k = 0.
		{"gemodel 1%", "gemodel 1% 99% 100% 0%", 0.01, ""},
		// Mean burst 1/r = 4 packets: loss = p / (p + r).
		{"gemodel 1% 25%", "gemodel 1% 25% 100% 0%", 0.01 / 0.26, ""},
		// Bad state loses 50%, good 0.1%.
		{"gemodel 2 20 50 0.1", "gemodel 2% 20% 50% 0.1%", (20.0/22)*0.001 + (2.0/22)*0.5, ""},
		{"", "", 0, "empty loss model"},
		{"random", "", 0, "optional correlation"},
		// netem's 'loss random P CORR' (and 'loss P CORR').
		{"random 1 2", "random 1% 2%", 0.01, ""},
		{"1% 25%", "random 1% 25%", 0.01, ""},
		{"random 1 2 3", "", 0, "optional correlation"},
		{"state", "", 0, "1 to 5"},
		{"state 1 2 3 4 5 6", "", 0, "1 to 5"},
		{"state 60 50 60", "", 0, "at most 100%"},
		{"gemodel 1 2 3 4 5", "", 0, "1 to 4"},
		{"gemodel 101", "", 0, "outside 0-100%"},
		{"bogus 1", "", 0, `loss model "bogus" is not random, state or gemodel`}, // said: loss random: "bogus" is not a percentage
	} {
		m, err := ParseLossModel(tc.in)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("ParseLossModel(%q): err %v, want %q", tc.in, err, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLossModel(%q): %v", tc.in, err)
			continue
		}
		if m.String() != tc.str {
			t.Errorf("ParseLossModel(%q).String() = %q, want %q", tc.in, m.String(), tc.str)
		}
		if math.Abs(m.Mean()-tc.mean) > 1e-9 {
			t.Errorf("ParseLossModel(%q).Mean() = %v, want %v", tc.in, m.Mean(), tc.mean)
		}
		// Round trip: the netem line parses back to the same model.
		back, err := ParseLossModel(m.String())
		if err != nil || back.String() != m.String() {
			t.Errorf("%q does not round-trip: %v, %v", m.String(), back, err)
		}
	}
}

func TestParseDistribution(t *testing.T) {
	for in, want := range map[string]Distribution{
		"uniform": DistUniform, "": DistUniform, "normal": DistNormal, "Pareto": DistPareto, "paretonormal": DistParetoNormal,
	} {
		got, err := ParseDistribution(in)
		if err != nil || got != want {
			t.Errorf("ParseDistribution(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDistribution("gaussian"); err == nil || !strings.Contains(err.Error(), "want uniform, normal, pareto or paretonormal") {
		t.Errorf("gaussian: %v", err)
	}
}

func TestConfigValidateAndNetem(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		netem string
		err   string
	}{
		{"nothing", Config{}, "", ""},
		{"profile lossy", Config{Loss: RandomLoss(0.01), Delay: 20 * time.Millisecond}, "delay 20ms loss random 1%", ""},
		{"jitter normal", Config{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Distribution: DistNormal},
			"delay 20ms 5ms distribution normal", ""},
		{"everything", Config{Delay: 1500 * time.Microsecond, Duplicate: 0.01, Corrupt: 0.001, Reorder: 0.25, ReorderGap: 5,
			Rate: 100e6, QueueLimit: 50}, "delay 1500us duplicate 1% corrupt 0.1% reorder 25% gap 5 rate 100mbit limit 50", ""},
		{"rate kbit", Config{Rate: 56e3}, "rate 56kbit", ""},
		{"rate gbit", Config{Rate: 2.5e9}, "rate 2500mbit", ""},
		{"rate overhead cells", Config{Rate: 2e6, RateOverhead: -14, CellSize: 53, CellOverhead: 5}, "rate 2mbit -14 53 5", ""},
		{"rate overhead", Config{Rate: 10e6, RateOverhead: 20}, "rate 10mbit 20", ""},
		{"overhead without rate", Config{RateOverhead: 20}, "", "shape a rate"},
		{"gap without reorder", Config{Delay: time.Millisecond, ReorderGap: 5}, "", "reorder gap without"},
		{"distribution without jitter", Config{Delay: time.Millisecond, Distribution: DistPareto}, "", "distribution without jitter"},
		{"huge jitter", Config{Delay: time.Millisecond, Jitter: 2562047 * time.Hour}, "", "at most"},
		{"huge queue", Config{QueueLimit: MaxQueueLimit + 1}, "", "queue limit"},
		{"reorder without delay", Config{Reorder: 0.1}, "", "reorder needs a delay"},
		{"duplicate > 1", Config{Duplicate: 1.5}, "", "duplicate 1.5: want a probability"},
		{"corrupt NaN", Config{Corrupt: math.NaN()}, "", "corrupt NaN"},
		{"negative delay", Config{Delay: -time.Millisecond}, "", "must not be negative"},
		{"negative rate", Config{Rate: -1}, "", "rate must not be negative"},
		{"negative queue", Config{QueueLimit: -1}, "", "queue limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Validate: %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.cfg.Netem(); got != tc.netem {
				t.Errorf("Netem() = %q, want %q", got, tc.netem)
			}
			if tc.cfg.Enabled() != (tc.netem != "") {
				t.Errorf("Enabled() = %v for %q", tc.cfg.Enabled(), tc.netem)
			}
		})
	}
}

func FuzzParseLossModel(f *testing.F) {
	for _, s := range []string{"1%", "random 5", "state 1 30 10 90 1", "gemodel 1% 25% 70% 0.1%", "state 60 50 60", "", "gemodel -1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseLossModel(s)
		if err != nil {
			return
		}
		if mean := m.Mean(); math.IsNaN(mean) || mean < 0 || mean > 1 {
			t.Fatalf("%q: mean %v", s, mean)
		}
		if _, err := ParseLossModel(m.String()); err != nil {
			t.Fatalf("%q: String %q does not parse: %v", s, m.String(), err)
		}
	})
}

// TestParseLossModelWrapsPercent: a bad value's error wraps ParsePercent's
// (it used %v and lost the chain).
func TestParseLossModelWrapsPercent(t *testing.T) {
	t.Parallel()
	_, want := ParsePercent("x")
	_, err := ParseLossModel("gemodel x")
	if got := errors.Unwrap(err); got == nil || got.Error() != want.Error() {
		t.Fatalf("ParseLossModel: %v; unwrapped %v, want %v", err, got, want)
	}
}
