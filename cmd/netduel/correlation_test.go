package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestCorrelationFlags: netem's correlations, written as netem writes them,
// reach the link: its netem line carries each.
func TestCorrelationFlags(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"netduel", "run", "--emulator", "netstack", "--loss", "1% 25%", "--delay", "5ms", "--jitter", "2ms 25%",
		"--duplicate", "1% 50%", "--corrupt", "1% 10%", "--reorder", "10% 50%", "--proto", "udp", "--test", "latency",
		"--duration", "200ms", "-o", "json"}
	if code := run(args, &out, &errb); code != 0 && code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc struct {
		Results []struct {
			Link struct{ Netem string } `json:"link"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Results) == 0 {
		t.Fatalf("%v: %s", err, out.String())
	}
	want := "delay 5ms 2ms 25% loss random 1% 25% duplicate 1% 50% corrupt 1% 10% reorder 10% 50%"
	if got := doc.Results[0].Link.Netem; got != want {
		t.Fatalf("netem %q, want %q", got, want)
	}
}
