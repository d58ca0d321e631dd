//go:build unix

// Command compare puts netduel side by side with iperf3 and sockperf on the
// loopback (DESIGN §9, issue 6): TCP goodput, UDP goodput with 1472-byte
// datagrams, and 64-byte round trips over TCP and UDP, interleaved over several
// rounds, then prints the medians, the ratios and the targets.
//
//	go run ./bench/compare [--rounds 3] [--duration 5s] [-o table|json] [--netduel-bin PATH] [--check]
//
// It installs iperf3 and sockperf with apt-get when they are missing, builds
// netduel once, starts 'netduel serve', 'iperf3 -s' and two 'sockperf server's
// (UDP and TCP) on free 127.0.0.1 ports, and stops every one of them when it
// exits, on error and on Ctrl-C too. Progress goes to stderr, results to stdout.
//
// Exit codes: 0 done, 1 a target missed (only with --check), 2 bad usage,
// 3 runtime failure (a tool missing and not installable, a build or server that
// failed, a metric with no sample).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

const (
	exitOK      = 0
	exitMissed  = 1
	exitUsage   = 2
	exitRuntime = 3
)

// Schema names the JSON document's layout.
const Schema = "netduel.compare/v1"

// UDP datagram payload for the UDP goodput comparison: a 1500-byte Ethernet
// MTU minus 20 bytes of IPv4 header and 8 of UDP header. netduel's --size is the
// whole frame it puts in one datagram (its 40-byte header included), so
// --size 1472 gives 1472-byte UDP payloads, as iperf3's -l 1472 does.
const udpPayload = 1472

// rttSize is the message size for the round-trip comparison.
const rttSize = 64

// maxLossPct is the loss netduel's --bitrate max search may accept.
const maxLossPct = 0.1

type options struct {
	rounds     int
	duration   time.Duration
	output     string
	netduelBin string
	check      bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved `N` rounds; the table shows medians")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length `D` of each test (whole seconds: iperf3 and sockperf take seconds)")
	fs.StringVar(&o.output, "o", "table", "output `FORMAT`: table or json")
	fs.StringVar(&o.output, "output", "table", "output `FORMAT`: table or json")
	fs.StringVar(&o.netduelBin, "netduel-bin", "", "a pre-built netduel binary `PATH` (default: go build ./cmd/netduel)")
	fs.BoolVar(&o.check, "check", false, "exit 1 when a target is missed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench/compare [--rounds N] [--duration D] [-o table|json] [--netduel-bin PATH] [--check]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.rounds < 1 || o.rounds > 100 {
		return nil, fmt.Errorf("--rounds %d: want 1 to 100", o.rounds)
	}
	if o.duration < time.Second || o.duration > time.Hour {
		return nil, fmt.Errorf("--duration %v: want 1s to 1h", o.duration)
	}
	if o.output != "table" && o.output != "json" {
		return nil, fmt.Errorf("-o %q: want table or json", o.output)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "compare:", err)
		return exitUsage
	}
	if whole := o.duration.Round(time.Second); whole != o.duration {
		if whole < o.duration {
			whole += time.Second
		}
		fmt.Fprintf(stderr, "compare: --duration %v rounded up to %v (iperf3 and sockperf take whole seconds)\n", o.duration, whole)
		o.duration = whole
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "compare: "+format+"\n", a...)
	}
	if err := ensureTools(ctx, logf, stderr); err != nil {
		logf("%v", err)
		return exitRuntime
	}
	tmp, err := os.MkdirTemp("", "netduel-compare-")
	if err != nil {
		logf("%v", err)
		return exitRuntime
	}
	defer os.RemoveAll(tmp)
	bin := o.netduelBin
	if bin == "" {
		if bin, err = buildNetduel(ctx, tmp, logf, stderr); err != nil {
			logf("%v", err)
			return exitRuntime
		}
	} else if _, err := os.Stat(bin); err != nil {
		logf("--netduel-bin: %v", err)
		return exitUsage
	}

	servers := &serverSet{logf: logf}
	defer servers.stopAll()
	ports, err := servers.startAll(ctx, bin, tmp)
	if err != nil {
		if ctx.Err() != nil {
			logf("interrupted")
		} else {
			logf("%v", err)
		}
		return exitRuntime
	}

	cmp := newComparison(o, bin, ports)
	cmp.versions = toolVersions(ctx, bin)
	cmp.measure(ctx, servers, logf)
	if ctx.Err() != nil {
		logf("interrupted")
		return exitRuntime
	}
	servers.stopAll()

	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(cmp.document()); err != nil {
			logf("%v", err)
			return exitRuntime
		}
	} else if err := cmp.renderTable(stdout); err != nil {
		logf("%v", err)
		return exitRuntime
	}
	for _, m := range cmp.metrics {
		if len(m.Netduel) == 0 || len(m.Competitor) == 0 {
			logf("%s: no sample from %s; see the errors above", m.Name, map[bool]string{true: "netduel", false: m.CompetitorName}[len(m.Netduel) == 0])
			return exitRuntime
		}
	}
	if o.check {
		for _, m := range cmp.metrics {
			if pass, ok := m.pass(); ok && !pass {
				return exitMissed
			}
		}
	}
	return exitOK
}

// ---------------------------------------------------------------------------
// Tools: iperf3 and sockperf from apt-get, netduel from the repository.

// ensureTools installs iperf3 and sockperf with apt-get when they are missing.
func ensureTools(ctx context.Context, logf func(string, ...any), stderr io.Writer) error {
	var missing []string
	for _, t := range []string{"iperf3", "sockperf"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("%s missing and apt-get not found: install them with your package manager", strings.Join(missing, " and "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s missing, and installing with apt-get needs root: run 'sudo apt-get install -y %s', then run this again", strings.Join(missing, " and "), strings.Join(missing, " "))
	}
	aptRun := func(args ...string) error {
		logf("apt-get %s", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		return cmd.Run()
	}
	install := append([]string{"install", "-y"}, missing...)
	if err := aptRun(install...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := aptRun("update"); err != nil {
			return fmt.Errorf("apt-get update: %v", err)
		}
		if err := aptRun(install...); err != nil {
			return fmt.Errorf("apt-get install %s: %v", strings.Join(missing, " "), err)
		}
	}
	for _, t := range missing {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s still missing after apt-get install", t)
		}
	}
	return nil
}

// buildNetduel builds ./cmd/netduel of the module the working directory is in.
func buildNetduel(ctx context.Context, dir string, logf func(string, ...any), stderr io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the netduel module: run from the repository, or pass --netduel-bin")
	}
	bin := filepath.Join(dir, "netduel")
	logf("go build -o %s ./cmd/netduel", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/netduel")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building netduel: %v", err)
	}
	return bin, nil
}

// toolVersions returns each tool's version line.
func toolVersions(ctx context.Context, netduel string) map[string]string {
	v := map[string]string{}
	first := func(name string, args ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
		return firstLine(stripANSI(string(out)))
	}
	v["iperf3"] = first("iperf3", "--version")
	v["sockperf"] = strings.TrimPrefix(first("sockperf", "--version"), "sockperf, ")
	v["netduel"] = first(netduel, "version")
	return v
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// Servers.

// ports are where the servers listen, all on 127.0.0.1.
type ports struct {
	netduel, iperf3, sockperfUDP, sockperfTCP int
}

// serverSet holds the servers this program started, to stop them all.
type serverSet struct {
	logf  func(string, ...any)
	mu    sync.Mutex
	procs []*server
}

type server struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	stderr *bytes.Buffer
}

func (s *serverSet) startAll(ctx context.Context, bin, tmp string) (ports, error) {
	var p ports
	var err error
	if p.netduel, err = freePort(true, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "netduel serve", p.netduel, probeTCP, bin, "serve", "--listen", hostPort(p.netduel), "-q"); err != nil {
		return p, err
	}
	if p.iperf3, err = freePort(true, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "iperf3 -s", p.iperf3, probeTCP, "iperf3", "-s", "-B", "127.0.0.1", "-p", strconv.Itoa(p.iperf3)); err != nil {
		return p, err
	}
	if p.sockperfUDP, err = freePort(false, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "sockperf server (UDP)", p.sockperfUDP, probeUDP, "sockperf", "server", "-i", "127.0.0.1", "-p", strconv.Itoa(p.sockperfUDP)); err != nil {
		return p, err
	}
	if p.sockperfTCP, err = freePort(true, false); err != nil {
		return p, err
	}
	if err := s.start(ctx, "sockperf server (TCP)", p.sockperfTCP, probeTCP, "sockperf", "server", "-i", "127.0.0.1", "-p", strconv.Itoa(p.sockperfTCP), "--tcp"); err != nil {
		return p, err
	}
	return p, nil
}

// start runs a server in its own process group and waits until probe says it
// listens on port.
func (s *serverSet) start(ctx context.Context, name string, port int, probe func(int) bool, path string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = sysProcAttr()
	srv := &server{name: name, cmd: cmd, done: make(chan struct{}), stderr: new(bytes.Buffer)}
	cmd.Stdout = io.Discard
	cmd.Stderr = &lockedWriter{w: srv.stderr}
	s.logf("starting %s on 127.0.0.1:%d", name, port)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %v", name, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, srv)
	s.mu.Unlock()
	go func() { _ = cmd.Wait(); close(srv.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if probe(port) {
			return nil
		}
		select {
		case <-srv.done:
			return fmt.Errorf("%s exited at start: %s", name, strings.TrimSpace(srv.stderr.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not listen on 127.0.0.1:%d after 10s", name, port)
		}
	}
}

// alive reports an error when a server has exited.
func (s *serverSet) alive() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s", p.name, strings.TrimSpace(p.stderr.String()))
		default:
		}
	}
	return nil
}

// stopAll stops every server: SIGTERM to its process group, SIGKILL after 2s.
// It may be called more than once.
func (s *serverSet) stopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for _, p := range procs {
		signalGroup(p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
			s.logf("%s ignored SIGTERM: killing it", p.name)
			signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

// signalGroup signals the process group led by pid (each server leads its own),
// and the process itself should it have left the group.
func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// freePort finds a port free on 127.0.0.1 for TCP and/or UDP. Another process
// may take it before the server binds it; the server's start then fails.
func freePort(tcp, udp bool) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		if udp {
			c, err := net.ListenPacket("udp4", hostPort(port))
			if err != nil {
				ok = false
			} else {
				c.Close()
			}
		}
		l.Close()
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("no port free for both TCP and UDP on 127.0.0.1")
}

func probeTCP(port int) bool {
	c, err := net.DialTimeout("tcp4", hostPort(port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// probeUDP says whether someone holds UDP port: binding it fails.
func probeUDP(port int) bool {
	c, err := net.ListenPacket("udp4", hostPort(port))
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// ---------------------------------------------------------------------------
// Measurements.

// Metric ids, in table order.
const (
	mTCPGoodput = iota
	mUDPGoodput
	mTCPp50
	mTCPp99
	mUDPp50
	mUDPp99
	nMetrics
)

// Metric is one compared figure with its samples, one per round.
type Metric struct {
	Name           string    `json:"name"`
	Unit           string    `json:"unit"` // bits/s or us
	HigherIsBetter bool      `json:"higher_is_better"`
	CompetitorName string    `json:"competitor"`
	Netduel        []float64 `json:"netduel_samples"`
	Competitor     []float64 `json:"competitor_samples"`
	TargetOp       string    `json:"target_op"` // ">=" or "<="
	Target         float64   `json:"target_ratio"`
	// UDP goodput only: the loss each side had in each round, and the most
	// netduel may have for its goodput to count ("goodput at <= 0.1% loss").
	NetduelLossPct    []float64 `json:"netduel_lost_pct_samples,omitempty"`
	CompetitorLossPct []float64 `json:"competitor_lost_pct_samples,omitempty"`
	LossLimitPct      float64   `json:"netduel_loss_limit_pct,omitempty"`
	Notes             []string  `json:"notes,omitempty"`
}

func newMetrics() []*Metric {
	return []*Metric{
		mTCPGoodput: {Name: "TCP goodput, 1 stream", Unit: "bits/s", HigherIsBetter: true, CompetitorName: "iperf3", TargetOp: ">=", Target: 1.0},
		mUDPGoodput: {Name: "UDP goodput, 1472 B, <= 0.1% loss", Unit: "bits/s", HigherIsBetter: true, CompetitorName: "iperf3", TargetOp: ">=", Target: 2.0, LossLimitPct: maxLossPct},
		mTCPp50:     {Name: "TCP RTT p50, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.1},
		mTCPp99:     {Name: "TCP RTT p99, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.5},
		mUDPp50:     {Name: "UDP RTT p50, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.1},
		mUDPp99:     {Name: "UDP RTT p99, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.5},
	}
}

// Medians and the ratio netduel / competitor; ok is false without samples.
func (m *Metric) medians() (nd, comp float64, ok bool) {
	nd, ok1 := median(m.Netduel)
	comp, ok2 := median(m.Competitor)
	return nd, comp, ok1 && ok2
}

func (m *Metric) ratio() (float64, bool) {
	nd, comp, ok := m.medians()
	if !ok {
		return 0, false
	}
	return ratio(nd, comp)
}

// pass says whether the ratio meets the target and, where there is a loss
// limit, whether netduel's median loss stays within it; ok is false without a
// ratio.
func (m *Metric) pass() (pass, ok bool) {
	r, ok := m.ratio()
	if !ok {
		return false, false
	}
	return meets(r, m.TargetOp, m.Target) && m.lossOK(), true
}

// lossOK says whether netduel's median loss is within the metric's limit.
func (m *Metric) lossOK() bool {
	if m.LossLimitPct <= 0 {
		return true
	}
	l, ok := median(m.NetduelLossPct)
	return !ok || l <= m.LossLimitPct
}

func meets(r float64, op string, target float64) bool {
	if op == ">=" {
		return r >= target
	}
	return r <= target
}

// median of xs (the mean of the middle two for an even count); ok is false for none.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// ratio a/b; ok is false when b is not positive or either is not finite.
func ratio(a, b float64) (float64, bool) {
	if b <= 0 || math.IsNaN(a) || math.IsInf(a, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
		return 0, false
	}
	return a / b, true
}

type comparison struct {
	o        *options
	bin      string
	ports    ports
	metrics  []*Metric
	errors   []string
	versions map[string]string
	started  time.Time
	round    int // the round running
}

func newComparison(o *options, bin string, p ports) *comparison {
	return &comparison{o: o, bin: bin, ports: p, metrics: newMetrics(), started: time.Now().UTC()}
}

// step is one measurement: a tool run that yields samples for some metrics.
type step struct {
	tool string // netduel, iperf3 or sockperf
	what string
	run  func(ctx context.Context) error
}

// measure runs the rounds. Within a round each comparison runs netduel and its
// competitor back to back; the order within each pair alternates from round to
// round so that neither side always runs first.
func (c *comparison) measure(ctx context.Context, servers *serverSet, logf func(string, ...any)) {
	secs := strconv.Itoa(int(c.o.duration / time.Second))
	dur := c.o.duration.String()
	nd := func(what string, ms map[string]int, args ...string) step {
		return step{tool: "netduel", what: what, run: func(ctx context.Context) error {
			full := append([]string{"run", "--server", hostPort(c.ports.netduel), "--duration", dur, "-q", "-o", "json"}, args...)
			out, err := c.exec(ctx, c.bin, full...)
			if len(out) == 0 && err != nil {
				return err
			}
			rs, perr := parseNetduel(out)
			if perr != nil {
				if err != nil {
					return err
				}
				return perr
			}
			for key, id := range ms {
				r, err := rs.find(key)
				if err != nil {
					return err
				}
				switch id {
				case mTCPGoodput:
					c.add(id, true, r.GoodputBps)
				case mUDPGoodput:
					c.add(id, true, r.GoodputBps)
					m := c.metrics[id]
					m.NetduelLossPct = append(m.NetduelLossPct, r.LostPct)
					if r.LostPct > maxLossPct {
						c.note(id, fmt.Sprintf("round %d: netduel --bitrate max ended with a test that lost %.3g%%, above --max-loss %g%%", c.round, r.LostPct, maxLossPct))
					}
				case mTCPp50, mUDPp50:
					c.add(id, true, r.RTT.P50)
					c.add(id+1, true, r.RTT.P99)
				}
			}
			return err
		}}
	}
	iperf := func(what string, id int, args ...string) step {
		return step{tool: "iperf3", what: what, run: func(ctx context.Context) error {
			full := append([]string{"-c", "127.0.0.1", "-p", strconv.Itoa(c.ports.iperf3), "-t", secs, "-J"}, args...)
			var res iperfResult
			var err error
			for try := 0; try < 3; try++ {
				var out []byte
				out, err = c.exec(ctx, "iperf3", full...)
				var perr error
				if res, perr = parseIperf3(out); perr == nil {
					err = nil
					break
				} else if err == nil || len(out) > 0 {
					err = perr
				}
				if ctx.Err() != nil || !strings.Contains(err.Error(), "busy") {
					break
				}
				time.Sleep(time.Second) // the server is still closing the last test
			}
			if err != nil {
				return err
			}
			c.add(id, false, res.Goodput)
			if res.UDP {
				m := c.metrics[id]
				m.CompetitorLossPct = append(m.CompetitorLossPct, res.LostPct)
			}
			return nil
		}}
	}
	sockperf := func(what string, id, port int, args ...string) step {
		return step{tool: "sockperf", what: what, run: func(ctx context.Context) error {
			full := append([]string{"ping-pong", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(rttSize), "-t", secs}, args...)
			out, err := c.exec(ctx, "sockperf", full...)
			res, perr := parseSockperf(out)
			if perr != nil {
				if err != nil {
					return err
				}
				return perr
			}
			// sockperf reports half round trips: double them.
			c.add(id, false, 2*res.P50)
			c.add(id+1, false, 2*res.P99)
			return nil
		}}
	}
	size := strconv.Itoa(udpPayload)
	pairs := [][2]step{
		{nd("TCP goodput", map[string]int{"tcp/throughput": mTCPGoodput}, "--proto", "tcp", "--test", "throughput"),
			iperf("TCP goodput", mTCPGoodput)},
		{nd("UDP goodput (--bitrate max)", map[string]int{"udp/throughput": mUDPGoodput}, "--proto", "udp", "--test", "throughput", "--size", size, "--bitrate", "max", "--max-loss", strconv.FormatFloat(maxLossPct, 'g', -1, 64)+"%"),
			iperf("UDP goodput (-b 0 -l 1472)", mUDPGoodput, "-u", "-b", "0", "-l", size)},
		{nd("TCP round trip", map[string]int{"tcp/latency": mTCPp50}, "--proto", "tcp", "--test", "latency", "--size", strconv.Itoa(rttSize)),
			sockperf("TCP round trip", mTCPp50, c.ports.sockperfTCP, "--tcp")},
		{nd("UDP round trip", map[string]int{"udp/latency": mUDPp50}, "--proto", "udp", "--test", "latency", "--size", strconv.Itoa(rttSize)),
			sockperf("UDP round trip", mUDPp50, c.ports.sockperfUDP)},
	}
	for round := 1; round <= c.o.rounds; round++ {
		c.round = round
		for _, pair := range pairs {
			order := pair
			if round%2 == 0 {
				order = [2]step{pair[1], pair[0]}
			}
			for _, s := range order {
				if ctx.Err() != nil {
					return
				}
				if err := servers.alive(); err != nil {
					c.fail(fmt.Sprintf("round %d: %v", round, err), logf)
					return
				}
				logf("round %d/%d: %s %s", round, c.o.rounds, s.tool, s.what)
				if err := s.run(ctx); err != nil && ctx.Err() == nil {
					c.fail(fmt.Sprintf("round %d: %s %s: %v", round, s.tool, s.what, err), logf)
				}
			}
		}
	}
}

func (c *comparison) add(id int, netduel bool, v float64) {
	m := c.metrics[id]
	if netduel {
		m.Netduel = append(m.Netduel, v)
	} else {
		m.Competitor = append(m.Competitor, v)
	}
}

func (c *comparison) note(id int, s string) {
	c.metrics[id].Notes = append(c.metrics[id].Notes, s)
}

func (c *comparison) fail(s string, logf func(string, ...any)) {
	logf("%s", s)
	c.errors = append(c.errors, s)
}

// exec runs a client with a deadline well past the test's duration and returns
// its stdout. A netduel --bitrate max search runs about 8 short trials and up to
// 3 full ones.
func (c *comparison) exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 6*c.o.duration+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error {
		signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		msg := firstLine(stripANSI(stderr.String()))
		if ctx.Err() == context.DeadlineExceeded {
			msg = "timed out"
		}
		if msg != "" {
			err = fmt.Errorf("%v: %s", err, msg)
		}
	}
	return stdout.Bytes(), err
}

// ---------------------------------------------------------------------------
// Parsers.

// netduelResult is the part of a netduel.run/v1 result the comparison uses.
type netduelResult struct {
	Proto      string  `json:"proto"`
	Test       string  `json:"test"`
	Size       int     `json:"size"`
	GoodputBps float64 `json:"goodput_bps"`
	LostPct    float64 `json:"lost_pct"`
	RTT        *struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"rtt_us"`
	Error string `json:"error"`
}

type netduelReport struct {
	Schema  string          `json:"schema"`
	Results []netduelResult `json:"results"`
}

func parseNetduel(b []byte) (*netduelReport, error) {
	var r netduelReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("netduel JSON: %v", err)
	}
	if !strings.HasPrefix(r.Schema, "netduel.run/") {
		return nil, fmt.Errorf("netduel JSON: schema %q, want netduel.run/v1", r.Schema)
	}
	return &r, nil
}

// find returns the result for "proto/test", checked for the fields it needs.
func (r *netduelReport) find(key string) (*netduelResult, error) {
	for i := range r.Results {
		res := &r.Results[i]
		if res.Proto+"/"+res.Test != key {
			continue
		}
		if res.Error != "" {
			return nil, fmt.Errorf("netduel %s %s: %s", res.Proto, res.Test, res.Error)
		}
		if res.Test == "latency" && res.RTT == nil {
			return nil, fmt.Errorf("netduel %s latency: no rtt_us in the result", res.Proto)
		}
		return res, nil
	}
	return nil, fmt.Errorf("netduel JSON: no %s result", key)
}

// iperfResult is what the comparison takes from an iperf3 -J report.
type iperfResult struct {
	Goodput float64 // bits/s received (TCP), or sent rate × (1 − loss) (UDP)
	LostPct float64 // UDP
	UDP     bool
}

type iperfSum struct {
	BitsPerSecond float64  `json:"bits_per_second"`
	LostPercent   *float64 `json:"lost_percent"`
}

func parseIperf3(b []byte) (iperfResult, error) {
	var doc struct {
		Start struct {
			TestStart struct {
				Protocol string `json:"protocol"`
			} `json:"test_start"`
		} `json:"start"`
		End struct {
			Sum         *iperfSum `json:"sum"`
			SumReceived *iperfSum `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return iperfResult{}, fmt.Errorf("iperf3 JSON: %v", err)
	}
	if doc.Error != "" {
		return iperfResult{}, fmt.Errorf("iperf3: %s", doc.Error)
	}
	if strings.EqualFold(doc.Start.TestStart.Protocol, "UDP") {
		s := doc.End.Sum
		if s == nil || s.LostPercent == nil {
			return iperfResult{}, errors.New("iperf3 JSON: UDP report without end.sum.lost_percent")
		}
		lost := *s.LostPercent
		return iperfResult{Goodput: s.BitsPerSecond * (1 - lost/100), LostPct: lost, UDP: true}, nil
	}
	if doc.End.SumReceived == nil {
		return iperfResult{}, errors.New("iperf3 JSON: TCP report without end.sum_received")
	}
	return iperfResult{Goodput: doc.End.SumReceived.BitsPerSecond}, nil
}

// sockperfResult holds sockperf ping-pong's latencies, in microseconds, as
// sockperf prints them: half round trips.
type sockperfResult struct {
	Avg, P50, P99, Max float64
	Observations       int
}

var (
	ansiRE       = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	percentileRE = regexp.MustCompile(`--->\s+percentile\s+([0-9.]+)\s*=\s*([0-9.]+)`)
	maxRE        = regexp.MustCompile(`--->\s+<MAX> observation\s*=\s*([0-9.]+)`)
	avgRE        = regexp.MustCompile(`avg-latency=([0-9.]+)`)
	totalRE      = regexp.MustCompile(`Total (\d+) observations`)
)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// parseSockperf reads sockperf ping-pong's summary, e.g.
//
//	sockperf: ---> percentile 99.000 =   36.834
//	sockperf: ---> percentile 50.000 =   12.919
func parseSockperf(b []byte) (sockperfResult, error) {
	var r sockperfResult
	var have50, have99 bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := stripANSI(sc.Text())
		if m := percentileRE.FindStringSubmatch(line); m != nil {
			p, err1 := strconv.ParseFloat(m[1], 64)
			v, err2 := strconv.ParseFloat(m[2], 64)
			if err1 != nil || err2 != nil {
				continue
			}
			switch p {
			case 50:
				r.P50, have50 = v, true
			case 99:
				r.P99, have99 = v, true
			}
		} else if m := maxRE.FindStringSubmatch(line); m != nil {
			r.Max, _ = strconv.ParseFloat(m[1], 64)
		} else if m := avgRE.FindStringSubmatch(line); m != nil {
			r.Avg, _ = strconv.ParseFloat(m[1], 64)
		} else if m := totalRE.FindStringSubmatch(line); m != nil {
			r.Observations, _ = strconv.Atoi(m[1])
		}
	}
	if !have50 || !have99 {
		msg := "no 'percentile 50.000' and 'percentile 99.000' lines in sockperf's output"
		if l := lastLine(stripANSI(string(b))); l != "" {
			msg += " (last line: " + l + ")"
		}
		return r, errors.New(msg)
	}
	return r, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// ---------------------------------------------------------------------------
// Output.

// document is the JSON output.
type document struct {
	Schema    string            `json:"schema"`
	Started   time.Time         `json:"started"`
	Rounds    int               `json:"rounds"`
	DurationS float64           `json:"duration_s"`
	Versions  map[string]string `json:"versions"`
	Metrics   []metricDoc       `json:"metrics"`
	Errors    []string          `json:"errors,omitempty"`
}

type metricDoc struct {
	*Metric
	NetduelMedian    *float64 `json:"netduel_median"`
	CompetitorMedian *float64 `json:"competitor_median"`
	Ratio            *float64 `json:"ratio"` // netduel / competitor; null without samples
	Pass             *bool    `json:"pass"`
}

func (c *comparison) document() document {
	d := document{Schema: Schema, Started: c.started, Rounds: c.o.rounds, DurationS: c.o.duration.Seconds(), Versions: c.versions, Errors: c.errors}
	for _, m := range c.metrics {
		md := metricDoc{Metric: m}
		if v, ok := median(m.Netduel); ok {
			md.NetduelMedian = &v
		}
		if v, ok := median(m.Competitor); ok {
			md.CompetitorMedian = &v
		}
		if r, ok := m.ratio(); ok {
			md.Ratio = &r
			p, _ := m.pass()
			md.Pass = &p
		}
		d.Metrics = append(d.Metrics, md)
	}
	return d
}

// formatValue prints a median in its unit.
func formatValue(v float64, unit string) string {
	switch unit {
	case "bits/s":
		return fmt.Sprintf("%.2f Gbit/s", v/1e9)
	case "us":
		return fmt.Sprintf("%.1f us", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// lossText is ", 1.2% loss" from the median of loss samples, or "".
func lossText(samples []float64) string {
	l, ok := median(samples)
	if !ok {
		return ""
	}
	return fmt.Sprintf(", %.3g%% loss", l)
}

// rows returns the table: one row per metric.
func (c *comparison) rows() [][]string {
	var rows [][]string
	for _, m := range c.metrics {
		ndS, compS, ratioS, result := "-", "-", "-", "no data"
		if v, ok := median(m.Netduel); ok {
			ndS = formatValue(v, m.Unit) + lossText(m.NetduelLossPct)
		}
		if v, ok := median(m.Competitor); ok {
			compS = formatValue(v, m.Unit) + lossText(m.CompetitorLossPct)
		}
		if r, ok := m.ratio(); ok {
			ratioS = fmt.Sprintf("%.2fx", r)
			result = "miss"
			if pass, _ := m.pass(); pass {
				result = "pass"
			} else if meets(r, m.TargetOp, m.Target) {
				result = fmt.Sprintf("miss: loss > %g%%", m.LossLimitPct)
			}
		}
		n := fmt.Sprintf("%d/%d", len(m.Netduel), len(m.Competitor))
		rows = append(rows, []string{m.Name, ndS, m.CompetitorName, compS, ratioS, fmt.Sprintf("%s %.1fx", m.TargetOp, m.Target), result, n})
	}
	return rows
}

func (c *comparison) renderTable(w io.Writer) error {
	fmt.Fprintf(w, "netduel vs iperf3 and sockperf on 127.0.0.1: medians of %d round(s) of %v each\n", c.o.rounds, c.o.duration)
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header("metric", "netduel", "vs", "competitor", "ratio", "target", "result", "samples")
	for _, r := range c.rows() {
		row := make([]any, len(r))
		for i, v := range r {
			row[i] = v
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "ratio = netduel / competitor (medians); sockperf's half round trips are doubled; loss is the median of the rounds'.")
	var notes []string
	for _, m := range c.metrics {
		for _, n := range m.Notes {
			notes = append(notes, m.Name+": "+n)
		}
	}
	notes = append(notes, c.errors...)
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if len(c.versions) > 0 {
		keys := make([]string, 0, len(c.versions))
		for k := range c.versions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+" "+strings.TrimPrefix(c.versions[k], k+" "))
		}
		fmt.Fprintln(w, "versions: "+strings.Join(parts, "; "))
	}
	return nil
}
