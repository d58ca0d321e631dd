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
	"github.com/netduel/netduel/impair/link"
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
		&cli.StringFlag{Name: "size", Usage: "`BYTES` of one frame on the wire (header + body); default 1400 for UDP datagrams, 128K for TCP throughput frames (written up to 1 MiB per system call), 64 for latency requests"},
		&cli.StringFlag{Name: "bitrate", Value: "0", Usage: "UDP throughput pacing `RATE` in bits/s with k/M/G suffixes; 0 = unpaced; max = search for the highest rate whose loss stays within --max-loss"},
		&cli.StringFlag{Name: "max-loss", Value: "0.1%", Usage: "with --bitrate max: the loss `PERCENT` the rate found may have"},
		&cli.DurationFlag{Name: "interval", Usage: "record goodput, loss and jitter (or round trips) every `D` into each result's intervals (e.g. 1s); 0 = none"},
		&cli.BoolFlag{Name: "busy-poll", Usage: "latency tests: both ends spin on non-blocking receives while they wait, instead of sleeping in the kernel (as sockperf's --nonblocked --timeout 0): lower round trips for a core each; a remote server must allow it (serve --allow-busy-poll)"},
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

// runAction runs the tests the flags ask for, renders the report, and
// turns what happened into the exit code.
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
	rep, nd, err := runPlan(ctx, c, o)
	return finishRun(c, o, &rep, nd, err)
}

// runPlan runs the plan in the engine, with its live output: progress on a
// terminal's stderr, NDJSON events on stdout as they happen (nd, with -o
// ndjson).
func runPlan(ctx context.Context, c *cli.Context, o *runOptions) (rep duel.Report, nd *report.NDJSON, err error) {
	stderr := c.App.ErrWriter
	plan := o.enginePlan()
	opts := duel.RunOptions{
		Header: duel.Report{Schema: duel.Schema, Version: version, Started: time.Now().UTC(), Network: "os", Server: o.server},
		Client: o.client(c),
	}
	var where atomic.Pointer[string]
	opts.Where = func(s string) { where.Store(&s) }
	opts.Where("os loopback")
	stopProgress := func() {}
	if !o.quiet && isTerminal(stderr) {
		stopProgress = startProgress(stderr, &opts.Client, plan.Len(), &where)
		defer stopProgress()
	}
	if o.output == "ndjson" {
		nd = report.NewNDJSON(c.App.Writer)
		start := opts.Header
		plan.Describe(&start)
		_ = nd.Start(&start, plan.Len())
		opts.Client.OnResult = func(r duel.Result) { _ = nd.Result(r) }
	}
	rep, err = duel.Run(ctx, plan, opts)
	stopProgress() // the line is cleared before any result or error is written
	return rep, nd, err
}

// enginePlan is the engine's plan for the options: the tests across each
// link cell, or against the --server.
func (o *runOptions) enginePlan() duel.Plan {
	p := duel.Plan{Tests: o.plan}
	if o.link != nil {
		p.Cells, p.Emulator, p.Congestion, p.Sweep, p.LinkPoll = o.link.cells, o.link.emulator, o.link.cc, o.link.sweep, o.link.poll
	}
	return p
}

// client is the client that runs the tests; with --server, it dials the
// server across the host's stack, with --cc pinned on its own sockets (for
// throughput they are the sender's), and says so when it cannot pin it.
func (o *runOptions) client(c *cli.Context) duel.Client {
	client := duel.Client{Network: &stack.OS{}, Settle: o.settle, NoUDPChecksum: o.noUDPChecksum}
	if o.server == "" {
		return client
	}
	cc, note, _ := stack.UsableCongestion(c.String("cc"))
	if note != "" && !o.quiet {
		fmt.Fprintf(c.App.ErrWriter, "netduel: note: %s\n", note)
	}
	client.Network = &stack.OS{Congestion: cc}
	client.Server, client.Token, client.SameHost = o.server, o.token, isLoopback(o.server)
	return client
}

// finishRun writes the report and returns the run's exit. From here on, a
// failure is data too: stdout gets a complete document with every finished
// result and the run's error, and the exit code is 3.
func finishRun(c *cli.Context, o *runOptions, rep *duel.Report, nd *report.NDJSON, err error) error {
	runErr := runFailure(err, rep.Interrupted, o.server != "", rep.Results)
	x := report.Extras{Checks: report.Evaluate(o.asserts, rep.Results), ShowIntervals: o.showIntervals}
	if o.baseline != nil {
		x.Baseline = report.Compare(o.baseline, rep, o.baselineFile, o.tolerance)
	}
	runErr = o.drawPlot(c.App.ErrWriter, rep, runErr)
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if nd != nil {
		_ = nd.Finish(rep, x)
	} else if err := report.Render(c.App.Writer, report.RunDoc{Report: rep, Extras: x}, report.Options{Format: o.output, Style: report.Style{Color: o.color}, Side: c.App.ErrWriter}); err != nil {
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

// drawPlot writes --plot's file when there is something to draw, and returns
// the run's error: the plot's own failure when the run had none, or else the
// run's (the plot's failure is then a note).
func (o *runOptions) drawPlot(stderr io.Writer, rep *duel.Report, runErr error) error {
	if o.plot == "" || (runErr != nil && len(rep.Results) == 0) {
		return runErr
	}
	perr := plotFile(o.plot, rep)
	switch {
	case perr != nil && runErr == nil:
		return runtimeErrorf("--plot %s: %v", o.plot, perr)
	case perr != nil && !o.quiet:
		fmt.Fprintf(stderr, "netduel: note: --plot %s: %v\n", o.plot, perr)
	}
	return runErr
}

// interruptedError is a run's error when a signal stopped it: how many of
// its tests had finished.
func interruptedError(results []duel.Result) error {
	done := 0
	for _, r := range results {
		if r.Error == "" {
			done++
		}
	}
	if done == 1 {
		return runtimeErrorf("interrupted after 1 finished test")
	}
	return runtimeErrorf("interrupted after %d finished tests", done)
}

// runFailure turns the run's error, or its failed tests, into the exit-3
// error; nil when every test ran and none failed.
func runFailure(err error, interrupted, remote bool, results []duel.Result) error {
	if interrupted {
		return interruptedError(results)
	}
	if err != nil {
		var unreachable *duel.UnreachableError
		switch {
		case errors.Is(err, context.Canceled):
			return interruptedError(results)
		case remote && errors.As(err, &unreachable) && !unreachable.Answered && unreachable.Silent == 0:
			return runtimeErrorf("%v (is 'netduel serve' running there, and is the port open?)", err)
		default:
			return runtimeErrorf("%s", engineErrorText(err))
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
		metrics := "metrics"
		if n == 1 {
			metrics = "metric"
		}
		why = append(why, fmt.Sprintf("%d %s worse than baseline %s by more than %g%%", n, metrics, x.Baseline.File, x.Baseline.TolerancePct))
	}
	if x.Baseline != nil && len(x.Baseline.Problems) > 0 {
		results := "results"
		if len(x.Baseline.Problems) == 1 {
			results = "result"
		}
		why = append(why, fmt.Sprintf("%d %s not comparable with baseline %s: %s", len(x.Baseline.Problems), results, x.Baseline.File, strings.Join(x.Baseline.Problems, "; ")))
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

// engineErrorText is an engine error as the user reads it: an emulator that
// cannot work here names the --emulator to use instead.
func engineErrorText(err error) string {
	var ue *link.UnavailableError
	if errors.As(err, &ue) {
		if ue.DropPolling {
			return fmt.Sprintf("emulator %s unavailable: %v; use --emulator %s without --link-poll", ue.Backend, ue.Reason, ue.Instead)
		}
		return fmt.Sprintf("emulator %s unavailable: %v; use --emulator %s", ue.Backend, ue.Reason, ue.Instead)
	}
	return err.Error()
}
