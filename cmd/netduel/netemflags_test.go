package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/impair"
)

// parseLinkArgs reads link flags as run does, into the base link.
func parseLinkArgs(t *testing.T, args ...string) (impair.Config, error) {
	t.Helper()
	var cfg impair.Config
	var perr error
	// No version or help flag: urfave/cli's global ones are written on each
	// Run, a data race with parallel tests.
	app := &cli.App{Flags: linkFlags(), HideVersion: true, HideHelp: true, Action: func(c *cli.Context) error {
		cfg, perr = parseBaseLink(c)
		return nil
	}}
	if err := app.Run(append([]string{"netduel"}, args...)); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return cfg, perr
}

// TestRateForms: netem's positional rate options, the keywords tc prints
// them with, and tc's rate units read the same; Netem() prints tc's input
// form back.
func TestRateForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ rate, netem string }{
		{"10mbit 20 100 5", "rate 10mbit 20 100 5"},
		{"10mbit packetoverhead 20 cellsize 100 celloverhead 5", "rate 10mbit 20 100 5"},
		{"10M overhead 20 cellsize 100 celloverhead 5", "rate 10mbit 20 100 5"},
		{"10Mbit cellsize 53", "rate 10mbit 0 53"},
		{"2MBps", "rate 16mbit"},
		{"1gbit -14", "rate 1gbit -14"},
		{"100M", "rate 100mbit"},
	} {
		cfg, err := parseLinkArgs(t, "--rate", tc.rate)
		if err != nil {
			t.Errorf("--rate %q: %v", tc.rate, err)
			continue
		}
		cfg.Seed = 0
		if got := cfg.Netem(); got != tc.netem {
			t.Errorf("--rate %q: netem %q, want %q", tc.rate, got, tc.netem)
		}
	}
}

// TestRateBadValuesExit2: bad rate options are one-line usage errors
// naming --rate and what is wrong.
func TestRateBadValuesExit2(t *testing.T) {
	// Not parallel: run() sets urfave/cli's global VersionFlag, which
	// Apply writes (a data race between parallel runs).
	for _, tc := range []struct{ rate, want string }{
		{"10%", "percent of the device's speed"},
		{"xmbit", `"xmbit" is not a rate`},
		{"20tbit", "at most 10tbit"},
		{"10mbit cellsize", "cell size needs a number of bytes"},
		{"10mbit cellsize x", `cell size "x" is not a whole number`},
		{"10mbit 20 cellsize 100", "every option as a keyword or none"},
		{"10mbit mtu 1500", `packet overhead "mtu" is not a whole number`},
		{"10mbit celloverhead 5", "a cell overhead needs a cell size"},
		{"10mbit cellsize 70000", "rate cell size 70000"},
		{"10mbit 1 2 3 4", "4 values after the rate"},
	} {
		code, out, errs := runCLI(t, "run", "--duration", "100ms", "--rate", tc.rate)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "netduel: --rate") || !strings.Contains(errs, tc.want) ||
			strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("--rate %q: exit %d, stderr %q; want 2 and one line naming --rate with %q", tc.rate, code, errs, tc.want)
		}
	}
}

// TestSlotECNTraceFlags: --slot, --ecn and --trace reach the link's
// configuration and its netem line.
func TestSlotECNTraceFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseLinkArgs(t, "--slot", "5ms 15ms packets 8 bytes 12000", "--loss", "1%", "--ecn")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slot.Packets != 8 || cfg.Slot.Bytes != 12000 || !cfg.ECN {
		t.Errorf("config %+v", cfg)
	}
	cfg, err = parseLinkArgs(t, "--profile", "lte", "--trace", "../../testdata/cellular.trace")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Trace == nil || len(cfg.Trace.Opps) == 0 || cfg.Rate != 0 || cfg.Delay == 0 {
		t.Errorf("--profile lte --trace: %+v; want the trace instead of the profile's rate, and its delay", cfg)
	}
}

// TestSlotECNTraceBadInput: bad values are one-line usage errors (exit 2)
// naming the flag, and for a trace the line at fault.
func TestSlotECNTraceBadInput(t *testing.T) {
	// Not parallel: run() sets urfave/cli's global VersionFlag, which
	// Apply writes (a data race between parallel runs).
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--slot", "soon"}, `--slot "soon": MIN "soon"`},
		{[]string{"--slot", "20ms 10ms"}, `--slot "20ms 10ms": slot MAX 10ms is below MIN 20ms`},
		{[]string{"--slot", "5ms packets -1"}, `--slot "5ms packets -1": packets "-1"`},
		{[]string{"--slot", " "}, "--slot is empty"},
		{[]string{"--ecn", "--delay", "5ms"}, "ecn marks packets the loss model would drop"},
		{[]string{"--trace", write("empty", "")}, "the trace is empty"},
		{[]string{"--trace", write("letters", "1\n2\nthree\n")}, `line 3: "three" is not a whole number`},
		{[]string{"--trace", write("down", "1\n5\n4\n")}, "line 3: 4 ms is before the previous line's 5 ms"},
		{[]string{"--trace", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"--trace", write("ok", "1\n2\n"), "--rate", "10M"}, "a delivery trace replaces the rate"},
		{[]string{"--trace", write("ok2", "1\n2\n"), "--slot", "1ms"}, "a delivery trace and slots both pace"},
	} {
		code, out, errs := runCLI(t, append([]string{"run", "--duration", "100ms"}, tc.args...)...)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, errs, tc.want)
		}
	}
}
