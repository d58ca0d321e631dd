//go:build unix

package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// A virtual machine's hypervisor may take its CPUs for other guests (steal
// time): a round trip measured meanwhile is slower for reasons neither tool
// controls. The comparison records how much was taken during each step, so
// that a reader can tell a disturbed round from a slow tool.

// stealStep is the steal time during one step.
type stealStep struct {
	Round int     `json:"round"`
	Tool  string  `json:"tool"`
	What  string  `json:"what"`
	MS    float64 `json:"ms"`
	// Pct is MS as a share of the CPU time the step's wall time had on all
	// CPUs.
	Pct float64 `json:"pct"`
}

// stealLog is the steal time during the comparison's steps.
type stealLog struct {
	NetduelMS    float64     `json:"netduel_ms"`
	CompetitorMS float64     `json:"competitors_ms"`
	Steps        []stealStep `json:"steps"`
	// CPU time (ms, all CPUs) the steps had, for the shares.
	netduelCPU, competitorCPU float64
}

// add records a step that lasted wallMS (cpus: the machine's CPUs).
func (l *stealLog) add(s stealStep, wallMS float64, cpus int) {
	avail := wallMS * float64(cpus)
	if avail > 0 {
		s.Pct = 100 * s.MS / avail
	}
	if s.Tool == "netduel" {
		l.NetduelMS += s.MS
		l.netduelCPU += avail
	} else {
		l.CompetitorMS += s.MS
		l.competitorCPU += avail
	}
	l.Steps = append(l.Steps, s)
}

// share is ms as a percentage of avail, 0 without it.
func share(ms, avail float64) float64 {
	if avail <= 0 {
		return 0
	}
	return 100 * ms / avail
}

// summary is one line for the table's notes, "" without steps.
func (l *stealLog) summary() string {
	if l == nil || len(l.Steps) == 0 {
		return ""
	}
	most := l.Steps[0]
	for _, s := range l.Steps[1:] {
		if s.Pct > most.Pct {
			most = s
		}
	}
	return fmt.Sprintf("the hypervisor took %.0f ms of CPU (steal, %.1f%% of the CPU time) during netduel's steps and %.0f ms (%.1f%%) during the competitors'; the most in one step: %.1f%% in round %d, %s %s",
		l.NetduelMS, share(l.NetduelMS, l.netduelCPU), l.CompetitorMS, share(l.CompetitorMS, l.competitorCPU), most.Pct, most.Round, most.Tool, most.What)
}

// machineCPUs is the number of CPUs steal time is summed over.
func machineCPUs() int { return runtime.NumCPU() }

// parseSteal reads the steal column of /proc/stat's all-CPU line, in clock
// ticks of 10 ms (USER_HZ, 100 on Linux), as ms.
func parseSteal(stat string) (float64, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	ticks, err := strconv.ParseUint(f[8], 10, 64)
	if err != nil {
		return 0, false
	}
	return float64(ticks) * 10, true
}
