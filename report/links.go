package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netduel/netduel/duel"
)

// linkLines says what each link was: its emulator, TCP implementation,
// congestion control and netem equivalent.
func linkLines(w io.Writer, rep *duel.Report, cells []string, st Style) {
	printed := false
	for _, c := range cells {
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Cell != c || r.Link == nil {
				continue
			}
			l := r.Link
			name := c
			if name == "" {
				name = "link"
			}
			netem := l.Netem
			if netem == "" {
				netem = "no impairment"
			} else {
				netem = "netem " + netem + " (each direction)"
			}
			if t := l.Trace; t != nil {
				netem += fmt.Sprintf("; delivery trace %s (%d opportunities in %g ms, mean %.2f Mbit/s, each direction)", t.File, t.Opportunities, t.PeriodMs, t.MeanBps/1e6)
			}
			tcp := map[string]string{"gvisor": "gVisor's TCP (user space)", "linux": "Linux kernel TCP"}[l.TCPStack]
			if tcp == "" {
				tcp = l.TCPStack + " TCP"
			}
			cc := l.Congestion
			if cc == "" {
				cc = "the OS's congestion control"
			}
			if l.Seed != 0 {
				netem += fmt.Sprintf("; seed %d (--seed %d replays it)", l.Seed, l.Seed)
			}
			emu := l.Emulator + " emulator"
			if l.Forwarder == "polling" {
				emu += " (polling forwarder)"
			}
			stackText := ", " + tcp + ", " + cc
			if !slices.ContainsFunc(rep.Results, func(r duel.Result) bool { return r.Proto == duel.ProtoTCP }) {
				stackText = "" // no TCP test: its stack and congestion control say nothing
			}
			fmt.Fprintf(w, "%s: %s%s; %s\n", name, emu, stackText, netem)
			// Each test's own: the emulator's lateness under a UDP flood
			// is not a latency test's.
			for j := range rep.Results {
				if o := &rep.Results[j]; o.Cell == c && o.Link != nil {
					if u, d := o.Link.Up.AddedDelay, o.Link.Down.AddedDelay; u != nil || d != nil {
						fmt.Fprintf(w, "  delay the emulator itself added, %s %s (p50 / p99 / max, beyond the model's): %s\n",
							protoName(o.Proto), o.Test, addedDelayLine(u, d))
					}
					for _, line := range linkCheckLines(o, st) {
						fmt.Fprintf(w, "  %s\n", line)
					}
				}
			}
			if l.Note != "" {
				fmt.Fprintf(w, "  note: %s\n", l.Note)
			}
			printed = true
			break
		}
	}
	if printed {
		fmt.Fprintln(w)
	}
}

// addedDelayLine shows each direction's emulator lateness.
func addedDelayLine(up, down *duel.AddedDelay) string {
	var parts []string
	for _, x := range []struct {
		dir string
		a   *duel.AddedDelay
	}{{"client→server", up}, {"server→client", down}} {
		if x.a == nil {
			continue
		}
		p := fmt.Sprintf("%s %.0f / %.0f / %.0f µs", x.dir, x.a.P50US, x.a.P99US, x.a.MaxUS)
		if x.a.Over5ms > 0 {
			p += fmt.Sprintf(" (%d packets over 5 ms late)", x.a.Over5ms)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
