package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets a test run the real CLI in a child process: the test binary
// re-executed with NETDUEL_TEST_MAIN=1 is netduel itself.
func TestMain(m *testing.M) {
	if os.Getenv("NETDUEL_TEST_MAIN") == "1" {
		os.Exit(run(append([]string{"netduel"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// netduelCmd returns the netduel CLI as a child process.
func netduelCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NETDUEL_TEST_MAIN=1")
	return cmd
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"netduel"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInputExits2(t *testing.T) {
	cases := []struct {
		args []string
		want string // the message names this
	}{
		{[]string{"run", "--proto", "sctp"}, "--proto"},
		{[]string{"run", "--delay", "1ms,"}, `--delay "1ms,": an empty item`}, // named the item "" before
		{[]string{"run", "--loss", "1%,,5%"}, `--loss "1%,,5%": an empty item`},
		{[]string{"run", "--test", "speed"}, "--test"},
		{[]string{"run", "--size", "10M", "--proto", "tcp"}, "--size"}, // over the embedded server's 4 MiB: refused at run time before
		{[]string{"run", "--rate", "10mbps"}, "megabytes/s"},           // tc's bytes or netduel's bits: read as 10 Mbit/s before
		{[]string{"run", "--rate", "abc"}, "link rate"},
		{[]string{"run", "--delay", "1h"}, "from 0 to 1m0s"},                                                // the limit was not said
		{[]string{"run", "--proto", "tcp", "--udp-checksum", "off"}, "--udp-checksum applies to UDP tests"}, // accepted silently before
		{[]string{"run", "--proto", "tcp", "--settle", "1s"}, "--settle applies to UDP tests"},
		{[]string{"run", "--loss", "0", "--ecn"}, `--loss "0" sets none`}, // said "add --loss" though --loss was given
		{[]string{"run", "--duration", "1ms"}, "--duration"},
		{[]string{"run", "--duration", "banana"}, "duration"},
		{[]string{"run", "--duration", "99999999999h"}, "far too long"}, // said only "want a duration such as 3s", as for "banana"
		{[]string{"serve", "--idle-timeout", "99999999999h"}, "--idle-timeout \"99999999999h\": far too long"},
		{[]string{"run", "--size", "10"}, "--size"},
		{[]string{"run", "--size", "70000", "--proto", "udp"}, "--size"},
		{[]string{"run", "--size", "-5"}, "--size"},
		{[]string{"run", "--bitrate", "fast"}, "--bitrate"},
		{[]string{"run", "--bitrate", "1mbps"}, "--bitrate \"1mbps\": tc reads mbps as megabytes/s"}, // read as 1 Mbit/s, while --rate refused it
		{[]string{"serve", "--max-bitrate", "1mbps"}, "--max-bitrate \"1mbps\": tc reads mbps"},
		{[]string{"run", "--bitrate", "-1M"}, "--bitrate"},
		{[]string{"run", "-o", "xml"}, "-o"},
		{[]string{"run", "--server", "nohost"}, "--server"},
		{[]string{"run", "--server", "127.0.0.1:0"}, "--server"},
		{[]string{"run", "--server", "127.0.0.1:99999"}, "--server"},
		{[]string{"run", "--nope"}, "nope"},
		{[]string{"run", "extra"}, "extra"},
		{[]string{"bogus"}, "bogus"},
		{[]string{"port", "bogus"}, "check, free, hold, conflicts"},            // urfave's "No help topic for 'bogus'" before
		{[]string{"port", "check", "8080", "--addr", "fe80::1"}, "link-local"}, // exit 3 "EINVAL" with an empty stdout before
		{[]string{"run", "--token", "s3cret"}, "--server"},                     // ignored before: an embedded run has no server to prove it to
		{[]string{"serve", "--listen", "x"}, "--listen"},
		{[]string{"serve", "--max-clients", "0"}, "--max-clients"},
		{[]string{"serve", "--max-clients", "99999999999"}, "--max-clients 99999999999: want 1 to 65536"},
		{[]string{"version", "extra"}, `unexpected argument "extra": version takes none`},
		{[]string{"serve", "--max-bitrate", "lots"}, "--max-bitrate"},
		{[]string{"serve", "--idle-timeout", "1ms"}, "--idle-timeout"},
		{[]string{"serve", "--hello-timeout", "1ms"}, "--hello-timeout"},
		{[]string{"serve", "--max-clients-per-ip", "0"}, "--max-clients-per-ip"},
		{[]string{"serve", "--max-clients", "4", "--max-clients-per-ip", "5"}, "--max-clients-per-ip"},
		{[]string{"serve", "--token", ""}, "--token"},
		{[]string{"run", "--server", "127.0.0.1:9", "--token", ""}, "--token"},
		// The flag package's own words ("invalid value \"\" for flag
		// -duration: parse error") before: one dash, no fix.
		{[]string{"run", "--duration", ""}, "--duration is empty: give it a duration"},
		{[]string{"run", "--interval", "x"}, `--interval "x": want a duration`},
		{[]string{"serve", "--max-clients", ""}, "--max-clients is empty: give it a whole number"},
		{[]string{"port", "free", "--count", "1.5"}, `--count "1.5": want a whole number`},
		{[]string{"run", "--busy-poll=maybe"}, `--busy-poll "maybe": want true or false`},
		{[]string{"port", "check", "-1"}, "negative numbers"},
		{[]string{"run", "--nope2"}, `unknown flag "--nope2"`},
		// Accepted before, and every session ended at once (the lifetime overflowed).
		{[]string{"serve", "--idle-timeout", "2562047h"}, "--idle-timeout 2562047h0m0s: want a duration from 100ms to 24h"},
		{[]string{"serve", "--hello-timeout", "25h"}, "--hello-timeout"},
		{[]string{"serve", "--max-duration", "25h"}, "--max-duration"},
		{[]string{"serve", "--max-frame", "64M"}, "--max-frame 64M: want 1024 bytes to 16MiB"}, // cut to 16 MiB without a word before
		{[]string{"serve", "--max-bitrate", "-1"}, "0 = no limit"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errs)
			}
			if out != "" {
				t.Errorf("stdout should be empty, got %q", out)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if len(lines) != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("stderr %q: want one line naming %q", errs, tc.want)
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
				t.Errorf("stack trace on stderr: %q", errs)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	code, out, errs := runCLI(t, "run", "--duration", "300ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Results []struct {
			Proto      string   `json:"proto"`
			Test       string   `json:"test"`
			Cell       string   `json:"cell"`
			GoodputBps float64  `json:"goodput_bps"`
			OfferedBps *float64 `json:"offered_bps"`
			RTT        *struct {
				P50 float64 `json:"p50"`
			} `json:"rtt_us"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	// The default run is two links (clean loopback and an emulated lossy
	// one), each with the four tests.
	if doc.Schema != "netduel.run/v1" || len(doc.Results) != 8 {
		t.Fatalf("schema %q with %d results, want 8", doc.Schema, len(doc.Results))
	}
	cells := map[string]int{}
	for _, r := range doc.Results {
		if r.Cell == "" {
			t.Fatalf("%s %s: no cell", r.Proto, r.Test)
		}
		cells[r.Cell]++
	}
	if len(cells) != 2 {
		t.Errorf("cells %v, want two with four results each", cells)
	}
	for _, r := range doc.Results {
		if r.GoodputBps <= 0 {
			t.Errorf("%s %s: goodput %v", r.Proto, r.Test, r.GoodputBps)
		}
		if r.Test == "latency" && (r.RTT == nil || r.RTT.P50 <= 0) {
			t.Errorf("%s latency: no p50", r.Proto)
		}
		if (r.Proto == "udp" && r.Test == "throughput") != (r.OfferedBps != nil) {
			t.Errorf("%s %s: offered_bps presence wrong", r.Proto, r.Test)
		}
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Error("NaN or Inf in JSON")
	}
}

func TestRunTable(t *testing.T) {
	code, out, errs := runCLI(t, "run", "--duration", "200ms", "--test", "latency")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Latency", "RTT p50", "Socket lifecycle", "3-way handshake", "no packet"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes in output that is not a terminal")
	}
}

func TestRunUnreachableExits3(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, out, errs := runCLI(t, "run", "--server", addr, "--duration", "200ms")
	if code != exitRuntime {
		t.Fatalf("exit %d, want 3", code)
	}
	if !strings.Contains(errs, addr) || !strings.Contains(errs, "refused") {
		t.Errorf("stderr %q: want the address and the reason", errs)
	}
	// stdout holds the document all the same, with the run's error.
	if !strings.Contains(out, "Run failed") || !strings.Contains(out, addr) {
		t.Errorf("stdout %q: want the report with the run's error", out)
	}
}

// TestServeTwoClients runs 'netduel serve' and two 'netduel run --server' at once,
// each client a process of its own, as from two shells.
func TestServeTwoClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan int, 1)
	var serr bytes.Buffer
	go func() {
		served <- runContext(ctx, []string{"netduel", "serve", "--listen", addr}, &bytes.Buffer{}, &serr)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			cmd := netduelCmd("run", "--server", addr, "--duration", "300ms", "-o", "json")
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Errorf("client %d: %v: %s", i, err, errb.String())
				return
			}
			var doc struct {
				Results []struct {
					ReceivedFrames uint64 `json:"received_frames"`
					SentFrames     uint64 `json:"sent_frames"`
					Proto, Test    string
				} `json:"results"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Results) != 4 {
				t.Errorf("client %d: bad JSON (%v): %s", i, err, out.String())
				return
			}
			for _, r := range doc.Results {
				if r.ReceivedFrames == 0 || r.ReceivedFrames > r.SentFrames {
					t.Errorf("client %d %s %s: received %d of %d", i, r.Proto, r.Test, r.ReceivedFrames, r.SentFrames)
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	if code := <-served; code != 0 {
		t.Fatalf("serve exit %d: %s", code, serr.String())
	}
	if !strings.Contains(serr.String(), "serving on") {
		t.Errorf("serve log: %s", serr.String())
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "netduel ") || !strings.Contains(out, version) {
			t.Fatalf("%v: exit %d, %q", args, code, out)
		}
	}
}

func TestAssertExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"all pass", []string{"--assert", "tcp.latency.lost_frames == 0", "--assert", "tcp.latency.rtt_us.p50 > 0"}, 0},
		{"one fails", []string{"--assert", "tcp.latency.rtt_us.p50 > 60s"}, 1},
		{"unknown field", []string{"--assert", "tcp.latency.rtt_us.p98 < 1"}, 2},
		{"bad unit", []string{"--assert", "tcp.latency.rtt_us.p50 < 1G"}, 2},
		{"bad op", []string{"--assert", "tcp.latency.rtt_us.p50 ~ 1"}, 2},
		{"test not in the run", []string{"--assert", "udp.latency.lost_pct < 1"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--proto", "tcp", "--test", "latency", "--duration", "200ms", "-o", "json"}, tc.args...)
			code, out, errs := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errs)
			}
			if tc.code <= 1 {
				var doc struct {
					Assertions []struct{ Pass bool } `json:"assertions"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Assertions) == 0 {
					t.Fatalf("JSON with assertions expected (%v): %s", err, out)
				}
			}
		})
	}
}
