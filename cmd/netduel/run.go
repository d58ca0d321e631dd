package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/port"
	"github.com/netduel/netduel/report"
	"github.com/netduel/netduel/stack"
)

func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "server", Usage: "`HOST:PORT` of a running 'netduel serve'; without it an embedded server runs on 127.0.0.1, port 0"},
		tokenFlag("shared secret of a 'netduel serve --token' server (also $NETDUEL_TOKEN); proved by HMAC, never sent; used with --server"),
		&cli.StringFlag{Name: "proto", Value: "tcp,udp", Usage: "protocols to compare, a comma list of tcp, udp"},
		&cli.StringFlag{Name: "test", Value: "throughput,latency", Usage: "tests to run, a comma list of throughput, latency"},
		&cli.DurationFlag{Name: "duration", Value: 3 * time.Second, Usage: "how long each test runs"},
		&cli.StringFlag{Name: "size", Usage: "`BYTES` of one frame on the wire (header + body); default 1400 for UDP datagrams, 128K for the TCP write unit, 64 for latency requests"},
		&cli.StringFlag{Name: "bitrate", Value: "0", Usage: "UDP throughput pacing `RATE` in bits/s with k/M/G suffixes; 0 = unpaced; max = search for the highest rate whose loss stays within --max-loss"},
		&cli.StringFlag{Name: "max-loss", Value: "0.1%", Usage: "with --bitrate max: the loss `PERCENT` the rate found may have"},
		&cli.DurationFlag{Name: "interval", Usage: "record goodput, loss and jitter (or round trips) every `D` into each result's intervals (e.g. 1s); 0 = none"},
		&cli.BoolFlag{Name: "intervals", Usage: "show the intervals in table and markdown output (implies --interval 1s if unset)"},
		&cli.StringFlag{Name: "udp-checksum", Value: "on", Usage: "`on` or off: off sends the client's UDP datagrams without a checksum (IPv4), so that a corrupted one reaches the server and its frame CRC32C counts it in corrupt_frames, instead of the kernel discarding it"},
		&cli.DurationFlag{Name: "settle", Value: 250 * time.Millisecond, Usage: "how long the server waits for UDP frames still in flight after the sender's fin"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "output `FORMAT`: table, json, ndjson, csv or markdown"},
		&cli.StringSliceFlag{Name: "assert", Usage: "pass/fail rule `EXPR` = PROTO.TEST.FIELD OP NUMBER[UNIT] [@ CELL], e.g. 'udp.throughput.lost_pct < 1', 'tcp.latency.rtt_us.p99 <= 500us'; repeatable; any failure exits 1"},
		&cli.StringFlag{Name: "plot", Usage: "draw goodput over time and the round-trip CDF per protocol into `FILE` (.svg, .png or .html); records intervals if --interval is unset"},
		&cli.StringFlag{Name: "baseline", Usage: "compare with a saved 'netduel run -o json' `FILE`: old, new and change per metric; exit 1 when one got worse by more than --tolerance"},
		&cli.StringFlag{Name: "tolerance", Value: "10%", Usage: "relative change a metric may get worse by before --baseline fails, in `PERCENT`"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colour in tables (also: NO_COLOR set, or output not a terminal)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"},
		&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of netduel itself (client and embedded server) to `FILE`, for 'go tool pprof'"},
	}, linkFlags()...)
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run TCP and UDP tests side by side and compare them (the default command)",
		UsageText: "netduel run [--server HOST:PORT] [--proto tcp,udp] [--test throughput,latency] [--duration 3s] [--size BYTES] [--bitrate RATE] [-o table|json]",
		Flags:     runFlags(),
		Action:    runAction,
	}
}

// runOptions is the run command's validated input.
type runOptions struct {
	server        string
	token         string
	plan          []duel.TestSpec
	settle        time.Duration
	output        string
	color         bool
	quiet         bool
	asserts       []report.Assertion
	showIntervals bool
	baseline      *duel.Report
	baselineFile  string
	tolerance     float64
	plot          string
	link          *linkSetup // nil with --server
	bitrateSet    bool
	noUDPChecksum bool
}

func parseRunOptions(c *cli.Context) (*runOptions, error) {
	if c.Args().Len() > 0 {
		return nil, usageErrorf("unexpected argument %q: run takes only flags (see 'netduel run --help')", c.Args().First())
	}
	if err := refuseEmpty(c, runFlags(), linkFlagSet()); err != nil {
		return nil, err
	}
	o := &runOptions{output: c.String("output"), quiet: c.Bool("quiet"), settle: c.Duration("settle")}
	if err := checkOutput(o.output, report.Formats...); err != nil {
		return nil, err
	}
	var err error
	if o.noUDPChecksum, err = parseUDPChecksum(c.String("udp-checksum")); err != nil {
		return nil, err
	}
	if s := c.String("server"); s != "" {
		if err := hostPort("server", s, false); err != nil {
			return nil, err
		}
		o.server = s
	}
	token, err := parseToken(c)
	if err != nil {
		return nil, err
	}
	o.token = token
	protos, err := parseList("proto", c.String("proto"), duel.Protos()...)
	if err != nil {
		return nil, err
	}
	tests, err := parseList("test", c.String("test"), duel.Tests()...)
	if err != nil {
		return nil, err
	}
	d := c.Duration("duration")
	if d < 100*time.Millisecond || d > 24*time.Hour {
		return nil, usageErrorf("--duration %v: want a duration from 100ms to 24h, e.g. 3s", d)
	}
	if o.settle < 0 || o.settle > 5*time.Second {
		return nil, usageErrorf("--settle %v: want a duration from 0 to 5s", o.settle)
	}
	interval := c.Duration("interval")
	o.showIntervals = c.Bool("intervals")
	if o.showIntervals && interval == 0 {
		interval = min(time.Second, d)
	}
	if o.plot = c.String("plot"); o.plot != "" {
		if err := checkPlotFile(o.plot); err != nil {
			return nil, err
		}
		if interval == 0 {
			interval = max(d/30, 10*time.Millisecond)
		}
	}
	if interval < 0 || (interval > 0 && (interval < 10*time.Millisecond || d/interval > 3600)) {
		return nil, usageErrorf("--interval %v: want at least 10ms and at most 3600 intervals per test (--duration %v)", interval, d)
	}
	size := 0 // the default for each protocol and test
	if c.IsSet("size") {
		if size, err = parseSize("size", c.String("size")); err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, usageErrorf("--size 0: a frame is at least %d bytes (its header); leave --size out for the defaults", frame.HeaderLen)
		}
	}
	var bitrate, maxLoss float64
	search := strings.EqualFold(strings.TrimSpace(c.String("bitrate")), "max")
	if !search {
		bitrate, err = parseRate("bitrate", c.String("bitrate"))
	}
	if err != nil {
		return nil, err
	}
	if maxLoss, err = parsePercent("max-loss", c.String("max-loss")); err != nil {
		return nil, err
	}
	for _, test := range tests {
		for _, p := range protos {
			kind, ok := duel.LookupKind(p, test)
			if !ok {
				return nil, usageErrorf("--proto %s with --test %s: netduel has no %s %s test", p, test, p, test)
			}
			sz := size
			if sz == 0 {
				sz = kind.DefaultSize
			}
			if err := checkSize(sz, kind); err != nil {
				return nil, err
			}
			spec := duel.TestSpec{Proto: p, Test: test, Duration: d, Size: sz, Interval: interval}
			if kind.Has(duel.FigPacing) {
				spec.Bitrate = bitrate
				if search {
					spec.Search = &duel.SearchSpec{MaxLossPct: maxLoss}
				}
			}
			o.plan = append(o.plan, spec)
		}
	}
	if c.IsSet("bitrate") && !planHas(o.plan, duel.ProtoUDP, duel.TestThroughput) {
		return nil, usageErrorf("--bitrate paces the UDP throughput test, which this run does not include: add udp to --proto and throughput to --test, or drop --bitrate")
	}
	if c.IsSet("max-loss") && !search {
		return nil, usageErrorf("--max-loss is the loss --bitrate max may accept: add --bitrate max, or drop --max-loss")
	}
	for _, expr := range c.StringSlice("assert") {
		a, err := report.ParseAssertion(expr)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		if !planHas(o.plan, a.Proto, a.Test) {
			return nil, usageErrorf("--assert %q: the run does not include %s %s (see --proto and --test)", expr, a.Proto, a.Test)
		}
		o.asserts = append(o.asserts, a)
	}
	if o.tolerance, err = parseTolerance(c.String("tolerance")); err != nil {
		return nil, err
	}
	if f := c.String("baseline"); f != "" {
		if o.baseline, err = report.ReadReport(f); err != nil {
			return nil, usageErrorf("--baseline %s: %v", f, err)
		}
		o.baselineFile = f
	}
	o.bitrateSet = c.IsSet("bitrate")
	if o.link, err = parseLink(c, o.server != ""); err != nil {
		return nil, err
	}
	if o.link != nil && len(o.link.cells) == 2 && o.link.cells[0].none && !c.IsSet("duration") {
		// The default run, a clean and a lossy link: shorter tests keep it under 30 s.
		for i := range o.plan {
			o.plan[i].Duration = defaultPairDuration
		}
	}
	if err := checkAssertCells(o.asserts, o.link); err != nil {
		return nil, err
	}
	o.color = o.output == "table" && !c.Bool("no-color") && os.Getenv("NO_COLOR") == "" && isTerminal(c.App.Writer)
	return o, nil
}

// checkAssertCells refuses, before the run, an assertion whose "@ CELL" names
// no link of the run: a typo there would otherwise fail as a missing value
// after the whole run, and look like a regression in CI.
func checkAssertCells(asserts []report.Assertion, ls *linkSetup) error {
	var labels []string
	if ls != nil {
		for _, c := range ls.cells {
			if c.label != "" {
				labels = append(labels, c.label)
			}
		}
	}
	for _, a := range asserts {
		if a.Cell == "" {
			continue
		}
		found := false
		for _, l := range labels {
			found = found || strings.Contains(strings.ToLower(l), strings.ToLower(a.Cell))
		}
		if !found {
			if len(labels) == 0 {
				return usageErrorf("--assert %q: this run has one link, with no name to match %q: drop the @ part", a.Expr, a.Cell)
			}
			return usageErrorf("--assert %q: no link of this run is named like %q; its links are %s", a.Expr, a.Cell, "'"+strings.Join(labels, "', '")+"'")
		}
	}
	return nil
}

// defaultPairDuration is each test's duration in the default run, which runs the
// plan twice (a clean link and a lossy one).
const defaultPairDuration = 2500 * time.Millisecond

// runCells runs the plan across each link of the run, one after the other, with
// an embedded server inside each link.
func runCells(ctx context.Context, rep *duel.Report, client *duel.Client, o *runOptions, setWhere func(string)) ([]duel.Result, error) {
	rep.Embedded, rep.Sweep = true, o.link.grid
	var out []duel.Result
	for _, cl := range o.link.cells {
		backend, cfg := o.link.emulator, cl.cfg
		if cl.none {
			backend, cfg = link.None, impair.Config{}
		}
		l, err := link.Open(backend, cfg, o.link.cc)
		if err != nil {
			return out, err
		}
		desc := l.Backend
		if cl.label != "" {
			desc += ": " + cl.label
		} else if n := cfg.Netem(); n != "" {
			desc += ": " + n
		}
		setWhere(desc)
		if rep.Server == "" {
			rep.Server = l.ServerHost
		}
		if l.Backend != link.None {
			rep.Network = duel.NetworkLinks
		}
		plan := o.plan
		if cl.udpRate > 0 && !o.bitrateSet {
			plan = append([]duel.TestSpec(nil), o.plan...)
			for i := range plan {
				if plan[i].Proto == duel.ProtoUDP && plan[i].Test == duel.TestThroughput {
					plan[i].Bitrate = cl.udpRate
				}
			}
		}
		rs, srvAddr, err := duel.RunOnLink(ctx, l, *client, plan, cl.label)
		l.Close()
		if l.Backend == link.None && rep.PortConflicts == nil {
			// The server was on the host's loopback: after it closed, show what
			// TCP and UDP sharing its port number means for other binds.
			if ap, perr := netip.ParseAddrPort(srvAddr); perr == nil && err == nil {
				rep.PortConflicts = &duel.PortConflicts{Port: int(ap.Port()), Experiments: port.HeldPortExperiments(ap.Port())}
			}
		}
		out = append(out, rs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func planHas(plan []duel.TestSpec, proto duel.Proto, test duel.Test) bool {
	for _, s := range plan {
		if s.Proto == proto && s.Test == test {
			return true
		}
	}
	return false
}

// checkSize validates --size for one test kind.
func checkSize(size int, k *duel.Kind) error {
	maxSize := frame.MaxFrameSize
	if k.MaxSize > 0 {
		maxSize = k.MaxSize
	}
	if size < frame.HeaderLen || size > maxSize {
		return usageErrorf("--size %d: a %s frame must be %d to %d bytes (the %d-byte header included)",
			size, strings.ToUpper(string(k.Proto)), frame.HeaderLen, maxSize, frame.HeaderLen)
	}
	return nil
}

// startCPUProfile starts Go's CPU profiler writing to file.
func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, usageErrorf("--cpuprofile %s: %v", file, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, runtimeErrorf("--cpuprofile: %v", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func runAction(c *cli.Context) error {
	o, err := parseRunOptions(c)
	if err != nil {
		return err
	}
	if f := c.String("cpuprofile"); f != "" {
		stopProfile, err := startCPUProfile(f)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := c.App.ErrWriter
	progress := !o.quiet && isTerminal(stderr)

	rep := &duel.Report{Schema: duel.Schema, Version: version, Started: time.Now().UTC(), Network: "os"}
	client := &duel.Client{Network: &stack.OS{}, Settle: o.settle, NoUDPChecksum: o.noUDPChecksum}
	cells := 1
	if o.link != nil {
		cells = len(o.link.cells)
	}
	var where atomic.Pointer[string]
	setWhere := func(s string) { where.Store(&s) }
	setWhere("os loopback")
	stopProgress := func() {}
	if progress {
		stopProgress = startProgress(stderr, client, len(o.plan)*cells, &where)
		defer stopProgress()
	}
	rep.Server = o.server
	var nd *report.NDJSON
	if o.output == "ndjson" {
		nd = report.NewNDJSON(c.App.Writer)
		_ = nd.Start(rep, len(o.plan)*cells)
		client.OnResult = func(r duel.Result) { _ = nd.Result(r) }
	}
	var results []duel.Result
	if o.server != "" {
		// Pin --cc on this side's sockets too: for throughput they are the sender's.
		cc, note, _ := stack.UsableCongestion(c.String("cc"))
		client.Network = &stack.OS{Congestion: cc}
		if note != "" && !o.quiet {
			fmt.Fprintf(stderr, "netduel: note: %s\n", note)
		}
		client.Server = o.server
		client.Token = o.token
		client.SameHost = isLoopback(o.server)
		setWhere("the network to " + o.server)
		results, err = client.Run(ctx, o.plan)
	} else {
		results, err = runCells(ctx, rep, client, o, setWhere)
	}
	rep.Results = results
	stopProgress() // the line is cleared before any result or error is written
	// From here on, a failure is data too: stdout gets a complete document
	// with every finished result and the run's error, and the exit code is 3.
	rep.Interrupted = ctx.Err() != nil
	runErr := runFailure(err, rep.Interrupted, o.server != "", rep.Results)
	x := report.Extras{Checks: report.Evaluate(o.asserts, rep.Results), ShowIntervals: o.showIntervals}
	if o.baseline != nil {
		x.Baseline = report.Compare(o.baseline, rep, o.baselineFile, o.tolerance)
	}
	if o.plot != "" && (runErr == nil || len(rep.Results) > 0) {
		if perr := plotFile(o.plot, rep); perr != nil && runErr == nil {
			runErr = runtimeErrorf("--plot %s: %v", o.plot, perr)
		} else if perr != nil && !o.quiet {
			fmt.Fprintf(stderr, "netduel: note: --plot %s: %v\n", o.plot, perr)
		}
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if nd != nil {
		_ = nd.Finish(rep, x)
	} else if err := report.Render(c.App.Writer, report.RunDoc{Report: rep, Extras: x}, report.Options{Format: o.output, Style: report.Style{Color: o.color}, Side: stderr}); err != nil {
		return runtimeErrorf("writing the report: %v", err)
	}
	if runErr != nil {
		return runErr
	}
	if err := searchVerdict(rep.Results); err != nil {
		return err
	}
	return verdict(x)
}

// runFailure turns the run's error, or its failed tests, into the exit-3
// error; nil when every test ran and none failed.
func runFailure(err error, interrupted, remote bool, results []duel.Result) error {
	if interrupted {
		return runtimeErrorf("interrupted")
	}
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled):
			return runtimeErrorf("interrupted")
		case remote && errors.As(err, new(*duel.UnreachableError)):
			return runtimeErrorf("%v (is 'netduel serve' running there, and is the port open?)", err)
		default:
			return runtimeErrorf("%v", err)
		}
	}
	var failed []string
	for _, r := range results {
		if r.Error != "" {
			failed = append(failed, fmt.Sprintf("%s %s: %s", r.Proto, r.Test, r.Error))
		}
	}
	if len(failed) > 0 {
		return runtimeErrorf("%d test(s) failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// verdict turns failed assertions and baseline regressions into exit 1.
func verdict(x report.Extras) error {
	var why []string
	if n := report.Failed(x.Checks); n > 0 {
		why = append(why, fmt.Sprintf("%d of %d assertion checks failed", n, len(x.Checks)))
	}
	if n := x.Baseline.Regressions(); n > 0 {
		why = append(why, fmt.Sprintf("%d metrics worse than baseline %s by more than %g%%", n, x.Baseline.File, x.Baseline.TolerancePct))
	}
	if x.Baseline != nil && len(x.Baseline.Problems) > 0 {
		why = append(why, fmt.Sprintf("%d results not comparable with baseline %s: %s", len(x.Baseline.Problems), x.Baseline.File, strings.Join(x.Baseline.Problems, "; ")))
	}
	if len(why) > 0 {
		return failedError(strings.Join(why, "; "))
	}
	return nil
}

// isLoopback reports whether a HOST:PORT names this host's loopback, so that the
// server shares our clock.
func isLoopback(hp string) bool {
	host, _, err := net.SplitHostPort(hp)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
