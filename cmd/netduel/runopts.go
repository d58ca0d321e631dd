package main

import (
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/report"
)

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
	noUDPChecksum bool
}

// parseRunOptions reads and checks the run command's flags, in steps whose
// order says which of two bad flags is named.
func parseRunOptions(c *cli.Context) (*runOptions, error) {
	o := &runOptions{output: c.String("output"), quiet: c.Bool("quiet"), settle: c.Duration("settle")}
	for _, step := range []func(*cli.Context, *runOptions) error{
		parseRunTarget, parseRunTests, parseRunChecks, parseRunLink,
	} {
		if err := step(c, o); err != nil {
			return nil, err
		}
	}
	o.color = o.output == "table" && !c.Bool("no-color") && os.Getenv("NO_COLOR") == "" && isTerminal(c.App.Writer)
	return o, nil
}

// parseRunTarget checks that run has only flags and none empty, the output
// format and the UDP checksum, and reads where the server is (--server,
// --token).
func parseRunTarget(c *cli.Context, o *runOptions) error {
	if c.Args().Len() > 0 {
		return usageErrorf("unexpected argument %q: run takes only flags (see 'netduel run --help')", c.Args().First())
	}
	if err := refuseEmpty(c, runFlags(), linkFlagSet()); err != nil {
		return err
	}
	if err := checkOutput(o.output, report.Formats...); err != nil {
		return err
	}
	var err error
	if o.noUDPChecksum, err = parseUDPChecksum(c.String("udp-checksum")); err != nil {
		return err
	}
	if s := c.String("server"); s != "" {
		if err := hostPort("server", s, false); err != nil {
			return err
		}
		o.server = s
	}
	if o.token, err = parseToken(c); err != nil {
		return err
	}
	// An embedded run has no server to prove the token to; NETDUEL_TOKEN
	// exported for other runs is not this run's mistake (a --token equal to
	// it cannot be told from it, and passes too).
	if env, ok := os.LookupEnv(tokenEnv); o.token != "" && o.server == "" && (!ok || env != o.token) {
		return usageErrorf("--token is proved to a remote server: add --server HOST:PORT (of a 'netduel serve --token' server), or leave --token out (an embedded run needs none)")
	}
	return nil
}

// testParams are the parameters every test of the plan shares.
type testParams struct {
	duration, interval time.Duration
	size               int // 0: each kind's default
	bitrate            float64
	search             bool    // --bitrate max
	maxLoss            float64 // with search: percent
	busyPoll           bool    // --busy-poll
}

// parseRunTests reads the plan's tests: each protocol × test asked for, with
// the flags' duration, interval, size and pacing.
func parseRunTests(c *cli.Context, o *runOptions) error {
	protos, err := parseList("proto", c.String("proto"), duel.Protos()...)
	if err != nil {
		return err
	}
	tests, err := parseList("test", c.String("test"), duel.Tests()...)
	if err != nil {
		return err
	}
	var p testParams
	for _, step := range []func(*cli.Context, *runOptions, *testParams) error{parseTiming, parseFrameSize, parsePacing} {
		if err := step(c, o, &p); err != nil {
			return err
		}
	}
	if o.plan, err = buildTests(protos, tests, p); err != nil {
		return err
	}
	return checkPacingFlags(c, o.plan, p.search)
}

// parseTiming reads --duration, --settle, --interval and --intervals, and
// --plot, which needs intervals.
func parseTiming(c *cli.Context, o *runOptions, p *testParams) error {
	d := c.Duration("duration")
	if d < 100*time.Millisecond || d > 24*time.Hour {
		return usageErrorf("--duration %v: want a duration from 100ms to 24h, e.g. 3s", d)
	}
	if o.settle < 0 || o.settle > 5*time.Second {
		return usageErrorf("--settle %v: want a duration from 0 to 5s", o.settle)
	}
	interval := c.Duration("interval")
	o.showIntervals = c.Bool("intervals")
	if o.showIntervals && interval == 0 {
		interval = min(time.Second, d)
	}
	if o.plot = c.String("plot"); o.plot != "" {
		if err := checkPlotFile(o.plot); err != nil {
			return err
		}
		if interval == 0 {
			interval = max(d/30, 10*time.Millisecond)
		}
	}
	if interval < 0 || (interval > 0 && (interval < 10*time.Millisecond || d/interval > 3600)) {
		return usageErrorf("--interval %v: want at least 10ms and at most 3600 intervals per test (--duration %v)", interval, d)
	}
	p.duration, p.interval = d, interval
	return nil
}

// parseFrameSize reads --size (left out: each kind's default).
func parseFrameSize(c *cli.Context, o *runOptions, p *testParams) error {
	if !c.IsSet("size") {
		return nil
	}
	var err error
	if p.size, err = parseSize("size", c.String("size")); err != nil {
		return err
	}
	if p.size == 0 {
		return usageErrorf("--size 0: a frame is at least %d bytes (its header); leave --size out for the defaults", frame.HeaderLen)
	}
	if o.server == "" && p.size > duel.DefaultMaxFrame {
		return usageErrorf("--size %d: the embedded server takes frames of at most %d bytes (4 MiB); a remote server's limit is its --max-frame", p.size, duel.DefaultMaxFrame)
	}
	return nil
}

// parsePacing reads --bitrate (a rate, or max for a search) and --max-loss.
func parsePacing(c *cli.Context, _ *runOptions, p *testParams) error {
	p.search = strings.EqualFold(strings.TrimSpace(c.String("bitrate")), "max")
	var err error
	if !p.search {
		if p.bitrate, err = parseRate("bitrate", c.String("bitrate")); err != nil {
			return err
		}
	}
	p.maxLoss, err = parsePercent("max-loss", c.String("max-loss"))
	p.busyPoll = c.Bool("busy-poll")
	return err
}

// buildTests returns the plan's tests, tests outermost, each checked against
// its kind.
func buildTests(protos []duel.Proto, tests []duel.Test, p testParams) ([]duel.TestSpec, error) {
	var plan []duel.TestSpec
	for _, test := range tests {
		for _, proto := range protos {
			kind, ok := duel.LookupKind(proto, test)
			if !ok {
				return nil, usageErrorf("--proto %s with --test %s: netduel has no %s %s test", proto, test, proto, test)
			}
			sz := p.size
			if sz == 0 {
				sz = kind.DefaultSize
			}
			if err := checkSize(sz, kind); err != nil {
				return nil, err
			}
			spec := duel.TestSpec{Proto: proto, Test: test, Duration: p.duration, Size: sz, Interval: p.interval}
			spec.BusyPoll = p.busyPoll && kind.Has(duel.FigRoundTrips)
			if kind.Has(duel.FigPacing) {
				spec.Bitrate = p.bitrate
				if p.search {
					spec.Search = &duel.SearchSpec{MaxLossPct: p.maxLoss}
				}
			}
			plan = append(plan, spec)
		}
	}
	return plan, nil
}

// checkPacingFlags refuses --bitrate for a plan with no test that paces, and
// --max-loss without --bitrate max.
func checkPacingFlags(c *cli.Context, plan []duel.TestSpec, search bool) error {
	paces := slices.ContainsFunc(plan, func(s duel.TestSpec) bool { return s.Kind().Has(duel.FigPacing) })
	if c.IsSet("bitrate") && !paces {
		return usageErrorf("--bitrate paces the UDP throughput test, which this run does not include: add udp to --proto and throughput to --test, or drop --bitrate")
	}
	if c.IsSet("max-loss") && !search {
		return usageErrorf("--max-loss is the loss --bitrate max may accept: add --bitrate max, or drop --max-loss")
	}
	if c.Bool("busy-poll") && !slices.ContainsFunc(plan, func(s duel.TestSpec) bool { return s.BusyPoll }) {
		return usageErrorf("--busy-poll spins while a latency test waits for its replies, and this run has none: add latency to --test, or drop --busy-poll")
	}
	if !slices.ContainsFunc(plan, func(s duel.TestSpec) bool { return s.Proto == duel.ProtoUDP }) {
		for _, f := range []string{"udp-checksum", "settle"} {
			if c.IsSet(f) {
				return usageErrorf("--%s applies to UDP tests, and this run has none: add udp to --proto, or drop --%s", f, f)
			}
		}
	}
	return nil
}

// parseRunChecks reads what the results are checked against: --assert,
// --tolerance and --baseline.
func parseRunChecks(c *cli.Context, o *runOptions) error {
	for _, expr := range c.StringSlice("assert") {
		a, err := report.ParseAssertion(expr)
		if err != nil {
			return usageErrorf("%v", err)
		}
		if !planHas(o.plan, a.Proto, a.Test) {
			return usageErrorf("--assert %q: the run does not include %s %s (see --proto and --test)", expr, a.Proto, a.Test)
		}
		o.asserts = append(o.asserts, a)
	}
	var err error
	if o.tolerance, err = parseTolerance(c.String("tolerance")); err != nil {
		return err
	}
	if f := c.String("baseline"); f != "" {
		if o.baseline, err = report.ReadReport(f); err != nil {
			return usageErrorf("--baseline %s: %v", f, err)
		}
		o.baselineFile = f
	}
	return nil
}

// parseRunLink reads the link flags into the run's cells. In the default
// run (a clean and a lossy link) the tests are shorter unless --duration is
// given, and a --bitrate replaces the lossy link's own pacing.
func parseRunLink(c *cli.Context, o *runOptions) error {
	var err error
	if o.link, err = parseLink(c, o.server != ""); err != nil {
		return err
	}
	if o.link != nil && o.link.defaultRun && !c.IsSet("duration") {
		for i := range o.plan {
			o.plan[i].Duration = duel.DefaultPairDuration
		}
	}
	if o.link != nil && c.IsSet("bitrate") {
		for i := range o.link.cells {
			o.link.cells[i].Bitrate = 0
		}
	}
	if c.Bool("busy-poll") && o.server == "" {
		return usageErrorf("--busy-poll spins a core at each end, so it needs the server in a process of its own: start 'netduel serve --allow-busy-poll' and add --server (an embedded server would spin beside the client, and beside an emulated link's forwarder, which then starves)")
	}
	return checkAssertCells(o.asserts, o.link)
}

// checkAssertCells refuses, before the run, an assertion whose "@ CELL" names
// no link of the run: a typo there would otherwise fail as a missing value
// after the whole run, and look like a regression in CI.
func checkAssertCells(asserts []report.Assertion, ls *linkSetup) error {
	var labels []string
	if ls != nil {
		for _, c := range ls.cells {
			if c.Label != "" {
				labels = append(labels, c.Label)
			}
		}
	}
	for _, a := range asserts {
		if a.Cell == "" || slices.ContainsFunc(labels, func(l string) bool {
			return strings.Contains(strings.ToLower(l), strings.ToLower(a.Cell))
		}) {
			continue
		}
		if len(labels) == 0 {
			return usageErrorf("--assert %q: this run has one link, with no name to match %q: drop the @ part", a.Expr, a.Cell)
		}
		return usageErrorf("--assert %q: no link of this run is named like %q; its links are %s", a.Expr, a.Cell, "'"+strings.Join(labels, "', '")+"'")
	}
	return nil
}

func planHas(plan []duel.TestSpec, proto duel.Proto, test duel.Test) bool {
	return slices.ContainsFunc(plan, func(s duel.TestSpec) bool { return s.Proto == proto && s.Test == test })
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
