package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
)

// checkFailedDocument asserts that out is a complete document in format
// holding at least minResults results, among them one with an error, and the
// run's error (wantErr in it).
func checkFailedDocument(t *testing.T, format, out string, minResults int, wantErr string) {
	t.Helper()
	check := map[string]func(*testing.T, string, int, string){
		"json": checkFailedJSON, "ndjson": checkFailedNDJSON, "csv": checkFailedCSV,
	}[format]
	if check == nil {
		check = checkFailedText // table, markdown
	}
	check(t, out, minResults, wantErr)
}

func checkFailedJSON(t *testing.T, out string, minResults int, wantErr string) {
	t.Helper()
	if err := validate(t, compileSchema(t, "netduel.run.v1.schema.json"), out); err != nil {
		t.Fatalf("the document does not match the schema: %v\n%s", err, out)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
		Error   string           `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	failed := 0
	for _, r := range doc.Results {
		e, _ := r["error"].(string)
		if e == "" {
			continue
		}
		failed++
		// A test that never started has no figures, not zeros.
		if _, ran := r["sent_frames"]; ran && (neverRanRE.MatchString(e) || strings.Contains(e, "server refused")) {
			t.Errorf("a test that never ran has figures: %v", r)
		}
	}
	if len(doc.Results) < minResults || failed == 0 {
		t.Errorf("%d results, %d with an error: want at least %d, the failed one among them", len(doc.Results), failed, minResults)
	}
	if !strings.Contains(doc.Error, wantErr) {
		t.Errorf("top-level error %q, want it to say %q", doc.Error, wantErr)
	}
}

func checkFailedNDJSON(t *testing.T, out string, minResults int, wantErr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	results := 0
	var end struct {
		Event, Error string
		Results      int
	}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		if ev["event"] == "result" {
			results++
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &end); err != nil || end.Event != "end" {
		t.Fatalf("last line %q: want the end event", lines[len(lines)-1])
	}
	if results < minResults || end.Results != results || !strings.Contains(end.Error, wantErr) {
		t.Errorf("%d result events, end %+v: want at least %d and the run's error %q", results, end, minResults, wantErr)
	}
}

func checkFailedCSV(t *testing.T, out string, minResults int, wantErr string) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("stdout is not CSV: %v\n%s", err, out)
	}
	errCol := slices.Index(rows[0], "error")
	last := rows[len(rows)-1]
	if len(last) != len(rows[0]) {
		t.Errorf("the error row has %d fields, the header %d", len(last), len(rows[0]))
	}
	if len(rows) < minResults+2 || last[0] != "" || !strings.Contains(last[errCol], wantErr) || rows[len(rows)-2][errCol] == "" {
		t.Errorf("%d rows, last %q: want a header, at least %d results (the failed one with its error) and the run's error", len(rows), last, minResults)
	}
}

func checkFailedText(t *testing.T, out string, _ int, wantErr string) {
	t.Helper()
	if !strings.Contains(out, "Run failed") && !strings.Contains(out, "Run interrupted") || !strings.Contains(out, wantErr) {
		t.Errorf("no run error line saying %q:\n%s", wantErr, out)
	}
	if !strings.Contains(out, "error: ") {
		t.Errorf("no failed result:\n%s", out)
	}
}

var allFormats = []string{"json", "ndjson", "csv", "table", "markdown"}

// startServe runs a server on loopback port 0 for the test; onSession is told
// of each session the server opens (by its log line), in order from 1.
func startServe(t *testing.T, cfg duel.ServerConfig, onSession func(n int, srv *duel.Server)) *duel.Server {
	t.Helper()
	var mu sync.Mutex
	var srv *duel.Server
	n := 0
	cfg.Listen = "127.0.0.1:0"
	cfg.Logf = func(format string, a ...any) {
		if !strings.Contains(format, "session %016x: %s for") || onSession == nil {
			return
		}
		mu.Lock()
		n++
		k, s := n, srv
		mu.Unlock()
		onSession(k, s)
	}
	s, err := duel.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	srv = s
	mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	t.Cleanup(func() { s.Close(); <-done })
	return s
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// neverRanRE matches the error of a test whose server could not be reached
// (not a test that ran and then met an ICMP port unreachable).
var neverRanRE = regexp.MustCompile(`^server \S+ unreachable`)

// TestFailedRunDocuments: a run that fails leaves a complete document on
// stdout in every format (it left 0 bytes), and exits 3.
func TestFailedRunDocuments(t *testing.T) {
	refusing := startServe(t, duel.ServerConfig{MaxDuration: 150 * time.Millisecond}, nil)
	unreachable := closedPort(t)
	cases := []struct {
		name       string
		server     func() string
		args       []string
		minResults int
		wantErr    string
	}{
		{"server refuses", func() string { return refusing.Addr().String() },
			[]string{"--duration", "300ms"}, 1, "over this server's limit"},
		{"server unreachable", func() string { return unreachable },
			nil, 1, "unreachable"},
		{"server dies mid-run", func() string {
			// The server stops as the second test starts: the first is kept.
			return startServe(t, duel.ServerConfig{}, func(n int, srv *duel.Server) {
				if n == 2 {
					go srv.Close()
				}
			}).Addr().String()
		}, []string{"--proto", "tcp,udp", "--test", "latency,throughput"}, 2, ""},
	}
	for _, tc := range cases {
		for _, format := range allFormats {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				args := append([]string{"run", "--server", tc.server(), "--duration", "200ms", "-o", format}, tc.args...)
				code, out, errs := runCLI(t, args...)
				if code != exitRuntime {
					t.Fatalf("exit %d, want 3; stderr %s", code, errs)
				}
				checkFailedDocument(t, format, out, tc.minResults, tc.wantErr)
			})
		}
	}
}

// TestServerDiesMidRunKeepsResults: the tests the server finished before it
// died keep their figures.
func TestServerDiesMidRunKeepsResults(t *testing.T) {
	srv := startServe(t, duel.ServerConfig{}, func(n int, srv *duel.Server) {
		if n == 2 {
			go srv.Close()
		}
	})
	code, out, errs := runCLI(t, "run", "--server", srv.Addr().String(), "--duration", "200ms", "--proto", "tcp,udp", "--test", "latency", "-o", "json")
	if code != exitRuntime {
		t.Fatalf("exit %d, want 3: %s", code, errs)
	}
	var doc duel.Report
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != 2 || doc.Results[0].Error != "" || doc.Results[0].ReceivedFrames == 0 || doc.Results[1].Error == "" || doc.Error == "" {
		t.Fatalf("results %+v, error %q: want the first test's figures and the second's error", doc.Results, doc.Error)
	}
}

// TestSignalLeavesDocument: SIGINT or SIGTERM mid-run ends the run with a
// complete document marked interrupted, the finished tests kept, exit 3.
func TestSignalLeavesDocument(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, format := range []string{"json", "ndjson", "csv", "table"} {
			t.Run(sig.String()+"/"+format, func(t *testing.T) {
				var cmd *execCmd
				started := make(chan struct{})
				srv := startServe(t, duel.ServerConfig{}, func(n int, _ *duel.Server) {
					if n == 2 {
						close(started)
					}
				})
				cmd = startCmd(t, "run", "--server", srv.Addr().String(), "--duration", "2s", "--proto", "tcp,udp", "--test", "latency", "-o", format)
				select {
				case <-started:
				case <-time.After(30 * time.Second):
					t.Fatal("the second test never started")
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code := cmd.wait(t)
				if code != exitRuntime {
					t.Fatalf("exit %d, want 3; stderr %s", code, cmd.stderr.String())
				}
				out := cmd.stdout.String()
				checkFailedDocument(t, format, out, 2, "interrupted")
				if format == "json" && !strings.Contains(out, `"interrupted": true`) {
					t.Errorf("no interrupted flag:\n%s", out)
				}
			})
		}
	}
}

// TestTotalLossDocument: --loss 100% finishes with a complete document: UDP
// lost everything, TCP's data connection never got through. It waited out
// the handshake for 127 s, then blamed the server, with nothing on stdout.
func TestTotalLossDocument(t *testing.T) {
	code, out, errs := runCLI(t, "run", "--emulator", "netstack", "--loss", "100%", "--duration", "300ms", "--test", "throughput", "-o", "json")
	if code != exitRuntime {
		t.Fatalf("exit %d, want 3 (TCP could not connect): %s", code, errs)
	}
	if strings.Contains(errs, "no welcome") || strings.Contains(errs, "unreachable") {
		t.Errorf("stderr blames the server: %s", errs)
	}
	checkFailedDocument(t, "json", out, 2, "never got through")
	var doc duel.Report
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Results {
		if r.Proto == duel.ProtoUDP && (r.Error != "" || r.SentFrames == 0 || r.LostPct != 100) {
			t.Errorf("udp: error %q, sent %d, lost %g%%: want 100%% lost", r.Error, r.SentFrames, r.LostPct)
		}
	}
}

// TestLossyNetstackHandshake: with 20% loss the embedded run's control
// connection no longer crosses the link, so the run never fails with "no
// welcome" (it did every time with seed 2).
func TestLossyNetstackHandshake(t *testing.T) {
	_, out, errs := runCLI(t, "run", "--emulator", "netstack", "--loss", "20%", "--seed", "2", "--duration", "300ms", "--proto", "udp", "-o", "json")
	if strings.Contains(errs, "no welcome") || strings.Contains(errs, "unreachable") {
		t.Fatalf("stderr: %s", errs)
	}
	var doc duel.Report
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if len(doc.Results) != 2 {
		t.Fatalf("%d results, want 2", len(doc.Results))
	}
	for _, r := range doc.Results {
		if r.Error != "" || r.SentFrames == 0 {
			t.Errorf("%s %s: error %q, sent %d", r.Proto, r.Test, r.Error, r.SentFrames)
		}
	}
}

// TestPlotUnwritableRefusedBeforeRun: a --plot file that cannot be written is
// bad input, found before the run (it failed after the run, output lost).
func TestPlotUnwritableRefusedBeforeRun(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"/nonexistent-dir/x.svg", dir, dir + "/no/such/dir/x.png"} {
		t.Run(string(p), func(t *testing.T) {
			code, out, errs := runCLI(t, "run", "--plot", p, "-o", "json", "--duration", "100ms")
			if code != exitUsage || out != "" || !strings.Contains(errs, "--plot") {
				t.Errorf("exit %d, stdout %d bytes, stderr %q: want exit 2 naming --plot, nothing on stdout", code, len(out), errs)
			}
		})
	}
	// A plot file that can be written is left as it was found: absent.
	p := dir + "/ok.svg"
	if err := checkPlotFile(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("checking %s left a file behind", p)
	}
}

// execCmd is the CLI as a child process with its output captured.
type execCmd struct {
	*os.Process
	wait           func(t *testing.T) int
	stdout, stderr *bytes.Buffer
}

func startCmd(t *testing.T, args ...string) *execCmd {
	t.Helper()
	cmd := netduelCmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ec := &execCmd{Process: cmd.Process, stdout: &out, stderr: &errb}
	ec.wait = func(t *testing.T) int {
		timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		_ = cmd.Wait()
		return cmd.ProcessState.ExitCode()
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return ec
}
