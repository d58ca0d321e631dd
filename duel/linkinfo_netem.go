package duel

import "github.com/netduel/netduel/impair"

// TraceInfo describes a link's delivery trace (--trace): the file, its
// opportunities in one period, the period, and the mean rate it offers.
type TraceInfo struct {
	File          string  `json:"file"`
	Opportunities int     `json:"opportunities"` // per period, each up to 1500 bytes
	PeriodMs      float64 `json:"period_ms"`     // the trace repeats after it
	MeanBps       float64 `json:"mean_bps"`      // 1500-byte packets at every opportunity, bits/s
}

// netemExtras are LinkInfo's slot, ecn and trace for a configuration.
func netemExtras(c impair.Config) (slot string, ecn bool, tr *TraceInfo) {
	if c.Slot.Enabled() {
		slot = c.Slot.String()
	}
	if t := c.Trace; t != nil {
		tr = &TraceInfo{File: t.Name, Opportunities: len(t.Opps), PeriodMs: float64(t.Period.Microseconds()) / 1000, MeanBps: t.Rate()}
	}
	return slot, c.ECN, tr
}
