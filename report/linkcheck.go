package report

import (
	"fmt"
	"strings"

	"github.com/netduel/netduel/duel"
)

// linkCheckLines renders the link's self-check, one line per direction, e.g.
// "self-check →: loss 0.98% (1% in 0.62-1.4) ok; delay p50 5.06 ms (5 ms in
// 4.99-5.11) ok", with FAIL on any figure outside its interval.
func linkCheckLines(c *duel.LinkCheck, st Style) []string {
	if c == nil {
		return nil
	}
	var lines []string
	for _, d := range []struct {
		arrow string
		c     duel.DirectionCheck
	}{{"→", c.Up}, {"←", c.Down}} {
		var parts []string
		for _, x := range []struct {
			name string
			f    *duel.CheckFigure
			unit func(float64) string
		}{
			{"loss", d.c.Loss, pctFig}, {"delay p50", d.c.DelayP50, msFig}, {"delay p99", d.c.DelayP99, msFig},
			{"rate", d.c.Rate, Rate}, {"duplicate", d.c.Duplicate, pctFig}, {"reorder", d.c.Reorder, pctFig},
			{"corrupt", d.c.Corrupt, pctFig},
		} {
			if x.f == nil {
				continue
			}
			verdict := st.good("ok")
			if !x.f.OK {
				verdict = st.bad("FAIL")
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s in %s–%s, n %d) %s", x.name, x.unit(x.f.Measured),
				x.unit(x.f.Configured), x.unit(x.f.Low), x.unit(x.f.High), x.f.N, verdict))
		}
		if len(parts) == 0 {
			continue
		}
		lines = append(lines, "self-check "+d.arrow+": "+strings.Join(parts, "; "))
	}
	return lines
}

func pctFig(v float64) string { return fmt.Sprintf("%.3g%%", v) }

func msFig(v float64) string { return fmt.Sprintf("%.4g ms", v) }
