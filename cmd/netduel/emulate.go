//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/internal/syncw"
	"github.com/netduel/netduel/report"
)

func emulateCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "peer", Usage: "shell `CMD` to run on the server side of the link (sh -c), e.g. 'iperf3 -s'; stopped when CMD ends"},
		&cli.DurationFlag{Name: "peer-wait", Value: 200 * time.Millisecond, Usage: "how long to give the peer to start before CMD starts (0 to 1m)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no link summary on stderr at the end"},
	}, linkFlags()...)
	return &cli.Command{
		Name:  "emulate",
		Usage: "run any program across the emulated link (tun backend: root, Linux)",
		UsageText: "netduel emulate [link flags] [--peer 'CMD'] -- CMD [ARGS...]\n\n" +
			"CMD runs in the client's network namespace (198.18.0.1), the peer in the server's (198.18.0.2);\n" +
			"each finds the other's address in $NETDUEL_PEER. Exit status is CMD's. For example:\n" +
			"  netduel emulate --profile lte --peer 'iperf3 -s -1' -- sh -c 'sleep 0.5; iperf3 -c $NETDUEL_PEER'\n" +
			"  netduel emulate --delay 50ms --loss 2% -- ping -c 5 198.18.0.2",
		Flags:  flags,
		Action: emulateAction,
	}
}

// emulateAction runs CMD (and the peer) across a tun link, and exits with
// CMD's status.
func emulateAction(c *cli.Context) error {
	argv, cfg, err := parseEmulate(c)
	if err != nil {
		return err
	}
	if err := link.TunAvailable(); err != nil {
		return runtimeErrorf("emulate needs the tun backend: %v (run as root on Linux; 'netduel run --emulator netstack' needs no privileges but cannot run other programs)", err)
	}
	var opt []link.Option
	if c.Bool("link-poll") {
		opt = append(opt, link.Polling)
	}
	l, err := link.Open(link.Tun, cfg, c.String("cc"), opt...)
	if err != nil {
		return runtimeErrorf("%s", engineErrorText(err))
	}
	defer l.Close()
	if l.InsideNote != "" && !c.Bool("quiet") {
		fmt.Fprintf(c.App.ErrWriter, "netduel emulate: note: %s\n", l.InsideNote)
	}
	// The peer's output and ours share stderr: serialise the writes (and keep
	// exec from reading straight into a buffer we also write).
	stderr := syncw.New(c.App.ErrWriter)

	// Ctrl-C reaches CMD from the terminal; a SIGTERM sent to us is passed on.
	// Either way we stay to stop the peer and remove the link.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if p := c.String("peer"); p != "" {
		peer, err := startPeer(l, p, stderr)
		if err != nil {
			return err
		}
		defer stopGroup(peer)
		time.Sleep(c.Duration("peer-wait"))
	}
	werr, err := runInLink(c, l, argv, stderr, sigs)
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		linkSummary(stderr, l, cfg)
	}
	return exitStatus(argv[0], werr)
}

// parseEmulate checks emulate's command and flags, and reads its link.
func parseEmulate(c *cli.Context) ([]string, impair.Config, error) {
	var cfg impair.Config
	if c.Args().Len() == 0 {
		return nil, cfg, usageErrorf("emulate needs a command: netduel emulate [link flags] -- CMD [ARGS...]")
	}
	argv := c.Args().Slice()
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, cfg, usageErrorf("emulate: command %q not found: give a program on PATH or a path to one", argv[0])
	}
	if err := emptyLinkFlag(c); err != nil {
		return nil, cfg, err
	}
	switch e := c.String("emulator"); e {
	case link.Auto, link.Tun:
	case link.Netstack, link.None:
		return nil, cfg, usageErrorf("--emulator %s: emulate runs programs in network namespaces, which only the tun backend has; drop --emulator", e)
	default:
		return nil, cfg, usageErrorf("--emulator %q: unknown backend: emulate takes auto or tun", e)
	}
	if c.IsSet("peer") && strings.TrimSpace(c.String("peer")) == "" {
		return nil, cfg, usageErrorf("--peer is empty: give it a shell command, e.g. --peer 'iperf3 -s -1', or leave it out")
	}
	if d := c.Duration("peer-wait"); d < 0 || d > time.Minute {
		return nil, cfg, usageErrorf("--peer-wait %v: want a duration from 0 to 1m, e.g. 500ms", d)
	}
	if err := checkCongestion(link.Tun, c.String("cc")); err != nil {
		return nil, cfg, err
	}
	if !anyLinkFlag(c) {
		return argv, cfg, nil
	}
	ls, err := parseLink(c, false)
	if err != nil {
		return nil, cfg, err
	}
	if len(ls.cells) != 1 {
		return nil, cfg, usageErrorf("emulate takes one link: give --loss and --delay single values, not comma lists")
	}
	return argv, *ls.cells[0].Link, nil
}

// startPeer starts the --peer shell command on the server side of the link.
func startPeer(l *link.Link, cmdline string, out io.Writer) (*exec.Cmd, error) {
	peer := exec.Command("sh", "-c", cmdline)
	peer.Env = append(os.Environ(), "NETDUEL_PEER="+link.ClientSide.Addr())
	peer.Stdout, peer.Stderr = out, out
	// Stopped as a group, with its children. If we are killed (SIGKILL
	// leaves no chance to stop it), the kernel kills the shell
	// (Pdeathsig), and with it every process it started: the shell is the
	// first process of a PID namespace of its own, whose end takes all of
	// them.
	peer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWPID}
	if err := l.Start(link.ServerSide, peer); err != nil {
		return nil, runtimeErrorf("starting the peer: %v", err)
	}
	return peer, nil
}

// runInLink runs CMD on the client side of the link until it ends, passing
// on the signals we get, and returns how it ended (werr); err says it could
// not start.
func runInLink(c *cli.Context, l *link.Link, argv []string, stderr io.Writer, sigs <-chan os.Signal) (werr, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NETDUEL_PEER="+link.ServerSide.Addr())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, stderr
	// CMD must not outlive us either. The signal comes when the thread that
	// forked it ends: Start forks from a thread of the runtime's pool, which
	// lives as long as the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if f, ok := c.App.ErrWriter.(*os.File); ok {
		cmd.Stderr = f // a terminal stays a terminal for CMD
	}
	if err := l.Start(link.ClientSide, cmd); err != nil {
		return nil, runtimeErrorf("starting %s: %v", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case werr = <-done:
			return werr, nil
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		}
	}
}

// linkSummary writes what the link did, and its self-check.
func linkSummary(w io.Writer, l *link.Link, cfg impair.Config) {
	up, down := l.Counters()
	what := cfg.Describe()
	if what == "" {
		what = "no impairment"
	}
	if l.Polling {
		what += "; polling forwarder"
	}
	cs, ss := l.Stats()
	fmt.Fprintf(w, "netduel emulate: tun link (%s; TCP congestion control %s, the namespaces' default)\n  client→server: %s\n  server→client: %s\n"+
		"  device drops (packets the ends' devices dropped before or after the link): client %d, server %d\n",
		what, l.InsideCongestion, countersLine(up), countersLine(down), cs.DeviceDrops, ss.DeviceDrops)
	for _, line := range report.LinkCheckLines(duel.CheckLink(l), "", report.Style{}) {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// exitStatus is emulate's exit for how CMD ended: its exit status, 128 + the
// signal that killed it, or 3 if waiting for it failed.
func exitStatus(name string, werr error) error {
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case werr != nil:
		return runtimeErrorf("%s: %v", name, werr)
	}
	if code != 0 {
		return &exitErr{code: code}
	}
	return nil
}

func countersLine(c impair.Counters) string {
	s := fmt.Sprintf("%d packets, %d forwarded, %d dropped, %d queue drops, %d duplicated, %d corrupted, %d reordered",
		c.Packets, c.Forwarded, c.Dropped, c.QueueDrops, c.Duplicated, c.Corrupted, c.Reordered)
	if c.ECNMarked > 0 {
		s += fmt.Sprintf(", %d ECN-marked (CE instead of dropped)", c.ECNMarked)
	}
	if c.Held > 0 {
		s += fmt.Sprintf(", %d still held when the command ended (dropped as the link closed)", c.Held)
	}
	return s
}

// stopGroup ends a process group: SIGTERM, then SIGKILL if it lingers.
func stopGroup(cmd *exec.Cmd) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-done
	}
}
