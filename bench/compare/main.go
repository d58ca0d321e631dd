//go:build unix

// Command compare puts netduel side by side with iperf3 and sockperf on the
// loopback (DESIGN §9, issue 6): TCP goodput, UDP goodput with 1472-byte
// datagrams, 64-byte round trips over TCP and UDP, and CPU seconds of client
// and server per GB moved (issue 14), interleaved over several rounds, and
// times 'netduel port check 1024-65535' in every output format; then prints
// the medians, the ratios and the targets.
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
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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
	roundDuration(o, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "compare: "+format+"\n", a...)
	}
	cmp, code := compareAll(ctx, o, logf, stderr)
	if cmp == nil {
		return code
	}
	if err := cmp.write(stdout); err != nil {
		logf("%v", err)
		return exitRuntime
	}
	if code != exitOK {
		return code
	}
	return cmp.exitCode(logf)
}

// roundDuration rounds --duration up to whole seconds: iperf3 and sockperf
// take seconds.
func roundDuration(o *options, stderr io.Writer) {
	whole := o.duration.Round(time.Second)
	if whole == o.duration {
		return
	}
	if whole < o.duration {
		whole += time.Second
	}
	fmt.Fprintf(stderr, "compare: --duration %v rounded up to %v (iperf3 and sockperf take whole seconds)\n", o.duration, whole)
	o.duration = whole
}

// compareAll installs the tools, builds netduel, starts the servers, runs
// the rounds and stops the servers. A runtime failure or an interruption
// still returns the comparison, with what finished and the error, so that
// stdout has a whole document; only bad usage returns none.
func compareAll(ctx context.Context, o *options, logf func(string, ...any), stderr io.Writer) (*comparison, int) {
	failed := func(cmp *comparison, err error) (*comparison, int) {
		msg := err.Error()
		if ctx.Err() != nil {
			msg = "interrupted: " + msg
		}
		logf("%s", msg)
		if cmp == nil {
			cmp = newComparison(o, "", ports{})
		}
		cmp.errors = append(cmp.errors, msg)
		return cmp, exitRuntime
	}
	if err := ensureTools(ctx, logf, stderr); err != nil {
		return failed(nil, err)
	}
	tmp, err := os.MkdirTemp("", "netduel-compare-")
	if err != nil {
		return failed(nil, err)
	}
	defer os.RemoveAll(tmp)
	bin := o.netduelBin
	if bin == "" {
		if bin, err = buildNetduel(ctx, tmp, logf, stderr); err != nil {
			return failed(nil, err)
		}
	} else if _, err := os.Stat(bin); err != nil {
		logf("--netduel-bin: %v", err)
		return nil, exitUsage
	}

	servers := &serverSet{logf: logf}
	defer servers.stopAll()
	ports, err := servers.startAll(ctx, bin, tmp)
	if err != nil {
		return failed(nil, err)
	}

	cmp := newComparison(o, bin, ports)
	cmp.usePlacement()
	cmp.versions = toolVersions(ctx, bin)
	cmp.measure(ctx, servers, logf)
	if ctx.Err() != nil {
		return failed(cmp, fmt.Errorf("the rounds stopped in round %d; the samples are those of the steps that finished", cmp.round))
	}
	return cmp, exitOK
}

// write writes the comparison in the output format: the JSON document or the table.
func (c *comparison) write(w io.Writer) error {
	if c.o.output != "json" {
		return c.renderTable(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c.document())
}

// exitCode is exitRuntime when a metric has no sample from either side, and,
// with --check, exitMissed when a target is missed.
func (c *comparison) exitCode(logf func(string, ...any)) int {
	for _, m := range c.metrics {
		if len(m.Netduel) == 0 || (len(m.Competitor) == 0 && !m.absolute()) {
			logf("%s: no sample from %s; see the errors above", m.Name, map[bool]string{true: "netduel", false: m.CompetitorName}[len(m.Netduel) == 0])
			return exitRuntime
		}
	}
	if !c.o.check {
		return exitOK
	}
	for _, m := range c.metrics {
		if pass, ok := m.pass(); ok && !pass {
			return exitMissed
		}
	}
	return exitOK
}
