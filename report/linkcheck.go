package report

import (
	"fmt"
	"strings"

	"github.com/netduel/netduel/duel"
)

// linkCheckLines renders a result's link self-check, one line per direction
// the test used, e.g. "self-check TCP throughput →: loss 0.98% (1%:
// 0.519–1.58) ok; delay p50 5.046 ms (5 ms: 4.995–5.105) ok": the measured
// figure, then the configured one and its 99.9% interval, with FAIL on any
// figure outside its interval (JSON has the trials, n).
func linkCheckLines(r *duel.Result, st Style) []string {
	return LinkCheckLines(r.Link.Check, protoName(r.Proto)+" "+string(r.Test)+" ", st)
}

// LinkCheckLines renders a link self-check, one line per direction with
// figures, each line starting "self-check " + label + the direction's arrow.
func LinkCheckLines(c *duel.LinkCheck, label string, st Style) []string {
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
			name      string
			f         *duel.CheckFigure
			unit, num func(float64) string
		}{
			{"loss", d.c.Loss, pctFig, g3}, {"delay p50", d.c.DelayP50, msFig, g4}, {"delay p99", d.c.DelayP99, msFig, g4},
			{"rate", d.c.Rate, FormatRate, FormatRate}, {"duplicate", d.c.Duplicate, pctFig, g3}, {"reorder", d.c.Reorder, pctFig, g3},
			{"corrupt", d.c.Corrupt, pctFig, g3},
		} {
			if x.f == nil {
				continue
			}
			verdict := st.good("ok")
			if !x.f.OK {
				verdict = st.bad("FAIL")
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s: %s–%s) %s", x.name, x.unit(x.f.Measured),
				x.unit(x.f.Configured), x.num(x.f.Low), x.num(x.f.High), verdict))
		}
		if len(parts) == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("self-check %s%s: %s", label, d.arrow, strings.Join(parts, "; ")))
	}
	return lines
}

func pctFig(v float64) string { return g3(v) + "%" }

func msFig(v float64) string { return g4(v) + " ms" }

func g3(v float64) string { return fmt.Sprintf("%.3g", v) }

func g4(v float64) string { return fmt.Sprintf("%.4g", v) }
