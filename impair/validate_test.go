package impair

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestValidateNamesTheField: each refusal is a *ConfigError naming the Config
// field at fault and, when the fix is another field, that one; no message
// names a CLI flag.
func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg          Config
		field, needs string
	}{
		{Config{Reorder: 1.5}, "Reorder", ""},
		{Config{Duplicate: -0.1}, "Duplicate", ""},
		{Config{Corrupt: math.NaN()}, "Corrupt", ""},
		{Config{Delay: time.Millisecond, DelayCorr: 2}, "DelayCorr", ""},
		{Config{Delay: time.Millisecond, Reorder: 0.1, ReorderCorr: 2}, "ReorderCorr", ""},
		{Config{DuplicateCorr: -1}, "DuplicateCorr", ""},
		{Config{CorruptCorr: 1.1}, "CorruptCorr", ""},
		{Config{Delay: -time.Millisecond}, "Delay", ""},
		{Config{Delay: 2 * MaxDelay}, "Delay", ""},
		{Config{Delay: time.Millisecond, Jitter: -1}, "Jitter", ""},
		{Config{Delay: time.Millisecond, Jitter: MaxDelay + 1}, "Jitter", ""},
		{Config{ReorderGap: -1}, "ReorderGap", ""},
		{Config{QueueLimit: MaxQueueLimit + 1}, "QueueLimit", ""},
		{Config{Rate: math.NaN()}, "Rate", ""},
		{Config{Rate: 1e6, RateOverhead: -35}, "RateOverhead", ""},
		{Config{Rate: 1e6, CellSize: 1<<16 + 1}, "CellSize", ""},
		{Config{Rate: 1e6, CellSize: 53, CellOverhead: -1}, "CellOverhead", ""},
		{Config{Reorder: 0.1}, "Reorder", "Delay"},
		{Config{CellSize: 53}, "RateOverhead", "Rate"},
		{Config{Rate: 1e6, CellOverhead: 5}, "CellOverhead", "CellSize"},
		{Config{Delay: time.Millisecond, ReorderGap: 5}, "ReorderGap", "Reorder"},
		{Config{Delay: time.Millisecond, Distribution: DistNormal}, "Distribution", "Jitter"},
	} {
		err := tc.cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || ce.Needs != tc.needs {
			t.Errorf("%+v: %#v, want a ConfigError on %s needing %q", tc.cfg, err, tc.field, tc.needs)
			continue
		}
		if strings.Contains(err.Error(), "--") || (tc.needs != "" && !strings.HasSuffix(err.Error(), "; set "+tc.needs)) {
			t.Errorf("%s: %q", tc.field, err)
		}
	}
	if err := (Config{Delay: time.Millisecond, Jitter: time.Millisecond, Distribution: DistPareto, Reorder: 0.1, ReorderGap: 3,
		Rate: 1e6, RateOverhead: -14, CellSize: 53, CellOverhead: 5, QueueLimit: 10}).Validate(); err != nil {
		t.Errorf("a full, valid config: %v", err)
	}
}
