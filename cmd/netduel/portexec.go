package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/port"
)

// When 'port hold/free --exec' starts a server it runs netduel again, which
// sets LISTEN_PID to its own pid and becomes the server (port.ActivationCommand):
// that happens here, before main.
func init() { port.BecomeActivated() }

func portHoldCommand() *cli.Command {
	return &cli.Command{
		Name:      "hold",
		Usage:     "bind ports and start a server on them under socket activation, so that nobody takes them in between",
		UsageText: "netduel port hold [--proto tcp] [--addr A] PORT[,PORT...] --exec -- CMD [ARGS...]",
		Description: "netduel binds each port (TCP: listens) and starts CMD with the sockets as descriptors 3, 4, ... " +
			"(ports in order, each for every --proto), LISTEN_FDS, LISTEN_PID (CMD's pid) and LISTEN_FDNAMES (tcp-8080:...), " +
			"as systemd does, plus NETDUEL_PORT and NETDUEL_PORTS. The exit status is CMD's; " +
			"1 when a port cannot be bound, 2 for bad input. Not available on Windows.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "proto", Value: "tcp", Usage: "protocols to bind each port for, a comma list of tcp, udp"},
			&cli.StringFlag{Name: "addr", Usage: "`ADDRESS` to bind (default: :: dual-stack, as systemd's ListenStream=PORT, or 0.0.0.0 without IPv6)"},
			&cli.BoolFlag{Name: "exec", Usage: "start the command after -- on the held sockets (required)"},
		},
		Action: portHoldAction,
	}
}

// splitCommand splits a command's arguments at "--" (urfave/cli keeps it
// after a positional argument and drops it before one): what comes before
// and the command after.
func splitCommand(args []string, before bool) (head, cmd []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	if before {
		return args, nil
	}
	return nil, args
}

func portHoldAction(c *cli.Context) error {
	head, argv := splitCommand(c.Args().Slice(), true)
	if len(argv) == 0 && len(head) > 0 {
		if _, err := port.ParsePorts(head[0]); err != nil {
			// "hold --exec -- CMD": urfave/cli dropped the "--" before CMD.
			head, argv = nil, head
		}
	}
	if !c.Bool("exec") || len(argv) == 0 {
		return usageErrorf("port hold needs --exec and a command: 'netduel port hold 8080 --exec -- ./server'")
	}
	if len(head) == 0 {
		return usageErrorf("port hold needs a port: 'netduel port hold 8080 --exec -- ./server'")
	}
	ports, err := port.ParsePorts(head...)
	if err != nil {
		return usageErrorf("%v", err)
	}
	return holdAndExec(c, ports, argv)
}

// holdOptions reads --proto and --addr for holding sockets.
func holdOptions(c *cli.Context) (port.HoldOptions, error) {
	var o port.HoldOptions
	protos, err := port.ParseProtos(c.String("proto"))
	if err != nil {
		return o, usageErrorf("--proto %q: %v", c.String("proto"), err)
	}
	o.Protos = protos
	if c.IsSet("addr") {
		a, err := netip.ParseAddr(strings.Trim(c.String("addr"), "[]"))
		if err != nil || a.Zone() != "" {
			return o, usageErrorf("--addr %q: give one IP address, such as 127.0.0.1, ::1, 0.0.0.0 or ::", c.String("addr"))
		}
		o.Addr = a.Unmap()
	}
	return o, nil
}

// holdAndExec binds ports, starts argv on them and returns its exit status.
func holdAndExec(c *cli.Context, ports []int, argv []string) error {
	o, err := holdOptions(c)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return usageErrorf("--exec %q: %v", argv[0], err)
	}
	hs, err := port.Hold(ports, o)
	if err != nil {
		return failedError(fmt.Sprintf("cannot hold %v (see 'netduel port check %s')", err, port.FormatPorts(ports)))
	}
	return execHeld(c, hs, path, argv)
}

// execHeld starts argv on the held sockets, gives up its own copies, passes
// on the signals a terminal or supervisor sends, and returns argv's exit
// status (128+N when a signal N ended it, as shells report).
func execHeld(c *cli.Context, hs []port.Held, path string, argv []string) error {
	defer port.CloseHeld(hs)
	cmd, err := port.ActivationCommand(hs, path, argv)
	if err != nil {
		return runtimeErrorf("--exec: %v", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
	var names []string
	for _, h := range hs {
		names = append(names, fmt.Sprintf("%s %s", h.Proto, h.Addr))
	}
	fds := "descriptor 3"
	if len(hs) > 1 {
		fds = fmt.Sprintf("descriptors 3-%d", 2+len(hs))
	}
	fmt.Fprintf(c.App.ErrWriter, "netduel: holding %s for %s (%s)\n", strings.Join(names, ", "), argv[0], fds)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return runtimeErrorf("starting %s: %v", argv[0], err)
	}
	port.CloseHeld(hs) // the server has them now
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				return runtimeErrorf("%s: %v", argv[0], err)
			}
			st := cmd.ProcessState
			if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return &exitErr{code: 128 + int(ws.Signal())}
			}
			if code := st.ExitCode(); code != 0 {
				return &exitErr{code: code}
			}
			return nil
		}
	}
}

// freeAndExec finds free ports and holds them for argv; a port taken between
// the search and the bind sends it searching again (a few times).
func freeAndExec(c *cli.Context, o port.FreeOptions, argv []string) error {
	if !c.IsSet("proto") {
		o.Protos = []port.Proto{port.TCP}
	}
	ho, err := holdOptions(c)
	if err != nil {
		return err
	}
	ho.Protos = o.Protos
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return usageErrorf("--exec %q: %v", argv[0], err)
	}
	ctx, stop := portContext(c)
	defer stop()
	var lastErr error
	for try := 0; try < 5; try++ {
		res, err := port.Free(ctx, o)
		if err != nil {
			return runtimeErrorf("port free: %v", err)
		}
		if len(res.Ports) < o.Count {
			return failedError(fmt.Sprintf("found %d of %d free ports in %d-%d", len(res.Ports), o.Count, res.Lo, res.Hi))
		}
		hs, err := port.Hold(res.Ports, ho)
		if err == nil {
			stop()
			return execHeld(c, hs, path, argv)
		}
		lastErr = err
	}
	return failedError(fmt.Sprintf("the free ports found were taken before they could be held: %v", lastErr))
}
