//go:build linux

package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
		{[]string{"emulate", "--emulator", "foo", "--", "true"}, "unknown backend"},  // read as netstack's answer before
		{[]string{"emulate", "--emulator", "", "--", "true"}, "--emulator is empty"}, // "unknown backend" before
		{[]string{"emulate", "--loss", "1,2", "--", "true"}, "one link"},
		{[]string{"emulate", "--loss", "200", "--", "true"}, "--loss"},
		{[]string{"emulate", "--peer-wait", "-1s", "--", "true"}, "--peer-wait -1s: want a duration from 0 to 1m"}, // ignored before
		{[]string{"emulate", "--peer-wait", "9999h", "--", "true"}, "--peer-wait 9999h0m0s: want a duration from 0 to 1m"},
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
	// The peer and the command start together: the command retries while
	// the peer's server is not listening yet (exit 3, unreachable).
	client := `for i in $(seq 50); do out=$("$0" run --server 198.18.0.2:9400 --proto udp,tcp --test latency --duration 300ms -q -o json); ` +
		`rc=$?; [ $rc -ne 3 ] && break; sleep 0.1; done; printf '%s' "$out"; exit $rc`
	code, out, errs := runCLI(t, "emulate", "--delay", "5ms",
		"--peer", self+" serve -q --listen 198.18.0.2:9400",
		"--", "sh", "-c", client, self)
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
		// scheduling adds to it, but not the 20 ms of a delay applied twice
		// each way.
		if r.RTT.P50 < 10000 || r.RTT.P50 >= 20000 {
			t.Errorf("%s round trip p50 %.0f µs across 5 ms each way", r.Proto, r.RTT.P50)
		}
	}
	if !strings.Contains(errs, "client→server:") || !strings.Contains(errs, "delay 5ms") || !strings.Contains(errs, "device drops") {
		t.Errorf("no link summary on stderr (%d bytes): %q", len(errs), errs)
	}
	// A polling forwarder says so in the summary.
	code, _, errs = runCLI(t, "emulate", "--delay", "1ms", "--link-poll", "--", "true")
	if code != 0 || !strings.Contains(errs, "polling forwarder") {
		t.Errorf("emulate --link-poll: exit %d, stderr %q; want 0 and a summary naming the polling forwarder", code, errs)
	}
	// A packet the link still holds when the command ends is counted as
	// held, not forwarded (the summary said "1 forwarded" of a packet that
	// never left).
	code, _, errs = runCLI(t, "emulate", "--delay", "1s", "--", "bash", "-c", "echo x > /dev/udp/198.18.0.2/9")
	if code != 0 || !regexp.MustCompile(`client→server: \d+ packets, \d+ forwarded, .*\b[1-9]\d* still held when the command ended`).MatchString(errs) {
		t.Errorf("emulate, a packet held at the end: exit %d, stderr %q", code, errs)
	}
}

// TestEmulateChildrenDieWithUs: when netduel emulate is SIGKILLed, the command,
// the peer and the peer's own children end with it (no orphans).
func TestEmulateChildrenDieWithUs(t *testing.T) {
	if err := link.TunAvailable(); err != nil {
		t.Skipf("emulate needs the tun backend: %v", err)
	}
	// Unique arguments, so that the processes can be found in /proc.
	mark := strconv.Itoa(900000 + os.Getpid()%90000)
	nd := netduelCmd("emulate", "-q", "--peer", "sleep "+mark+"1 & sleep "+mark+"2", "--", "sleep", mark+"3")
	// A file, not a pipe: orphans holding a pipe would keep Wait waiting.
	errf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	nd.Stderr = errf
	if err := nd.Start(); err != nil {
		t.Fatal(err)
	}
	defer nd.Wait()
	var pids []int
	for i := 0; i < 100 && len(pids) < 3; i++ { // up to 10 s for all three to start
		time.Sleep(100 * time.Millisecond)
		pids = findProcs(t, "sleep\x00"+mark)
	}
	if len(pids) < 3 {
		nd.Process.Kill()
		nd.Wait()
		b, _ := os.ReadFile(errf.Name())
		t.Fatalf("found %d of the 3 processes (command, peer's two); netduel: %s", len(pids), b)
	}
	nd.Process.Kill()
	nd.Wait()
	var alive []int
	for i := 0; i < 50; i++ { // the kernel kills them at once; allow 5 s
		alive = alive[:0]
		for _, p := range pids {
			if running(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range alive {
		syscall.Kill(p, syscall.SIGKILL)
	}
	t.Fatalf("processes %v outlived the killed netduel emulate", alive)
}

// findProcs returns the processes whose command line starts with prefix (its
// arguments separated by NUL bytes).
func findProcs(t *testing.T, prefix string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(b), prefix) && running(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running: the process exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}
