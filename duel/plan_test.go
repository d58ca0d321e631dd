package duel

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// planTests are short tests of both protocols, one that paces and one that
// does not.
func planTests() []TestSpec {
	return []TestSpec{
		{Proto: ProtoTCP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64},
		{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 1200, Bitrate: 5e6},
	}
}

// wheres records what Run says about where each cell's tests run.
type wheres struct {
	mu   sync.Mutex
	seen []string
}

func (w *wheres) add(s string) { w.mu.Lock(); w.seen = append(w.seen, s); w.mu.Unlock() }

// TestRunPlanAcrossCells runs a plan over the host's loopback and a netstack
// link: every test in every cell, in order, each result naming its cell and
// link, the cell's pacing replacing the test's, the port experiments after
// the loopback cell, and the report saying where the tests ran.
func TestRunPlanAcrossCells(t *testing.T) {
	t.Parallel()
	delay := impair.Config{Delay: time.Millisecond, Seed: 7}
	plan := Plan{
		Tests: planTests(),
		Cells: []Cell{
			{Label: "clean"},
			{Label: "slow", Link: &delay, Bitrate: 3e6},
		},
		Emulator: link.Netstack,
		Sweep:    true,
	}
	var w wheres
	var got []Result
	opts := RunOptions{
		Client: Client{Settle: 50 * time.Millisecond, OnResult: func(r Result) { got = append(got, r) }},
		Header: Report{Version: "test"},
		Where:  w.add,
	}
	rep, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Len() != 4 || len(rep.Results) != plan.Len() || len(got) != plan.Len() {
		t.Fatalf("plan of %d tests: %d results, %d told", plan.Len(), len(rep.Results), len(got))
	}
	checkPlanReport(t, rep, w.seen)
	for i, r := range rep.Results {
		checkCellResult(t, i, r, plan.Cells[i/2], plan.Tests[i%2])
	}
	if plan.Tests[1].Bitrate != 5e6 {
		t.Errorf("Run changed the plan's tests: %+v", plan.Tests[1])
	}
}

// checkPlanReport checks the header of TestRunPlanAcrossCells's report, where
// Run said its cells ran, and the port experiments after the loopback cell.
func checkPlanReport(t *testing.T, rep Report, seen []string) {
	t.Helper()
	if rep.Schema != Schema || rep.Version != "test" || rep.Started.IsZero() || !rep.Embedded || !rep.Sweep ||
		rep.Network != NetworkLinks || rep.Server != "127.0.0.1" || rep.Interrupted {
		t.Errorf("report header %+v", rep)
	}
	if want := []string{"none: clean", "netstack: slow"}; !slices.Equal(seen, want) {
		t.Errorf("where %q, want %q", seen, want)
	}
	if rep.PortConflicts == nil || rep.PortConflicts.Port == 0 || len(rep.PortConflicts.Experiments) == 0 {
		t.Errorf("no port experiments after the loopback cell: %+v", rep.PortConflicts)
	}
}

// checkCellResult checks result i of TestRunPlanAcrossCells: spec run in
// cell, over the cell's link, at the cell's pacing if it has one.
func checkCellResult(t *testing.T, i int, r Result, cell Cell, spec TestSpec) {
	t.Helper()
	if r.Error != "" || r.Cell != cell.Label || r.Proto != spec.Proto || r.Test != spec.Test || r.Link == nil {
		t.Fatalf("result %d: %s %s cell %q error %q link %v; want %s in %q", i, r.Proto, r.Test, r.Cell, r.Error, r.Link, spec, cell.Label)
	}
	wantEmu, wantDelay := link.None, 0.0
	if cell.Link != nil {
		wantEmu, wantDelay = link.Netstack, 1
	}
	if r.Link.Emulator != wantEmu || r.Link.DelayMs != wantDelay {
		t.Errorf("result %d: link %s delay %v ms, want %s %v ms", i, r.Link.Emulator, r.Link.DelayMs, wantEmu, wantDelay)
	}
	if r.Kind().Has(FigPacing) {
		want := spec.Bitrate
		if cell.Bitrate > 0 {
			want = cell.Bitrate
		}
		if r.RequestedBps == nil || *r.RequestedBps != want {
			t.Errorf("%s in %q: requested %v bit/s, want %v", r.Proto, r.Cell, deref(r.RequestedBps), want)
		}
	}
}

// TestRunPlanRemote runs a plan without cells against a server the client
// names.
func TestRunPlanRemote(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	c := newClient(srv)
	c.Settle = 50 * time.Millisecond
	var w wheres
	rep, err := Run(context.Background(), Plan{Tests: planTests()}, RunOptions{Client: *c, Where: w.add})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	if len(rep.Results) != 2 || rep.Embedded || rep.Network != "os" || rep.Server != addr || rep.PortConflicts != nil {
		t.Errorf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Error != "" || r.Link != nil || r.Cell != "" {
			t.Errorf("%s %s: error %q link %v cell %q", r.Proto, r.Test, r.Error, r.Link, r.Cell)
		}
	}
	if want := []string{"the network to " + addr}; !slices.Equal(w.seen, want) {
		t.Errorf("where %q, want %q", w.seen, want)
	}
}

// TestRunPlanStops: a run stops at the first error, with the results so far,
// and says when ctx ended it.
func TestRunPlanStops(t *testing.T) {
	t.Parallel()
	bad := impair.Config{Reorder: 0.5} // a reorder needs a delay
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		plan        Plan
		results     int
		interrupted bool
		check       func(error) bool
	}{
		{"no server", context.Background(), Plan{Tests: planTests()}, 0, false,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "Server") }},
		{"bad link after a good one", context.Background(),
			Plan{Tests: planTests(), Cells: []Cell{{Label: "clean"}, {Label: "bad", Link: &bad}}, Emulator: link.Netstack}, 2, false,
			func(err error) bool {
				var ce *impair.ConfigError
				return errors.As(err, &ce) && ce.Field == "Reorder" && ce.Needs == "Delay"
			}},
		{"interrupted", canceled, Plan{Tests: planTests(), Cells: []Cell{{}}}, 0, true,
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Run(tc.ctx, tc.plan, RunOptions{Client: Client{Settle: 50 * time.Millisecond}})
			if !tc.check(err) {
				t.Errorf("error %v", err)
			}
			if len(rep.Results) != tc.results || rep.Interrupted != tc.interrupted {
				t.Errorf("%d results, interrupted %v; want %d, %v", len(rep.Results), rep.Interrupted, tc.results, tc.interrupted)
			}
			for _, r := range rep.Results {
				if r.Error != "" {
					t.Errorf("%s %s before the failure: %s", r.Proto, r.Test, r.Error)
				}
			}
		})
	}
}

func TestSweepCells(t *testing.T) {
	t.Parallel()
	base := impair.Config{Jitter: time.Millisecond, Delay: 5 * time.Millisecond, Seed: 3}
	for _, tc := range []struct {
		name   string
		sweep  Sweep
		labels []string
		err    string // a *impair.ConfigError's field
	}{
		{"base only", Sweep{Base: base}, []string{""}, ""},
		{"one loss", Sweep{Base: base, Losses: []SweepLoss{{P: 0.01}}}, []string{""}, ""},
		{"grid", Sweep{Base: base, Losses: []SweepLoss{{P: 0}, {P: 0.02, Corr: 0.25}}, Delays: []time.Duration{time.Millisecond, 20 * time.Millisecond}},
			[]string{"loss 0%, delay 1ms", "loss 0%, delay 20ms", "loss 2% (correlation 25%), delay 1ms", "loss 2% (correlation 25%), delay 20ms"}, ""},
		{"delays", Sweep{Base: base, Delays: []time.Duration{0, time.Millisecond}}, []string{"delay 0s", "delay 1ms"}, ""},
		{"bad cell", Sweep{Base: impair.Config{Reorder: 0.1}, Delays: []time.Duration{time.Millisecond, 0}}, nil, "Reorder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cells, err := tc.sweep.Cells()
			if tc.err != "" {
				var ce *impair.ConfigError
				if !errors.As(err, &ce) || ce.Field != tc.err || cells != nil {
					t.Fatalf("cells %v, error %v; want a ConfigError on %s", cells, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.sweep.Grid() != (len(tc.labels) > 1) {
				t.Errorf("Grid() = %v for %d cells", tc.sweep.Grid(), len(tc.labels))
			}
			var labels []string
			for _, c := range cells {
				labels = append(labels, c.Label)
				if c.Link == nil || c.Link.Seed != base.Seed || c.Link.Jitter != base.Jitter || c.Bitrate != 0 {
					t.Errorf("cell %q: %+v", c.Label, c.Link)
				}
			}
			if !slices.Equal(labels, tc.labels) {
				t.Errorf("labels %q, want %q", labels, tc.labels)
			}
		})
	}
	cells, _ := Sweep{Losses: []SweepLoss{{P: 0.01}, {P: 0.02}}}.Cells()
	if cells[0].Link == cells[1].Link || cells[0].Link.Loss.Mean() != 0.01 || cells[1].Link.Loss.Mean() != 0.02 {
		t.Errorf("cells share or mix their links: %+v %+v", cells[0].Link, cells[1].Link)
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	cells := DefaultCells(0)
	if len(cells) != 2 || cells[0].Link != nil || cells[1].Link == nil || cells[1].Link.Seed == 0 || cells[1].Bitrate != DefaultLossyRate {
		t.Errorf("default cells %+v", cells)
	}
	if c := DefaultCells(42); c[1].Link.Seed != 42 {
		t.Errorf("seed %d, want 42", c[1].Link.Seed)
	}
	names := ProfileNames()
	if len(names) != len(Profiles()) || len(names) == 0 {
		t.Fatalf("%d names for %d profiles", len(names), len(Profiles()))
	}
	for _, n := range names {
		p, ok := LookupProfile(n)
		if !ok || p.Name != n || p.Config.Validate() != nil || p.Config.Netem() != p.Netem {
			t.Errorf("profile %q: %+v (netem %q)", n, p, p.Config.Netem())
		}
	}
	if _, ok := LookupProfile("mars"); ok {
		t.Error("found a profile named mars")
	}
}

// TestRunPlanInterruptedBetweenCells: an interrupt after the first cell keeps
// its results, runs nothing more, and says the run was interrupted.
func TestRunPlanInterruptedBetweenCells(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delay := impair.Config{Delay: time.Millisecond}
	plan := Plan{Tests: planTests(), Cells: []Cell{{Label: "a"}, {Label: "b", Link: &delay}, {Label: "c"}}, Emulator: link.Netstack}
	cells := 0
	rep, err := Run(ctx, plan, RunOptions{Client: Client{Settle: 50 * time.Millisecond}, Where: func(string) {
		if cells++; cells == 2 {
			cancel() // as Ctrl-C would, once the second cell's link is open
		}
	}})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted || cells != 2 {
		t.Fatalf("error %v, interrupted %v, %d cells started", err, rep.Interrupted, cells)
	}
	if len(rep.Results) != len(plan.Tests) {
		t.Fatalf("%d results, want the first cell's %d", len(rep.Results), len(plan.Tests))
	}
	for _, r := range rep.Results {
		if r.Cell != "a" || r.Error != "" {
			t.Errorf("%s %s in %q: %q", r.Proto, r.Test, r.Cell, r.Error)
		}
	}
}
