package duel

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/port"
)

// Plan is what a run does: its tests, run in order in each of its cells, one
// cell after the other. A cell is a link (an emulated one, or the host's
// loopback) with an embedded server inside it; a plan without cells runs its
// tests once against the remote server its client names.
type Plan struct {
	// Tests run in each cell, in order.
	Tests []TestSpec
	// Cells are the links the tests run across. Empty: the tests run against
	// the server at RunOptions.Client.Server, across the network to it.
	Cells []Cell
	// Emulator is the link backend of the cells that have a Link:
	// link.Auto (also ""), link.Tun or link.Netstack.
	Emulator string
	// Congestion is the TCP congestion control pinned on both ends of each
	// cell's link ("" = the stack's default).
	Congestion string
	// Sweep says the cells form a loss × delay grid (Report.Sweep).
	Sweep bool
	// LinkPoll makes each emulated cell's forwarder a polling one
	// (link.Polling; tun only).
	LinkPoll bool
}

// Cell is one link of a plan.
type Cell struct {
	// Label names the cell in its results (Result.Cell) and in Where; empty
	// for a run with one link.
	Label string
	// Link is the impairment applied in each direction, across the plan's
	// Emulator; nil means the host's loopback with no impairment (backend
	// link.None), which is also where the port experiments run.
	Link *impair.Config
	// Bitrate, if > 0, paces the tests of this cell that pace (Kind FigPacing)
	// at this rate in bits/s, replacing their own Bitrate; a caller whose
	// user asked for a bit rate leaves it 0.
	Bitrate float64
}

// Describe fills in what rep says of where the plan's tests run, as Run
// will: for a plan with cells an embedded server, on the first cell's
// server address, across emulated links if a cell has one. A live report
// (NDJSON's start event) says it before the first test.
func (p Plan) Describe(rep *Report) {
	if len(p.Cells) == 0 {
		return
	}
	rep.Embedded, rep.Sweep = true, p.Sweep
	if rep.Server == "" {
		rep.Server = "127.0.0.1" // link.None's
		if p.Cells[0].Link != nil {
			rep.Server = link.ServerAddr.String()
		}
	}
	for _, c := range p.Cells {
		if c.Link != nil {
			rep.Network = NetworkLinks
		}
	}
}

// Len returns how many tests the plan runs in all.
func (p Plan) Len() int { return len(p.Tests) * max(1, len(p.Cells)) }

// tests returns the cell's tests: the plan's, paced at the cell's rate.
func (c Cell) tests(plan []TestSpec) []TestSpec {
	if c.Bitrate <= 0 {
		return plan
	}
	out := append([]TestSpec(nil), plan...)
	for i := range out {
		if k := out[i].Kind(); k != nil && k.Has(FigPacing) {
			out[i].Bitrate = c.Bitrate
		}
	}
	return out
}

// RunOptions are how Run runs a plan.
type RunOptions struct {
	// Client is the template of the client that runs the tests: its settle,
	// checksum and hooks (Progress, OnResult, Live). RunOnLink points it at
	// each cell's link and server; for a plan without cells, Client.Server,
	// Token, Network and SameHost say where and how to reach the server.
	Client Client
	// Header starts the report Run returns: Schema, Version and Started as
	// the caller wants them (Schema defaults to duel.Schema and Started to
	// now); Run fills in where the tests ran and their results.
	Header Report
	// Where, if set, is told where the tests run before each cell's first
	// test: "netstack: loss 1%", "the network to HOST:PORT".
	Where func(where string)
}

// Run runs the plan and returns its report: every test's result, where the
// tests ran (Server, Embedded, Network, Sweep) and, after a cell on the
// host's loopback, what the embedded server's port number means for other
// binds (PortConflicts). It stops at the first error (a link that cannot
// open, a server that cannot be reached or refuses a test, ctx done) and
// returns it with the report so far: every test that finished and the one
// that failed, with its own error. Report.Interrupted says ctx ended the run;
// Report.Error is left to the caller, which decides how it reads.
func Run(ctx context.Context, plan Plan, o RunOptions) (Report, error) {
	rep := o.Header
	if rep.Schema == "" {
		rep.Schema = Schema
	}
	if rep.Started.IsZero() {
		rep.Started = time.Now().UTC()
	}
	if rep.Network == "" {
		rep.Network = "os"
	}
	where := o.Where
	if where == nil {
		where = func(string) {}
	}
	var err error
	if len(plan.Cells) == 0 {
		err = runRemote(ctx, &rep, plan, o.Client, where)
	} else {
		err = runCells(ctx, &rep, plan, o.Client, where)
	}
	rep.Interrupted = ctx.Err() != nil
	return rep, err
}

// runRemote runs the plan's tests once, against the client's server.
func runRemote(ctx context.Context, rep *Report, plan Plan, c Client, where func(string)) error {
	if c.Server == "" {
		return errors.New("a plan without cells runs against a server: set the client's Server")
	}
	if rep.Server == "" {
		rep.Server = c.Server
	}
	where("the network to " + c.Server)
	rs, err := c.Run(ctx, plan.Tests)
	rep.Results = append(rep.Results, rs...)
	return err
}

// runCells runs the plan's tests across each cell's link, one cell after the
// other, with an embedded server inside each link.
func runCells(ctx context.Context, rep *Report, plan Plan, c Client, where func(string)) error {
	rep.Embedded, rep.Sweep = true, plan.Sweep
	for _, cl := range plan.Cells {
		if err := runCell(ctx, rep, plan, cl, c, where); err != nil {
			return err
		}
	}
	return nil
}

// runCell opens one cell's link, runs the tests across it, closes it, and
// after a cell on the loopback runs the port experiments (once a run).
func runCell(ctx context.Context, rep *Report, plan Plan, cl Cell, c Client, where func(string)) error {
	backend, cfg := plan.Emulator, impair.Config{}
	if cl.Link == nil {
		backend = link.None
	} else {
		cfg = *cl.Link
	}
	var opt []link.Option
	if plan.LinkPoll && cl.Link != nil {
		opt = append(opt, link.Polling)
	}
	l, err := link.Open(backend, cfg, plan.Congestion, opt...)
	if err != nil {
		return err
	}
	where(cellWhere(l.Backend, cl.Label, cfg))
	if rep.Server == "" {
		rep.Server = l.ServerHost
	}
	if l.Backend != link.None {
		rep.Network = NetworkLinks
	}
	rs, srvAddr, err := RunOnLink(ctx, l, c, cl.tests(plan.Tests), cl.Label)
	l.Close()
	if l.Backend == link.None && rep.PortConflicts == nil && err == nil {
		rep.PortConflicts = portConflicts(srvAddr)
	}
	rep.Results = append(rep.Results, rs...)
	return err
}

// cellWhere describes where a cell's tests run: the backend, and the cell's
// label or else its netem arguments.
func cellWhere(backend, label string, cfg impair.Config) string {
	if label != "" {
		return backend + ": " + label
	}
	if n := cfg.Describe(); n != "" {
		return backend + ": " + n
	}
	return backend
}

// portConflicts runs, after a server on the host's loopback has closed, the
// experiments that show what TCP and UDP sharing its port number means for
// other binds; nil if the address is not one.
func portConflicts(srvAddr string) *PortConflicts {
	ap, err := netip.ParseAddrPort(srvAddr)
	if err != nil {
		return nil
	}
	return &PortConflicts{Port: int(ap.Port()), Experiments: port.HeldPortExperiments(ap.Port())}
}
