package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/port"
	"github.com/netduel/netduel/report"
)

func portCommand() *cli.Command {
	output := func() cli.Flag {
		return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "output `FORMAT`: table, json, ndjson, csv or markdown"}
	}
	noColor := func() cli.Flag {
		return &cli.BoolFlag{Name: "no-color", Usage: "no colour in tables (also: NO_COLOR set, or output not a terminal)"}
	}
	proto := func() cli.Flag {
		return &cli.StringFlag{Name: "proto", Value: "tcp,udp", Usage: "protocols that must be free, a comma list of tcp, udp"}
	}
	return &cli.Command{
		Name:  "port",
		Usage: "is a port free, why did a bind fail, and how do binds conflict on this OS",
		Description: "Every answer comes from real binds (the bind a Go server does), released at once; " +
			"nothing is sent anywhere but to the loopback.",
		Subcommands: []*cli.Command{
			{
				Name:      "check",
				Usage:     "try the bind a server would do on each port, protocol and address, and explain each refusal",
				UsageText: "netduel port check [--proto tcp,udp] [--addr A,...] [--as go|c] [-o FORMAT] PORT...   (PORT: 8080, 8080,8443 or 8000-8010)",
				Description: "Exit status: 0 when every port is free for every protocol and address, 1 when one is not, " +
					"2 for bad input, 3 when the check itself failed.",
				Flags: []cli.Flag{
					proto(),
					&cli.StringFlag{Name: "addr", Usage: "`ADDRESSES` to bind, a comma list (default: 0.0.0.0, ::, 127.0.0.1, ::1)"},
					&cli.StringFlag{Name: "as", Value: "go", Usage: "bind as `SERVER`: go (net.Listen: SO_REUSEADDR on TCP) or c (no options: TIME_WAIT connections block it)"},
					output(), noColor(),
				},
				Action: portCheckAction,
			},
			{
				Name:  "free",
				Usage: "find ports free for every requested protocol at once",
				UsageText: "netduel port free [--range LO-HI] [--proto tcp,udp] [--count N] [--addr A,...] [-o FORMAT]\n" +
					"   netduel port free [--range LO-HI] [--proto tcp] [--count N] --exec -- CMD [ARGS...]",
				Description: "By default searches 1024-65535 without the ephemeral range, from a random place. " +
					"Exit status 1 when fewer than --count ports were found. " +
					"With --exec, holds the ports found and starts CMD on them as 'netduel port hold' does " +
					"(--proto then defaults to tcp: the sockets handed over); the exit status is CMD's.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "range", Usage: "search `LO-HI` (default: 1024-65535 without the ephemeral range)"},
					proto(),
					&cli.IntFlag{Name: "count", Value: 1, Usage: "how many ports to find (`N`)"},
					&cli.StringFlag{Name: "addr", Usage: "`ADDRESSES` that must all be free, a comma list (default: 0.0.0.0, ::, 127.0.0.1, ::1); with --exec, the one address to hold (default :: dual-stack)"},
					&cli.BoolFlag{Name: "exec", Usage: "hold the ports found and start the command after -- on them (see 'netduel port hold')"},
					output(),
				},
				Action: portFreeAction,
			},
			portHoldCommand(),
			{
				Name:      "conflicts",
				Usage:     "run real bind experiments on this OS and set them next to what Linux, macOS and Windows document",
				UsageText: "netduel port conflicts [--port P] [-o FORMAT]",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "port", Usage: "run every experiment on port `P` (it must be free; the TIME_WAIT experiments leave it in TIME_WAIT for a minute); default: a fresh free port each"},
					output(), noColor(),
				},
				Action: portConflictsAction,
			},
		},
	}
}

// portContext is c's context, cancelled by Ctrl-C.
func portContext(c *cli.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
}

func portStyle(c *cli.Context, format string) report.Style {
	return report.Style{Color: format == "table" && !c.Bool("no-color") && os.Getenv("NO_COLOR") == "" && isTerminal(c.App.Writer)}
}

func parsePortProtos(c *cli.Context) ([]port.Proto, error) {
	protos, err := port.ParseProtos(c.String("proto"))
	if err != nil {
		return nil, usageErrorf("--proto %q: %v", c.String("proto"), err)
	}
	return protos, nil
}

func parsePortAddrs(c *cli.Context) ([]netip.Addr, error) {
	if !c.IsSet("addr") {
		return nil, nil
	}
	addrs, err := port.ParseAddrs(c.String("addr"))
	if err != nil {
		return nil, usageErrorf("--addr: %v", err)
	}
	return addrs, nil
}

func portCheckAction(c *cli.Context) error {
	format := c.String("output")
	if err := checkOutput(format, report.Formats...); err != nil {
		return err
	}
	if c.Args().Len() == 0 {
		return usageErrorf("port check needs a port: e.g. 'netduel port check 8080', '8080,8443' or '8000-8010'")
	}
	ports, err := port.ParsePorts(c.Args().Slice()...)
	if err != nil {
		return usageErrorf("%v", err)
	}
	protos, err := parsePortProtos(c)
	if err != nil {
		return err
	}
	addrs, err := parsePortAddrs(c)
	if err != nil {
		return err
	}
	as, err := port.ParseBindAs(c.String("as"))
	if err != nil || c.String("as") == "" {
		return usageErrorf("--as %q: want go or c", c.String("as"))
	}
	ctx, stop := portContext(c)
	defer stop()
	defer holdCollections()()
	rs, err := port.Check(ctx, ports, port.CheckOptions{Protos: protos, Addrs: addrs, As: as})
	interrupted := errors.Is(err, context.Canceled)
	doc := &report.PortCheckDoc{Schema: port.Schema, Command: "check", Version: version, As: string(as), AllFree: err == nil && port.AllFree(rs),
		Warnings: report.PortWarnings(rs), Ports: rs}
	switch {
	case interrupted:
		// The ports checked until then, and why the rest were not.
		doc.Interrupted = true
		doc.Error = fmt.Sprintf("interrupted after %d of %d ports", countPorts(rs), len(ports))
	case err != nil:
		// A bind the check could not read (not a conflict): the document
		// still comes, with the ports done and the reason.
		doc.Error = "port check: " + err.Error()
	}
	if err := report.Render(c.App.Writer, doc, report.Options{Format: format, Style: portStyle(c, format)}); err != nil {
		return runtimeErrorf("writing the report: %v", err)
	}
	if doc.Error != "" {
		return runtimeErrorf("%s", doc.Error)
	}
	if !doc.AllFree {
		var taken []int
		for _, r := range rs {
			if r.State != port.StateFree && (len(taken) == 0 || taken[len(taken)-1] != r.Port) {
				taken = append(taken, r.Port)
			}
		}
		return failedError("not free: " + port.FormatPorts(taken))
	}
	return nil
}

func portFreeAction(c *cli.Context) error {
	format := c.String("output")
	if err := checkOutput(format, report.Formats...); err != nil {
		return err
	}
	o, argv, err := parseFreeOptions(c)
	if err != nil {
		return err
	}
	if c.Bool("exec") {
		return freeAndExec(c, o, argv)
	}
	if o.Addrs, err = parsePortAddrs(c); err != nil {
		return err
	}
	ctx, stop := portContext(c)
	defer stop()
	res, err := port.Free(ctx, o)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return runtimeErrorf("interrupted")
		}
		return runtimeErrorf("port free: %v", err)
	}
	doc := freeDocument(o, res)
	if err := report.Render(c.App.Writer, doc, report.Options{Format: format}); err != nil {
		return runtimeErrorf("writing the report: %v", err)
	}
	if len(doc.Ports) < o.Count {
		return failedError(report.FreeSummary(doc))
	}
	return nil
}

// parseFreeOptions reads port free's flags, and with --exec the command
// after "--".
func parseFreeOptions(c *cli.Context) (port.FreeOptions, []string, error) {
	o := port.FreeOptions{Count: c.Int("count")}
	head, argv := splitCommand(c.Args().Slice(), false)
	switch {
	case c.Bool("exec") && len(argv) == 0:
		return o, nil, usageErrorf("--exec needs a command after --: 'netduel port free --exec -- ./server'")
	case !c.Bool("exec") && c.Args().Len() > 0:
		return o, nil, usageErrorf("unexpected argument %q: port free takes only flags (use --range LO-HI, or --exec -- CMD)", c.Args().First())
	case len(head) > 0:
		return o, nil, usageErrorf("unexpected argument %q: port free takes only flags (use --range LO-HI)", head[0])
	case o.Count < 1 || o.Count > port.MaxPort:
		return o, nil, usageErrorf("--count %d: want 1 to %d", o.Count, port.MaxPort)
	}
	var err error
	if c.IsSet("range") {
		if o.Lo, o.Hi, err = port.ParseRange(c.String("range")); err != nil {
			return o, nil, usageErrorf("--range: %v", err)
		}
	}
	o.Protos, err = parsePortProtos(c)
	return o, argv, err
}

// freeDocument is port free's document for what Free found.
func freeDocument(o port.FreeOptions, res port.FreeResult) *report.PortFreeDoc {
	doc := &report.PortFreeDoc{Schema: port.Schema, Command: "free", Version: version, Ports: res.Ports,
		Requested: o.Count, Range: report.PortRange{Lo: res.Lo, Hi: res.Hi}}
	if doc.Ports == nil {
		doc.Ports = []int{}
	}
	if res.SkipHi > 0 {
		doc.Excluded = &report.PortRange{Lo: res.SkipLo, Hi: res.SkipHi}
	}
	for _, p := range o.Protos {
		doc.Protos = append(doc.Protos, string(p))
	}
	addrs := o.Addrs
	if len(addrs) == 0 {
		addrs = port.DefaultAddrs
	}
	for _, a := range addrs {
		doc.Addresses = append(doc.Addresses, a.String())
	}
	return doc
}

func portConflictsAction(c *cli.Context) error {
	format := c.String("output")
	if err := checkOutput(format, report.Formats...); err != nil {
		return err
	}
	if c.Args().Len() > 0 {
		return usageErrorf("unexpected argument %q: port conflicts takes only flags (use --port P)", c.Args().First())
	}
	p := c.Int("port")
	if c.IsSet("port") && (p < 1 || p > port.MaxPort) {
		return usageErrorf("--port %d: want a port from 1 to %d, or leave it out to use fresh free ports", p, port.MaxPort)
	}
	ctx, stop := portContext(c)
	defer stop()
	if p != 0 {
		// The experiments need the port free for both protocols on loopback and
		// the wildcards; say so up front instead of failing every experiment.
		rs, err := port.Check(ctx, []int{p}, port.CheckOptions{})
		if err != nil {
			return runtimeErrorf("port conflicts: %v", err)
		}
		if !port.AllFree(rs) {
			var why []string
			for _, r := range rs {
				if r.State != port.StateFree && r.State != port.StateUnavailable {
					why = append(why, fmt.Sprintf("%s %s %s", r.Proto, r.Address, r.State))
				}
			}
			if len(why) > 0 {
				return failedError(fmt.Sprintf("--port %d is not free (%s): choose a free port (netduel port free) or leave --port out", p, strings.Join(why, ", ")))
			}
		}
	}
	exps, err := port.Conflicts(ctx, port.ConflictsOptions{Port: p})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return runtimeErrorf("interrupted")
		}
		return runtimeErrorf("port conflicts: %v", err)
	}
	doc := &report.PortConflictsDoc{Schema: port.Schema, Command: "conflicts", Version: version, OS: runtime.GOOS, Experiments: exps}
	if err := report.Render(c.App.Writer, doc, report.Options{Format: format, Style: portStyle(c, format)}); err != nil {
		return runtimeErrorf("writing the report: %v", err)
	}
	return nil
}

// countPorts is how many distinct ports results (in port order) cover.
func countPorts(rs []port.Result) int {
	n := 0
	for i, r := range rs {
		if i == 0 || rs[i-1].Port != r.Port {
			n++
		}
	}
	return n
}
