package main

import (
	"strings"

	"github.com/netduel/netduel/impair"
)

// percentCorr reads a probability with netem's optional correlation, as
// netem writes them: "P [CORR]" (e.g. '1% 25%').
func percentCorr(flag, s string) (p, corr float64, err error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, 0, usageErrorf("--%s %q: want PERCENT [CORRELATION], as netem writes them, e.g. '1%%' or '1%% 25%%'", flag, s)
	}
	if p, err = impair.ParsePercent(f[0]); err != nil {
		return 0, 0, usageErrorf("--%s %q: %v", flag, s, err)
	}
	if len(f) == 2 {
		if corr, err = impair.ParsePercent(f[1]); err != nil {
			return 0, 0, usageErrorf("--%s %q: correlation: %v", flag, s, err)
		}
	}
	return p, corr, nil
}
