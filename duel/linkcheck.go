package duel

import (
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// LinkCheck is the emulated link's self-check: per direction, what the link
// did against what was configured, each figure with its 99.9% interval (see
// impair.Check). OK is false when any figure is outside its interval.
type LinkCheck struct {
	Up   DirectionCheck `json:"client_to_server"`
	Down DirectionCheck `json:"server_to_client"`
	OK   bool           `json:"ok"`
}

// DirectionCheck is one direction's self-check; a figure is absent when it
// was not configured or the link made no trial of it (delay with a rate set;
// a rate the link never reached, with fewer than 100 packets back to back).
type DirectionCheck struct {
	Loss      *CheckFigure `json:"loss_pct,omitempty"`
	DelayP50  *CheckFigure `json:"delay_p50_ms,omitempty"`
	DelayP99  *CheckFigure `json:"delay_p99_ms,omitempty"`
	Rate      *CheckFigure `json:"rate_bps,omitempty"`
	Duplicate *CheckFigure `json:"duplicate_pct,omitempty"`
	Reorder   *CheckFigure `json:"reorder_pct,omitempty"`
	Corrupt   *CheckFigure `json:"corrupt_pct,omitempty"`
	OK        bool         `json:"ok"`
}

// CheckFigure is one self-check figure, in its field's unit (percent, ms,
// bit/s): the configured value, the measured one, the interval it must fall
// in, whether it does, and the trials or samples it rests on.
type CheckFigure struct {
	Configured float64 `json:"configured"`
	Measured   float64 `json:"measured"`
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
	OK         bool    `json:"ok"`
	N          uint64  `json:"n"`
}

// CheckLink is the self-check of what l did since its last ResetLateness; nil
// for a link with nothing to impair (or emulator none).
func CheckLink(l *link.Link) *LinkCheck {
	if !l.Config.Enabled() || l.Backend == link.None {
		return nil
	}
	up, down := l.Tally()
	return linkCheck(l.Config, up, down)
}

// linkCheck runs the self-check on both directions' tallies.
func linkCheck(cfg impair.Config, up, down impair.Tally) *LinkCheck {
	u, d := directionCheck(impair.Check(cfg, up)), directionCheck(impair.Check(cfg, down))
	return &LinkCheck{Up: u, Down: d, OK: u.OK && d.OK}
}

func directionCheck(s impair.SelfCheck) DirectionCheck {
	f := func(x *impair.Figure, scale float64) *CheckFigure {
		if x == nil {
			return nil
		}
		return &CheckFigure{Configured: x.Configured * scale, Measured: x.Measured * scale,
			Low: x.Low * scale, High: x.High * scale, OK: x.OK, N: x.N}
	}
	return DirectionCheck{
		Loss: f(s.Loss, 100), DelayP50: f(s.DelayP50, 1e3), DelayP99: f(s.DelayP99, 1e3), Rate: f(s.Rate, 1),
		Duplicate: f(s.Duplicate, 100), Reorder: f(s.Reorder, 100), Corrupt: f(s.Corrupt, 100), OK: s.OK(),
	}
}
