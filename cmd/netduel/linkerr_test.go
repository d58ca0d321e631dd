package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/netduel/netduel/impair/link"
)

// TestLinkConfigErrorsNameTheFlag: a link the engine refuses (its error names
// impair.Config's fields) is reported naming the flag, its value and the flag
// to add.
func TestLinkConfigErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reorder", "10"}, `--reorder "10": reorder needs a delay (as in netem: packets are reordered by sending some at once, ahead of delayed ones); add --delay`},
		{[]string{"--loss", "1,2", "--reorder", "5% 10%"}, `--reorder "5% 10%": reorder needs a delay`},
		{[]string{"--rate", "10M 0 0 5"}, `--rate "10M 0 0 5": a cell overhead needs a cell size`},
		{[]string{"--rate", "10M -100"}, `--rate "10M -100": rate packet overhead -100: must be from -34 to 65536 bytes`},
		{[]string{"--rate", "10M 0 70000"}, `--rate "10M 0 70000": rate cell size 70000`},
	} {
		code, out, errs := runCLI(t, append([]string{"run", "--duration", "100ms"}, tc.args...)...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "netduel: "+tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
		if strings.Contains(errs, "Config") || strings.Contains(errs, "; set ") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%q: %q names the engine's fields, or is not one line", tc.args, errs)
		}
	}
}

// TestEngineErrorText: an emulator that cannot work names the --emulator to
// use; other engine errors read as they are.
func TestEngineErrorText(t *testing.T) {
	t.Parallel()
	ue := &link.UnavailableError{Backend: link.Tun, Reason: errors.New("no /dev/net/tun"), Instead: "netstack (no privileges needed)"}
	if got, want := engineErrorText(ue), "emulator tun unavailable: no /dev/net/tun; use --emulator netstack (no privileges needed)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ue.DropPolling = true // --link-poll: netstack has no polling forwarder
	if got, want := engineErrorText(ue), "emulator tun unavailable: no /dev/net/tun; use --emulator netstack (no privileges needed) without --link-poll"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(ue.Error(), "--") {
		t.Errorf("the engine's error names a flag: %q", ue.Error())
	}
	if got := engineErrorText(errors.New("boom")); got != "boom" {
		t.Errorf("got %q", got)
	}
}
