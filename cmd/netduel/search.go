package main

import (
	"fmt"
	"strings"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/report"
)

// searchVerdict fails a run (exit 1) in which a --bitrate max search found no
// rate, saying what it tried.
func searchVerdict(results []duel.Result) error {
	var why []string
	for _, r := range results {
		if r.Search == nil || r.Search.Found {
			continue
		}
		where := ""
		if r.Cell != "" {
			where = " @ " + r.Cell
		}
		why = append(why, fmt.Sprintf("--bitrate max%s: no rate kept loss <= %g%% with the receiver keeping up; tried %s",
			where, r.Search.MaxLossPct, r.Search.Tried(report.FormatRate)))
	}
	if len(why) > 0 {
		return failedError(strings.Join(why, "; "))
	}
	return nil
}
