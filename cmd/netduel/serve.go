package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/internal/syncw"
	"github.com/netduel/netduel/stack"
)

// defaultListen is where 'netduel serve' listens by default: every address, TCP
// and UDP, port 9400.
const defaultListen = ":9400"

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve tests to 'netduel run --server' clients (TCP and UDP on the same port)",
		UsageText: "netduel serve [--listen HOST:PORT] [--max-clients N] [--max-clients-per-ip N] [--max-duration D] [--max-bitrate RATE] [--max-frame BYTES] [--idle-timeout D] [--hello-timeout D] [--token T] [--allow-busy-poll] [-q]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: defaultListen, Usage: "`HOST:PORT` for TCP and UDP alike (port 0: the kernel picks)"},
			&cli.IntFlag{Name: "max-clients", Value: 64, Usage: "sessions served at once; more are refused with 'server busy'"},
			&cli.IntFlag{Name: "max-clients-per-ip", DefaultText: "max-clients/4, at least 1", Usage: "sessions of one source address at once (loopback is not exempt)"},
			&cli.DurationFlag{Name: "max-duration", Value: 10 * time.Minute, Usage: "longest test accepted"},
			&cli.StringFlag{Name: "max-bitrate", Value: "0", Usage: "highest data rate of a session, measured (k/M/G suffixes): UDP sessions over it are cut, TCP is read no faster; 0 = no limit"},
			&cli.StringFlag{Name: "max-frame", Value: "4MiB", Usage: "largest frame accepted, `BYTES`"},
			&cli.DurationFlag{Name: "idle-timeout", Value: 10 * time.Second, Usage: "a connection or session silent this long is closed, so a vanished client never leaves the server busy"},
			&cli.DurationFlag{Name: "hello-timeout", Value: 5 * time.Second, Usage: "a new connection must send its hello (and authenticate) within this"},
			tokenFlag("shared secret clients must prove they know (HMAC-SHA256 challenge; never sent); also $NETDUEL_TOKEN"),
			&cli.BoolFlag{Name: "allow-busy-poll", Usage: "let clients' latency tests ask this server to spin while it waits for their requests (run --busy-poll): a core's worth of CPU per such session"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no session log on stderr"},
		},
		Action: serveAction,
	}
}

// maxServeTimeout bounds serve's durations (see serveAction).
const maxServeTimeout = 24 * time.Hour

// maxClients bounds --max-clients: sessions at once, each with its control
// and data sockets (beyond it, the descriptor limit refuses them anyway).
const maxClients = 65536

func serveAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErrorf("unexpected argument %q: serve takes only flags (see 'netduel serve --help')", c.Args().First())
	}
	if err := refuseEmpty(c, c.Command.Flags, map[string]bool{"token": true}); err != nil {
		return err
	}
	listen := c.String("listen")
	if err := hostPort("listen", listen, true); err != nil {
		return err
	}
	maxRate, err := parseRate("max-bitrate", c.String("max-bitrate"))
	if err != nil {
		return err
	}
	maxFrame, err := parseSize("max-frame", c.String("max-frame"))
	if err != nil {
		return err
	}
	if maxFrame < 1024 || maxFrame > frame.MaxFrameSize {
		// Above the wire format's limit it was cut to 16 MiB without a word.
		return usageErrorf("--max-frame %s: want 1024 bytes to 16MiB (the wire format's largest frame)", c.String("max-frame"))
	}
	if n := c.Int("max-clients"); n < 1 || n > maxClients {
		// Each session holds two sockets and its receive buffers: a bound
		// beyond any descriptor limit is no bound.
		return usageErrorf("--max-clients %d: want 1 to %d", n, maxClients)
	}
	// At most a day each, the longest test a client runs: a session lives
	// its duration plus twice the idle timeout, which must not overflow.
	if d := c.Duration("max-duration"); d <= 0 || d > maxServeTimeout {
		return usageErrorf("--max-duration %v: want a positive duration up to 24h, e.g. 10m", d)
	}
	if d := c.Duration("idle-timeout"); d < 100*time.Millisecond || d > maxServeTimeout {
		return usageErrorf("--idle-timeout %v: want a duration from 100ms to 24h, e.g. 10s", d)
	}
	if d := c.Duration("hello-timeout"); d < 100*time.Millisecond || d > maxServeTimeout {
		return usageErrorf("--hello-timeout %v: want a duration from 100ms to 24h, e.g. 5s", d)
	}
	perIP := c.Int("max-clients-per-ip")
	if c.IsSet("max-clients-per-ip") && (perIP < 1 || perIP > c.Int("max-clients")) {
		return usageErrorf("--max-clients-per-ip %d: want 1 to --max-clients (%d)", perIP, c.Int("max-clients"))
	}
	token, err := parseToken(c)
	if err != nil {
		return err
	}
	stderr := syncw.New(c.App.ErrWriter) // sessions log from their own goroutines
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	cfg := duel.ServerConfig{
		Network:     &stack.OS{},
		Listen:      listen,
		MaxClients:  c.Int("max-clients"),
		MaxDuration: c.Duration("max-duration"),
		MaxBitrate:  maxRate,
		MaxFrame:    maxFrame,
		IdleTimeout: c.Duration("idle-timeout"),

		MaxClientsPerIP: perIP,
		HelloTimeout:    c.Duration("hello-timeout"),
		Token:           token,
		AllowBusyPoll:   c.Bool("allow-busy-poll"),
	}
	if !c.Bool("quiet") {
		cfg.Logf = logf
	}
	srv, err := duel.NewServer(cfg)
	if err != nil {
		return runtimeErrorf("cannot listen on %s: %v", listen, err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	auth := "no token: any client may run tests"
	if token != "" {
		auth = "clients must prove the token"
	}
	logf("netduel %s serving on %s (TCP and UDP, same port; %s); Ctrl-C stops", version, srv.Addr(), auth)
	if err := srv.Serve(ctx); err != nil {
		return runtimeErrorf("server stopped: %v", err)
	}
	logf("stopped")
	return nil
}
