package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

// Exit codes (DESIGN §8).
const (
	exitOK      = 0
	exitFailed  = 1 // an assertion or check failed, or a port is taken
	exitUsage   = 2 // bad usage or input
	exitRuntime = 3 // runtime failure: server unreachable, emulator unavailable...
)

// exitErr carries an exit code and a one-line message to the top level.
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

// usageErrorf reports bad usage or input (exit 2). The message names the flag or
// value and says how to fix it.
func usageErrorf(format string, a ...any) error {
	return &exitErr{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// runtimeErrorf reports a runtime failure (exit 3) and says why.
func runtimeErrorf(format string, a ...any) error {
	return &exitErr{code: exitRuntime, msg: fmt.Sprintf(format, a...)}
}

// failedError reports that a check or assertion failed (exit 1). The report itself
// has already been printed, so msg may be empty.
func failedError(msg string) error { return &exitErr{code: exitFailed, msg: msg} }

func init() {
	// --version without urfave's -v alias.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "netduel",
		Usage:     "compare TCP and UDP side by side, and diagnose port conflicts",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, by run, with the right exit code.
		ExitErrHandler:         func(*cli.Context, error) {},
		HideVersion:            false, // --version, as well as the version command
		UseShortOptionHandling: false,
		// --assert 'a < 1,5' must stay one value.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			runCommand(),
			serveCommand(),
			emulateCommand(),
			portCommand(),
			reportCommand(),
			versionCommand(),
		},
		OnUsageError: onUsageError,
	}
	// Flag errors in any command: one line on stderr, exit 2, no usage dump.
	var setUsage func(cmds []*cli.Command)
	setUsage = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			if cmd.OnUsageError == nil {
				cmd.OnUsageError = onUsageError
			}
			if len(cmd.Subcommands) > 0 && cmd.Action == nil {
				cmd.Action = unknownSubcommand
			}
			setUsage(cmd.Subcommands)
		}
	}
	setUsage(app.Commands)
	// `netduel` with no command runs `run` with its defaults.
	app.Action = func(c *cli.Context) error {
		if c.Args().Len() > 0 {
			return usageErrorf("unknown command %q: use one of run, serve, emulate, port, report, version (see 'netduel --help')", c.Args().First())
		}
		return runAction(c)
	}
	app.Flags = runFlags()
	return app
}

// unknownSubcommand is the action of a command made of subcommands (port)
// when none of them was named: its help without arguments, else a usage
// error naming the word and the subcommands there are (urfave's own answer
// was "No help topic for ...").
func unknownSubcommand(c *cli.Context) error {
	if c.Args().Len() == 0 {
		return cli.ShowSubcommandHelp(c)
	}
	var names []string
	for _, sub := range c.Command.Subcommands {
		if sub.Name != "help" {
			names = append(names, sub.Name)
		}
	}
	return usageErrorf("unknown command %q for '%s': use one of %s (see '%s --help')",
		c.Args().First(), commandPath(c), strings.Join(names, ", "), commandPath(c))
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageErrorf("%s (see '%s --help')", flagErrorText(c, err), commandPath(c))
}

// The flag package's words for a value it could not parse, and for a flag it
// does not know.
var (
	badValueRE  = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): `)
	badBoolRE   = regexp.MustCompile(`^invalid boolean value "(.*)" for -(\S+): `)
	undefinedRE = regexp.MustCompile(`^flag provided but not defined: -(\S+)$`)
	numberArgRE = regexp.MustCompile(`^-[0-9]`)
	// durationSyntaxRE is a duration as time.ParseDuration writes it: a value
	// of this form that does not parse is out of its range.
	durationSyntaxRE = regexp.MustCompile(`^[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$`)
	flagWantText     = map[string]string{
		"duration": "a duration such as 3s, 500ms or 1m30s",
		"int":      "a whole number, e.g. 3",
		"bool":     "true or false (or the flag alone for true)",
	}
)

// flagErrorText rewords a parse error of the flag package ("invalid value \"\"
// for flag -duration: parse error") as netduel's other input errors read:
// the flag as it is written, the value, and what it wants.
func flagErrorText(c *cli.Context, err error) string {
	msg := err.Error()
	if m := undefinedRE.FindStringSubmatch(msg); m != nil {
		if numberArgRE.MatchString("-" + m[1]) {
			return fmt.Sprintf("%q is read as a flag: negative numbers are not valid here", "-"+m[1])
		}
		return fmt.Sprintf("unknown flag %q", dashes(m[1]))
	}
	value, name := "", ""
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		value, name = m[1], m[2]
	} else if m := badBoolRE.FindStringSubmatch(msg); m != nil {
		value, name = m[1], m[2]
	} else {
		return msg
	}
	want := flagWantText[flagKind(c, name)]
	if want == "" {
		want = "another value"
	}
	if value == "" {
		return fmt.Sprintf("%s is empty: give it %s, or leave the flag out for its default", dashes(name), want)
	}
	if flagKind(c, name) == "duration" && durationSyntaxRE.MatchString(value) {
		// Written as a duration, but beyond the 292 years one can hold.
		return fmt.Sprintf("%s %q: far too long: want %s, within the range its help gives", dashes(name), value, want)
	}
	return fmt.Sprintf("%s %q: want %s", dashes(name), value, want)
}

// dashes writes a flag's name as it is used: --name, or -o for one letter.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagKind is the kind of value c's command's flag name takes: duration, int,
// bool, or "" when it is not one of those.
func flagKind(c *cli.Context, name string) string {
	var flags []cli.Flag
	if c.Command != nil {
		flags = c.Command.Flags
	}
	if c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		switch f.(type) {
		case *cli.DurationFlag:
			return "duration"
		case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
			return "int"
		case *cli.BoolFlag:
			return "bool"
		}
	}
	return ""
}

// commandPath names the command a context runs, from the top: "netduel port
// check" (a subcommand's own FullName drops its parents).
func commandPath(c *cli.Context) string {
	var names []string
	for _, cc := range c.Lineage() {
		if cc.Command == nil || cc.Command.Name == "" || cc.Command.Name == "netduel" {
			continue
		}
		if len(names) == 0 || names[0] != cc.Command.Name {
			names = append([]string{cc.Command.Name}, names...)
		}
	}
	return strings.Join(append([]string{"netduel"}, names...), " ")
}

// setupMu serialises urfave/cli's setup of concurrent runs (see runContext).
var setupMu sync.Mutex

// onAction makes every action of app (its own and its commands', at every
// level) call f first.
func onAction(app *cli.App, f func()) {
	wrap := func(a cli.ActionFunc) cli.ActionFunc {
		if a == nil {
			return nil
		}
		return func(c *cli.Context) error { f(); return a(c) }
	}
	app.Action = wrap(app.Action)
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			cmd.Action = wrap(cmd.Action)
			walk(cmd.Subcommands)
		}
	}
	walk(app.Commands)
}

// run executes the CLI and maps errors to exit codes. It never panics on input.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a context whose cancellation stops long-running commands
// (as Ctrl-C does).
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	// urfave/cli's setup writes to state every app shares (its help flag,
	// its help command): apps running at once in one process (the tests)
	// take turns until their command's action starts.
	setupMu.Lock()
	var once sync.Once
	unlock := func() { once.Do(setupMu.Unlock) }
	defer unlock()
	onAction(app, unlock)
	err := app.RunContext(ctx, flagsFirst(args))
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "netduel: %s\n", ee.msg)
		}
		return ee.code
	}
	// Errors from urfave/cli itself (unknown flag, missing value) are usage errors.
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "netduel: %s (see 'netduel --help')\n", msg)
	return exitUsage
}

// valueFlags are the flags, of commands that take positional arguments, that
// consume the next argument as their value.
var valueFlags = map[string]bool{
	"-o": true, "--output": true, "--tolerance": true, "--assert": true,
	"--plot": true, "--proto": true, "--addr": true, "--range": true, "--count": true, "--port": true, "--as": true,
}

// flagsFirst lets flags follow positional arguments ('netduel report a.json -o
// markdown'), which urfave/cli would otherwise take as more arguments: for the
// commands that take arguments (report, port ...), it moves flags (with their
// values) before the positional arguments, keeping the order of each. "--" ends
// the rearranging.
func flagsFirst(args []string) []string {
	cmdAt := -1
	for i := 1; i < len(args); i++ {
		if args[i] == "report" || args[i] == "port" {
			cmdAt = i
			break
		}
		if !strings.HasPrefix(args[i], "-") {
			return args
		}
	}
	if cmdAt < 0 {
		return args
	}
	start := cmdAt + 1
	if args[cmdAt] == "port" && start < len(args) && !strings.HasPrefix(args[start], "-") {
		start++ // the port subcommand's name
	}
	var flags, pos []string
	for i := start; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			if valueFlags[a] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append([]string{}, args[:start]...)
	out = append(out, flags...)
	return append(out, pos...)
}
