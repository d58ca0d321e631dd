package impair

import (
	"fmt"
	"math"
	"time"
)

// ConfigError says which setting of a Config is wrong, and why. It names
// Config's fields, so that a caller can name its own for them (a CLI flag).
type ConfigError struct {
	Field string // the Config field at fault, e.g. "Reorder"
	// Needs, when the fix is to set another field too, names it, e.g.
	// "Delay" for a reorder without a delay.
	Needs string
	Msg   string // what is wrong, in netem's words
}

// Error returns Msg, and with Needs the field to set.
func (e *ConfigError) Error() string {
	if e.Needs != "" {
		return e.Msg + "; set " + e.Needs
	}
	return e.Msg
}

func configErrorf(field, needs, format string, a ...any) *ConfigError {
	return &ConfigError{Field: field, Needs: needs, Msg: fmt.Sprintf(format, a...)}
}

// Validate checks the configuration. Its error is a *ConfigError naming the
// field at fault and the fix.
func (c Config) Validate() error {
	for _, check := range []func() *ConfigError{c.checkProbabilities, c.checkTimes, c.checkRate, c.checkNeeds, c.checkGates} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkProbabilities checks the fields that are probabilities.
func (c Config) checkProbabilities() *ConfigError {
	for _, x := range []struct {
		field, name string
		p           float64
	}{{"Reorder", "reorder", c.Reorder}, {"Duplicate", "duplicate", c.Duplicate}, {"Corrupt", "corrupt", c.Corrupt},
		{"DelayCorr", "delay correlation", c.DelayCorr}, {"ReorderCorr", "reorder correlation", c.ReorderCorr},
		{"DuplicateCorr", "duplicate correlation", c.DuplicateCorr}, {"CorruptCorr", "corrupt correlation", c.CorruptCorr}} {
		if math.IsNaN(x.p) || x.p < 0 || x.p > 1 {
			return configErrorf(x.field, "", "%s %v: want a probability from 0 to 1 (0%% to 100%%)", x.name, x.p)
		}
	}
	return nil
}

// checkTimes checks the delay, the jitter and the queue.
func (c Config) checkTimes() *ConfigError {
	for _, x := range []struct {
		field, name string
		d           time.Duration
	}{{"Delay", "delay", c.Delay}, {"Jitter", "jitter", c.Jitter}} {
		switch {
		case x.d < 0:
			return configErrorf(x.field, "", "%s must not be negative (%v)", x.name, x.d)
		case x.d > MaxDelay:
			return configErrorf(x.field, "", "%s must be at most %v (%v)", x.name, MaxDelay, x.d)
		}
	}
	switch {
	case c.ReorderGap < 0:
		return configErrorf("ReorderGap", "", "reorder gap must not be negative (%d)", c.ReorderGap)
	case c.QueueLimit < 0 || c.QueueLimit > MaxQueueLimit:
		return configErrorf("QueueLimit", "", "queue limit %d: must be from 0 (the default, %d) to %d packets", c.QueueLimit, DefaultQueueLimit, MaxQueueLimit)
	}
	return nil
}

// checkRate checks the rate and its packet overhead and cells.
func (c Config) checkRate() *ConfigError {
	const most = 1 << 16
	switch {
	case math.IsNaN(c.Rate) || c.Rate < 0:
		return configErrorf("Rate", "", "rate must not be negative (%v)", c.Rate)
	case c.RateOverhead < -L2Header-20 || c.RateOverhead > most:
		return configErrorf("RateOverhead", "", "rate packet overhead %d: must be from %d to %d bytes", c.RateOverhead, -L2Header-20, most)
	case c.CellSize < 0 || c.CellSize > most:
		return configErrorf("CellSize", "", "rate cell size %d: must be from 0 to %d bytes", c.CellSize, most)
	case c.CellOverhead < 0 || c.CellOverhead > most:
		return configErrorf("CellOverhead", "", "rate cell overhead %d: must be from 0 to %d bytes", c.CellOverhead, most)
	}
	return nil
}

// checkNeeds checks the settings that need another one: netem (iproute2)
// refuses them too.
func (c Config) checkNeeds() *ConfigError {
	switch {
	case c.Reorder > 0 && c.Delay == 0:
		return configErrorf("Reorder", "Delay", "reorder needs a delay (as in netem: packets are reordered by sending some at once, ahead of delayed ones)")
	case (c.RateOverhead != 0 || c.CellSize != 0 || c.CellOverhead != 0) && c.Rate == 0:
		return configErrorf("RateOverhead", "Rate", "packet overhead and cells shape a rate (as netem's rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]])")
	case c.CellOverhead != 0 && c.CellSize == 0:
		return configErrorf("CellOverhead", "CellSize", "a cell overhead needs a cell size")
	case c.ReorderGap > 1 && c.Reorder == 0:
		return configErrorf("ReorderGap", "Reorder", "reorder gap without a reorder probability (as iproute2 refuses it)")
	case c.Distribution != DistUniform && c.Jitter == 0:
		return configErrorf("Distribution", "Jitter", "a distribution without jitter (as iproute2 refuses it: \"distribution specified but no latency and jitter values\")")
	}
	return nil
}
