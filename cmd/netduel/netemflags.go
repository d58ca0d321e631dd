package main

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/impair"
)

// netemFlags are the link flags for netem's slot and ecn and for mahimahi's
// delivery traces (run and emulate).
func netemFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "slot", Usage: "netem's slot: packets leave only in slots, each opening a delay after the last, at most N packets / bytes each: '" + impair.SlotUsage + "', e.g. '5ms 15ms packets 8' (Wi-Fi/LTE style bursts)"},
		&cli.BoolFlag{Name: "ecn", Usage: "netem's ecn (needs --loss or --loss-model): where the loss model drops an ECN-capable packet (ECT(0)/ECT(1)), mark it CE instead (JSON ecn_marked); other packets are still dropped"},
		&cli.StringFlag{Name: "trace", Usage: "mahimahi delivery trace `FILE` (one line per delivery opportunity, whole ms since the start, repeating after the last; each carries up to 1500 bytes), replacing --rate in each direction"},
	}
}

// parseSlotFlag reads --slot.
func parseSlotFlag(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.Slot, err = impair.ParseSlot(s); err != nil {
		return usageErrorf("--slot %q: %v", s, err)
	}
	return nil
}

// parseTraceFlag reads --trace's file; a file that is not a trace names the
// line at fault.
func parseTraceFlag(c *cli.Context, s string, cfg *impair.Config) error {
	if !c.IsSet("rate") { // the trace replaces a --profile's rate
		cfg.Rate, cfg.RateOverhead, cfg.CellSize, cfg.CellOverhead = 0, 0, 0, 0
	}
	var err error
	cfg.Trace, err = impair.LoadTrace(s)
	var te *impair.TraceError
	switch {
	case errors.As(err, &te):
		return usageErrorf("--trace %q: %v (mahimahi's format: one whole number of ms a line, non-decreasing)", s, te)
	case errors.Is(err, os.ErrNotExist):
		return usageErrorf("--trace %q: no such file", s)
	case err != nil:
		return usageErrorf("--trace %q: %v", s, err)
	}
	return nil
}
