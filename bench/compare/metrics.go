//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Measurements.

// Metric ids, in table order.
const (
	mTCPGoodput = iota
	mUDPGoodput
	mTCPp50
	mTCPp99
	mUDPp50
	mUDPp99
	mTCPBusyp50
	mTCPBusyp99
	mUDPBusyp50
	mUDPBusyp99
	mTCPCPU
	mUDPCPU
	nMetrics // the port check rows follow, one per output format (cost.go)
)

// Metric is one compared figure with its samples, one per round.
type Metric struct {
	Name           string `json:"name"`
	Unit           string `json:"unit"` // bits/s, us, s/GB or s
	HigherIsBetter bool   `json:"higher_is_better"`
	// CompetitorName is empty for a metric with an absolute target
	// (TargetValue, in Unit) instead of a ratio to a competitor's.
	CompetitorName string    `json:"competitor,omitempty"`
	Netduel        []float64 `json:"netduel_samples"`
	Competitor     []float64 `json:"competitor_samples"`
	TargetOp       string    `json:"target_op"` // ">=" or "<="
	Target         float64   `json:"target_ratio,omitempty"`
	TargetValue    float64   `json:"target_value,omitempty"`
	// UDP goodput only: the loss each side had in each round, and the most
	// netduel may have for its goodput to count ("goodput at <= 0.1% loss").
	NetduelLossPct    []float64 `json:"netduel_lost_pct_samples,omitempty"`
	CompetitorLossPct []float64 `json:"competitor_lost_pct_samples,omitempty"`
	LossLimitPct      float64   `json:"netduel_loss_limit_pct,omitempty"`
	Notes             []string  `json:"notes,omitempty"`
	// CPU per GB only: each sample's parts, client and server.
	NetduelCPU    []cpuSample `json:"netduel_cpu_samples,omitempty"`
	CompetitorCPU []cpuSample `json:"competitor_cpu_samples,omitempty"`
}

// newMetrics lists the rows with DESIGN §9's targets (the goodputs' were
// 1.0x and 2.0x of iperf3's until 2026-12-04, looser than §9's 2.0x and 2.5x).
func newMetrics() []*Metric {
	ms := []*Metric{
		mTCPGoodput: {Name: "TCP goodput, 1 stream", Unit: "bits/s", HigherIsBetter: true, CompetitorName: "iperf3", TargetOp: ">=", Target: 2.0},
		mUDPGoodput: {Name: "UDP goodput, 1472 B, <= 0.1% loss", Unit: "bits/s", HigherIsBetter: true, CompetitorName: "iperf3", TargetOp: ">=", Target: 2.5, LossLimitPct: maxLossPct},
		mTCPp50:     {Name: "TCP RTT p50, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.1},
		mTCPp99:     {Name: "TCP RTT p99, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.5},
		mUDPp50:     {Name: "UDP RTT p50, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.1},
		mUDPp99:     {Name: "UDP RTT p99, 64 B", Unit: "us", CompetitorName: "sockperf", TargetOp: "<=", Target: 1.5},
		mTCPBusyp50: {Name: "TCP RTT p50, 64 B, busy-poll", Unit: "us", CompetitorName: "sockperf busy", TargetOp: "<=", Target: 1.1},
		mTCPBusyp99: {Name: "TCP RTT p99, 64 B, busy-poll", Unit: "us", CompetitorName: "sockperf busy", TargetOp: "<=", Target: 1.5},
		mUDPBusyp50: {Name: "UDP RTT p50, 64 B, busy-poll", Unit: "us", CompetitorName: "sockperf busy", TargetOp: "<=", Target: 1.1},
		mUDPBusyp99: {Name: "UDP RTT p99, 64 B, busy-poll", Unit: "us", CompetitorName: "sockperf busy", TargetOp: "<=", Target: 1.5},
		mTCPCPU:     {Name: "TCP CPU per GB, client+server", Unit: "s/GB", CompetitorName: "iperf3", TargetOp: "<=", Target: 1.0},
		mUDPCPU:     {Name: "UDP CPU per GB, 1472 B at " + udpCPURateName, Unit: "s/GB", CompetitorName: "iperf3", TargetOp: "<=", Target: 1.0},
	}
	return append(ms, portCheckMetrics()...)
}

// absolute says whether the metric's target is a value (TargetValue) rather
// than a ratio to a competitor.
func (m *Metric) absolute() bool { return m.CompetitorName == "" }

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
	if m.absolute() {
		v, ok := median(m.Netduel)
		return ok && meets(v, m.TargetOp, m.TargetValue), ok
	}
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
	round    int        // the round running
	servers  *serverSet // the servers, whose CPU time the CPU metrics read
	steal    *stealLog  // nil where steal time cannot be read
	// probe, where there is one, probes the CPUs' placement around the
	// busy-poll pairs (see runPlaced), into placement.
	probe     probeFunc
	placement *placementLog
}

func newComparison(o *options, bin string, p ports) *comparison {
	return &comparison{o: o, bin: bin, ports: p, metrics: newMetrics(), started: time.Now().UTC()}
}

// step is one measurement: a tool run that yields samples for some metrics.
type step struct {
	tool string // netduel, iperf3 or sockperf
	what string
	run  func(ctx context.Context) error
	// placed: a busy-poll step, whose pair is probed for the CPUs'
	// placement (see runPlaced).
	placed bool
}

// usePlacement makes the comparison probe the CPUs' placement around its
// busy-poll pairs, where the machine allows it (see runPlaced).
func (c *comparison) usePlacement() {
	probe, cpus := newProbe()
	if probe != nil {
		c.probe, c.placement = probe, &placementLog{CPUs: cpus}
	}
}

// measure runs the rounds. Within a round each comparison runs netduel and its
// competitor back to back; the order within each pair alternates from round to
// round so that neither side always runs first. A metric without a competitor
// (the port check) is a group of one step.
func (c *comparison) measure(ctx context.Context, servers *serverSet, logf func(string, ...any)) {
	c.servers = servers
	groups := append(c.pairs(), c.portCheckSteps()...)
	for round := 1; round <= c.o.rounds; round++ {
		c.round = round
		run := func(s step) bool { return c.runStep(ctx, s, servers, logf) }
		for _, group := range groups {
			if c.probe != nil && group[0].placed {
				if !c.runPlaced(group, run, logf) {
					return
				}
				continue
			}
			for _, s := range inOrder(group, round) {
				if !run(s) {
					return
				}
			}
		}
	}
}

// runStep runs one step of the round; false stops the rounds (interrupted,
// or a server died and would not start again).
func (c *comparison) runStep(ctx context.Context, s step, servers *serverSet, logf func(string, ...any)) bool {
	if ctx.Err() != nil {
		return false
	}
	if err := servers.alive(); err != nil {
		// A server that died is started again, and the rounds go on; the
		// error stays in the report.
		if rerr := servers.revive(ctx); rerr != nil {
			c.fail(fmt.Sprintf("round %d: %v; starting it again failed: %v", c.round, err, rerr), logf)
			return false
		}
		c.fail(fmt.Sprintf("round %d: %v; started it again", c.round, err), logf)
	}
	logf("round %d/%d: %s %s", c.round, c.o.rounds, s.tool, s.what)
	before, ok := stealTime()
	start := time.Now()
	if err := s.run(ctx); err != nil && ctx.Err() == nil {
		c.fail(fmt.Sprintf("round %d: %s %s: %v", c.round, s.tool, s.what, err), logf)
	}
	if after, ok2 := stealTime(); ok && ok2 {
		if c.steal == nil {
			c.steal = &stealLog{}
		}
		wall := float64(time.Since(start)) / float64(time.Millisecond)
		c.steal.add(stealStep{Round: c.round, Tool: s.tool, What: s.what, MS: max(0, after-before)}, wall, machineCPUs())
	}
	return true
}

// inOrder is a group's steps in the order of the round: reversed in even rounds.
func inOrder(group []step, round int) []step {
	if round%2 == 1 {
		return group
	}
	out := slices.Clone(group)
	slices.Reverse(out)
	return out
}

// pairs are the comparisons of a round: netduel's step and its competitor's.
// The TCP goodput pair also gives the TCP CPU per GB.
func (c *comparison) pairs() [][]step {
	size := strconv.Itoa(udpPayload)
	rtt := strconv.Itoa(rttSize)
	return [][]step{
		{c.netduelStep("TCP goodput", "tcp/throughput", both(c.takeGoodput(mTCPGoodput), c.takeCPU(mTCPCPU)), "--proto", "tcp", "--test", "throughput"),
			c.iperfStep("TCP goodput", iperfIDs{goodput: mTCPGoodput, cpu: mTCPCPU})},
		{c.netduelStep("UDP goodput (--bitrate max)", "udp/throughput", c.takeUDPGoodput(mUDPGoodput), "--proto", "udp", "--test", "throughput", "--size", size, "--bitrate", "max", "--max-loss", strconv.FormatFloat(maxLossPct, 'g', -1, 64)+"%"),
			c.iperfStep("UDP goodput (-b 0 -l 1472)", iperfIDs{goodput: mUDPGoodput, cpu: -1}, "-u", "-b", "0", "-l", size)},
		{c.netduelStep("UDP CPU per GB (--bitrate "+udpCPURate+")", "udp/throughput", c.takeCPU(mUDPCPU), "--proto", "udp", "--test", "throughput", "--size", size, "--bitrate", udpCPURate),
			c.iperfStep("UDP CPU per GB (-b "+udpCPURate+" -l 1472)", iperfIDs{goodput: -1, cpu: mUDPCPU}, "-u", "-b", udpCPURate, "-l", size)},
		{c.netduelStep("TCP round trip", "tcp/latency", c.takeRTT(mTCPp50), "--proto", "tcp", "--test", "latency", "--size", rtt),
			c.sockperfStep("TCP round trip", mTCPp50, c.ports.sockperfTCP, "--tcp")},
		{c.netduelStep("UDP round trip", "udp/latency", c.takeRTT(mUDPp50), "--proto", "udp", "--test", "latency", "--size", rtt),
			c.sockperfStep("UDP round trip", mUDPp50, c.ports.sockperfUDP)},
		// Busy polling, both ends: netduel's server spins only while such a
		// session lasts; sockperf's busy server spins from its start, so it
		// runs only for its own step (it would take a core from every other).
		placed(c.netduelStep("TCP round trip (--busy-poll)", "tcp/latency", c.takeRTT(mTCPBusyp50), "--proto", "tcp", "--test", "latency", "--size", rtt, "--busy-poll"),
			c.sockperfBusyStep("TCP round trip (busy)", mTCPBusyp50, true)),
		placed(c.netduelStep("UDP round trip (--busy-poll)", "udp/latency", c.takeRTT(mUDPBusyp50), "--proto", "udp", "--test", "latency", "--size", rtt, "--busy-poll"),
			c.sockperfBusyStep("UDP round trip (busy)", mUDPBusyp50, false)),
	}
}

// placed marks a pair's steps as placed (see step).
func placed(pair ...step) []step {
	for i := range pair {
		pair[i].placed = true
	}
	return pair
}

// sockBusy is sockperf's busy-polling mode, for its server and its client.
var sockBusy = []string{"--nonblocked", "--timeout", "0"}

// sockperfBusyStep runs a sockperf server and client in busy-polling mode
// (sockBusy), the server started for this step alone.
func (c *comparison) sockperfBusyStep(what string, id int, tcp bool) step {
	inner := func(port int) step {
		args := slices.Clone(sockBusy)
		if tcp {
			args = append(args, "--tcp")
		}
		return c.sockperfStep(what, id, port, args...)
	}
	return step{tool: "sockperf", what: what, run: func(ctx context.Context) error {
		port, err := freePort(tcp, !tcp)
		if err != nil {
			return err
		}
		probe, args := probeUDP, append([]string{"server", "-i", "127.0.0.1", "-p", strconv.Itoa(port)}, sockBusy...)
		if tcp {
			probe, args = probeTCP, append(args, "--tcp")
		}
		srv := &serverSet{logf: c.servers.logf}
		defer srv.stopAll()
		if err := srv.start(ctx, "sockperf busy server", port, probe, "sockperf", args...); err != nil {
			return err
		}
		return inner(port).run(ctx)
	}}
}

// take records a netduel result's figures, and the CPU time the run took,
// in the comparison's metrics; an error says why it recorded nothing.
type take func(r *netduelResult, u usage) error

func (c *comparison) takeGoodput(id int) take {
	return func(r *netduelResult, _ usage) error {
		c.add(id, true, r.GoodputBps)
		return nil
	}
}

// both is a take that records with a, then with b.
func both(a, b take) take {
	return func(r *netduelResult, u usage) error { return errors.Join(a(r, u), b(r, u)) }
}

// takeUDPGoodput records the goodput and the loss of a --bitrate max search.
func (c *comparison) takeUDPGoodput(id int) take {
	return func(r *netduelResult, _ usage) error {
		c.add(id, true, r.GoodputBps)
		m := c.metrics[id]
		m.NetduelLossPct = append(m.NetduelLossPct, r.LostPct)
		if r.LostPct > maxLossPct {
			c.note(id, fmt.Sprintf("round %d: netduel --bitrate max ended with a test that lost %.3g%%, above --max-loss %g%%", c.round, r.LostPct, maxLossPct))
		}
		return nil
	}
}

// takeRTT records the p50 in metric p50 and the p99 in the one after it,
// and notes how netduel's ends waited for their messages.
func (c *comparison) takeRTT(p50 int) take {
	return func(r *netduelResult, _ usage) error {
		if r.Wait != nil {
			w := "netduel waited: client " + r.Wait.Client + ", server " + r.Wait.Server
			if !slices.Contains(c.metrics[p50].Notes, w) {
				c.note(p50, w)
			}
		}
		c.add(p50, true, r.RTT.P50)
		c.add(p50+1, true, r.RTT.P99)
		return nil
	}
}

// netduelStep runs 'netduel run' against the server and records the result of
// kind ("proto/test") with record.
func (c *comparison) netduelStep(what, kind string, record take, args ...string) step {
	dur := c.o.duration.String()
	return step{tool: "netduel", what: what, run: func(ctx context.Context) error {
		full := append([]string{"run", "--server", hostPort(c.ports.netduel), "--duration", dur, "-q", "-o", "json"}, args...)
		out, u, err := c.execServed(ctx, "netduel serve", c.bin, full...)
		if len(out) == 0 && err != nil {
			return err
		}
		rs, perr := parseNetduel(out)
		if perr != nil {
			return firstErr(err, perr)
		}
		r, ferr := rs.find(kind)
		if ferr != nil {
			return ferr
		}
		return firstErr(err, record(r, u))
	}}
}

// firstErr returns a if it is not nil, else b.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// iperfIDs are the metrics an iperf3 step records in: its goodput and its
// CPU per GB; -1 for none.
type iperfIDs struct{ goodput, cpu int }

// iperfStep runs an iperf3 client, again while the server is still busy with
// the last test.
func (c *comparison) iperfStep(what string, ids iperfIDs, args ...string) step {
	secs := strconv.Itoa(int(c.o.duration / time.Second))
	return step{tool: "iperf3", what: what, run: func(ctx context.Context) error {
		full := append([]string{"-c", "127.0.0.1", "-p", strconv.Itoa(c.ports.iperf3), "-t", secs, "-J"}, args...)
		res, u, err := c.iperf(ctx, full)
		if err != nil {
			return err
		}
		if id := ids.goodput; id >= 0 {
			c.add(id, false, res.Goodput)
			if res.UDP {
				m := c.metrics[id]
				m.CompetitorLossPct = append(m.CompetitorLossPct, res.LostPct)
			}
		}
		if id := ids.cpu; id >= 0 {
			if err := c.addCPU(id, false, u, res.Bytes); err != nil {
				return err
			}
			if res.UDP {
				m := c.metrics[id]
				m.CompetitorLossPct = append(m.CompetitorLossPct, res.LostPct)
			}
		}
		return nil
	}}
}

// iperf runs iperf3 up to three times while its server says it is busy; the
// usage is the last run's.
func (c *comparison) iperf(ctx context.Context, args []string) (iperfResult, usage, error) {
	var res iperfResult
	var u usage
	var err error
	for try := 0; try < 3; try++ {
		var out []byte
		out, u, err = c.execServed(ctx, "iperf3 -s", "iperf3", args...)
		var perr error
		if res, perr = parseIperf3(out); perr == nil {
			return res, u, nil
		} else if err == nil || len(out) > 0 {
			err = perr
		}
		if ctx.Err() != nil || !strings.Contains(err.Error(), "busy") {
			break
		}
		time.Sleep(time.Second) // the server is still closing the last test
	}
	return res, u, err
}

// sockperfStep runs a sockperf ping-pong client; it records the p50 in
// metric id and the p99 in the one after it.
func (c *comparison) sockperfStep(what string, id, port int, args ...string) step {
	secs := strconv.Itoa(int(c.o.duration / time.Second))
	return step{tool: "sockperf", what: what, run: func(ctx context.Context) error {
		full := append([]string{"ping-pong", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(rttSize), "-t", secs}, args...)
		out, err := c.exec(ctx, "sockperf", full...)
		res, perr := parseSockperf(out)
		if perr != nil {
			return firstErr(err, perr)
		}
		// sockperf reports half round trips: double them.
		c.add(id, false, 2*res.P50)
		c.add(id+1, false, 2*res.P99)
		return nil
	}}
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
	r, err := c.execTimed(ctx, name, args...)
	return r.out, err
}

// ran is what a client run gave: its stdout, its CPU time (user + system,
// from the kernel's rusage of the child) and its wall time.
type ran struct {
	out       []byte
	cpu, wall time.Duration
}

// execTimed is exec with the client's CPU and wall time.
func (c *comparison) execTimed(ctx context.Context, name string, args ...string) (ran, error) {
	var stdout bytes.Buffer
	r, err := c.execTimedTo(ctx, &stdout, name, args...)
	r.out = stdout.Bytes()
	return r, err
}

// execTimedTo is execTimed with the client's stdout written to stdout (ran's
// out left empty).
func (c *comparison) execTimedTo(ctx context.Context, stdout io.Writer, name string, args ...string) (ran, error) {
	ctx, cancel := context.WithTimeout(ctx, 6*c.o.duration+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error {
		signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := ran{wall: time.Since(start)}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		msg := firstLine(stripANSI(stderr.String()))
		if ctx.Err() == context.DeadlineExceeded {
			msg = "timed out"
		}
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	}
	return r, err
}
