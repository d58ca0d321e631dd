package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netduel/netduel/impair/link"
)

func TestLinkFlagsBadInputExits2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--loss", "101"}, "--loss"},
		{[]string{"--loss", "-1%"}, "--loss"},
		{[]string{"--loss", "lots"}, "--loss"},
		{[]string{"--loss", "1% 25% 3"}, "--loss"},
		{[]string{"--duplicate", "1% 200"}, "--duplicate"},
		{[]string{"--delay", "1ms", "--jitter", "1ms 25% 3"}, "--jitter"},
		{[]string{"--loss", "1%,,2%"}, "--loss"},
		{[]string{"--delay", "-5ms"}, "--delay"},
		{[]string{"--delay", "soon"}, "--delay"},
		{[]string{"--jitter", "-1ms"}, "--jitter"},
		{[]string{"--distribution", "gaussian"}, "--distribution"},
		{[]string{"--duplicate", "200"}, "--duplicate"},
		{[]string{"--corrupt", "x"}, "--corrupt"},
		{[]string{"--reorder", "10"}, "reorder needs a delay"},
		{[]string{"--reorder-gap", "-1", "--delay", "1ms", "--reorder", "5"}, "--reorder-gap"},
		{[]string{"--rate", "fast"}, "--rate"},
		{[]string{"--rate", "10M x"}, "--rate"},
		{[]string{"--rate", "10M 1 2 3 4"}, "--rate"},
		{[]string{"--rate", "10M 0 0 5"}, "cell overhead needs a cell size"},
		{[]string{"--queue", "0", "--rate", "1M"}, "--queue"},
		{[]string{"--loss-model", "state 60 50 60"}, "--loss-model"},
		{[]string{"--loss-model", "gemodel 1", "--loss", "1"}, "--loss and --loss-model"},
		{[]string{"--profile", "mars"}, "--profile"},
		{[]string{"--emulator", "qemu"}, "--emulator"},
		{[]string{"--emulator", "none", "--loss", "1"}, "--emulator none"},
		{[]string{"--server", "127.0.0.1:9", "--loss", "1"}, "drop --server"},
		// Values no link can hold, and empty values that would mean the default.
		{[]string{"--delay", "1ms", "--jitter", "2562047h"}, "--jitter"},
		{[]string{"--jitter", "1ms"}, "--jitter needs --delay"},
		{[]string{"--delay", "1ms", "--distribution", "normal"}, "--distribution needs --jitter"},
		{[]string{"--delay", "1ms", "--reorder-gap", "5"}, "--reorder-gap needs --reorder"},
		{[]string{"--queue", "99999999999"}, "--queue"},
		{[]string{"--queue", "100001"}, "--queue"},
		{[]string{"--seed", "-1"}, "--seed"},
		{[]string{"--cc", "../../etc/passwd"}, "--cc"},
		{[]string{"--cc", "nosuch", "--emulator", "netstack"}, "--cc"},
		{[]string{"--cc", "bbr", "--emulator", "netstack"}, "reno and cubic"},
		{[]string{"--cc", "nosuch", "--emulator", "none"}, "--cc"},
		{[]string{"--cc", "nosuch", "--server", "127.0.0.1:9"}, "--cc"},
	} {
		code, out, errs := runCLI(t, append([]string{"run", "--duration", "100ms"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message naming %s", tc.args, code, errs, tc.want)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") > 0 || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: want a one-line error, got %q", tc.args, errs)
		}
	}
}

// TestLinkFlagsEmptyExit2: an empty value is bad input, never the default.
func TestLinkFlagsEmptyExit2(t *testing.T) {
	for _, f := range append([]string{"emulator", "cc"}, linkFlagNames...) {
		code, out, errs := runCLI(t, "run", "--duration", "100ms", "--"+f, "")
		if code != 2 || !strings.Contains(errs, "--"+f+" is empty") || out != "" {
			t.Errorf("--%s '': exit %d, stderr %q; want 2 naming the flag", f, code, errs)
		}
	}
}

func TestForcedTunUnavailableExits3(t *testing.T) {
	if link.TunAvailable() == nil {
		t.Skip("tun works here (root with /dev/net/tun): nothing to refuse")
	}
	code, _, errs := runCLI(t, "run", "--duration", "100ms", "--emulator", "tun", "--loss", "1")
	if code != 3 || !strings.Contains(errs, "emulator tun unavailable") || !strings.Contains(errs, "--emulator netstack") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestRunOnEmulatedLinks runs a short loss and delay sweep in-process on each
// backend that works here, then checks the JSON and that no goroutine of the
// link, its stacks or its server outlives the run.
func TestRunOnEmulatedLinks(t *testing.T) {
	backends := []string{link.Netstack}
	if link.TunAvailable() == nil {
		backends = append(backends, link.Tun)
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			code, out, errs := runCLI(t, "run", "--emulator", backend, "--loss", "0,2%", "--delay", "1ms",
				"--duration", "300ms", "--bitrate", "20M", "--settle", "50ms", "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var doc struct {
				Sweep   bool `json:"sweep"`
				Results []struct {
					Proto      string `json:"proto"`
					Test       string `json:"test"`
					Cell       string `json:"cell"`
					LostFrames uint64 `json:"lost_frames"`
					Link       *struct {
						Emulator string  `json:"emulator"`
						Loss     float64 `json:"loss"`
						Up       struct {
							DroppedUDP uint64 `json:"dropped_udp"`
						} `json:"client_to_server"`
					} `json:"link"`
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !doc.Sweep || len(doc.Results) != 8 {
				t.Fatalf("%d results, want 2 cells x 4", len(doc.Results))
			}
			for _, r := range doc.Results {
				if r.Link == nil || r.Link.Emulator != backend {
					t.Fatalf("%s %s: link %+v", r.Proto, r.Test, r.Link)
				}
				if r.Proto == "udp" && r.Test == "throughput" && r.LostFrames != r.Link.Up.DroppedUDP {
					t.Errorf("cell %q: UDP lost %d, link dropped %d", r.Cell, r.LostFrames, r.Link.Up.DroppedUDP)
				}
			}
		})
	}
}

// netNamespaces returns the network namespaces (by /proc link text, e.g.
// "net:[4026532301]") that process pid holds: its threads' and those of its
// open descriptors (netduel keeps a descriptor of each namespace it made; its
// threads enter them only to create sockets).
func netNamespaces(pid int) map[string]bool {
	out := map[string]bool{}
	links, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "ns", "net"))
	fds, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "fd", "*"))
	for _, f := range append(links, fds...) {
		if s, err := os.Readlink(f); err == nil && strings.HasPrefix(s, "net:[") {
			out[s] = true
		}
	}
	return out
}

// anyProcessIn reports whether any process on the machine is in, or holds a
// descriptor of, one of ns.
func anyProcessIn(ns map[string]bool) bool {
	threads, _ := filepath.Glob("/proc/[0-9]*/task/*/ns/net")
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, f := range append(threads, fds...) {
		if s, err := os.Readlink(f); err == nil && ns[s] {
			return true
		}
	}
	return false
}

// TestInterruptRemovesLinks: Ctrl-C in the middle of a tun run exits 3 with
// "interrupted" and leaves no namespace (hence no TUN device) behind.
func TestInterruptRemovesLinks(t *testing.T) {
	if err := link.TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skip(err)
	}
	cmd := netduelCmd("run", "--emulator", "tun", "--loss", "1%", "--delay", "5ms", "--duration", "10s", "-q", "-o", "json")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child's threads have entered its namespaces.
	var seen map[string]bool
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		seen = netNamespaces(cmd.Process.Pid)
		delete(seen, host)
		if len(seen) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 10 s after Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want 3 and 'interrupted'", code, errb.String())
	}
	if len(seen) == 0 {
		t.Fatal("never saw the child in a namespace of its own")
	}
	if anyProcessIn(seen) {
		t.Errorf("a process is still in the run's namespaces %v", seen)
	}
}

// TestLinkSeedRecorded: a run without --seed picks a random one and records
// it in link.seed (so it can be replayed); --seed N is recorded as N.
func TestLinkSeedRecorded(t *testing.T) {
	seeds := map[string]uint64{}
	for _, seed := range []string{"", "", "7"} {
		args := []string{"run", "--emulator", "netstack", "--loss", "1%", "--proto", "udp", "--test", "latency",
			"--duration", "100ms", "--settle", "10ms", "-q", "-o", "json"}
		if seed != "" {
			args = append(args, "--seed", seed)
		}
		code, out, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc struct {
			Results []struct {
				Link struct {
					Seed uint64 `json:"seed"`
					Up   struct {
						Added *struct {
							Packets uint64 `json:"packets"`
						} `json:"added_delay"`
					} `json:"client_to_server"`
				} `json:"link"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Results) != 1 {
			t.Fatalf("%v: %s", err, out)
		}
		if a := doc.Results[0].Link.Up.Added; a == nil || a.Packets == 0 {
			t.Errorf("no added_delay for the link's packets: %+v", a)
		}
		got := doc.Results[0].Link.Seed
		if seed == "7" && got != 7 {
			t.Errorf("--seed 7 recorded as %d", got)
		}
		if got == 0 {
			t.Errorf("seed %q recorded as 0: the run cannot be replayed", seed)
		}
		seeds[strconv.FormatUint(got, 10)]++
	}
	if len(seeds) != 3 {
		t.Errorf("seeds %v: two runs without --seed picked the same one", seeds)
	}
}
