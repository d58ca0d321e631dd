//go:build linux

package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/netduel/netduel/impair/link"
)

func TestEmulateBadInputExits2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"emulate"}, "needs a command"},
		{[]string{"emulate", "--", "no-such-program-xyz"}, "not found"},
		{[]string{"emulate", "--emulator", "netstack", "--", "true"}, "--emulator netstack"},
		{[]string{"emulate", "--loss", "1,2", "--", "true"}, "one link"},
		{[]string{"emulate", "--loss", "200", "--", "true"}, "--loss"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 naming %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestEmulate runs programs across the link: the exit status is the program's,
// each side sees the other's address in NETDUEL_PEER, and netduel itself (serve
// as the peer, run as the command) measures the link's delay.
func TestEmulate(t *testing.T) {
	if err := link.TunAvailable(); err != nil {
		t.Skipf("emulate needs the tun backend: %v", err)
	}
	code, _, errs := runCLI(t, "emulate", "-q", "--peer", `test "$NETDUEL_PEER" = 198.18.0.1 || echo wrong peer env >&2`,
		"--", "sh", "-c", `test "$NETDUEL_PEER" = 198.18.0.2 && grep -q nd0 /proc/net/dev && exit 7`)
	if code != 7 || strings.Contains(errs, "wrong") {
		t.Fatalf("exit %d, stderr %q; want 7 from the command", code, errs)
	}

	t.Setenv("NETDUEL_TEST_MAIN", "1") // the test binary, run as a child, is netduel
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "emulate", "--delay", "5ms",
		"--peer", self+" serve -q --listen 198.18.0.2:9400",
		"--", self, "run", "--server", "198.18.0.2:9400", "--proto", "udp,tcp", "--test", "latency",
		"--duration", "300ms", "-q", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Results []struct {
			Proto string `json:"proto"`
			RTT   struct {
				P50 float64 `json:"p50"`
			} `json:"rtt_us"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Results) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	for _, r := range doc.Results {
		// 5 ms each way: the round trip is at least 10 ms; on a busy machine
		// scheduling adds to it, but nowhere near a third delay.
		if r.RTT.P50 < 10000 || r.RTT.P50 > 15000 {
			t.Errorf("%s round trip p50 %.0f µs across 5 ms each way", r.Proto, r.RTT.P50)
		}
	}
	if !strings.Contains(errs, "client→server:") || !strings.Contains(errs, "delay 5ms") {
		t.Errorf("no link summary on stderr (%d bytes): %q", len(errs), errs)
	}
}
