package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestBadValuesExit2: empty values, --size 0, a --server with a scheme or a
// space, endless files and bad subcommand flags are bad input: exit 2, one
// line naming the flag (or file) and the fix. Empty values meant the default,
// --size 0 the default size, the --server values exit 3, /dev/zero an
// out-of-memory death, and 'port check --bogus' pointed at 'netduel check'.
func TestBadValuesExit2(t *testing.T) {
	type tc struct {
		args []string
		want string
	}
	cases := []tc{
		{[]string{"run", "--size", "0"}, "--size 0"},
		{[]string{"run", "--server", "http://127.0.0.1:9400"}, "--server"},
		{[]string{"run", "--server", " 127.0.0.1:9400"}, "--server"},
		{[]string{"run", "--server", "127.0.0.1 :9400"}, "--server"},
		{[]string{"run", "--server", ":9400"}, "--server"},
		{[]string{"run", "--server", "127.0.0.1/x:9400"}, "--server"},
		{[]string{"serve", "--listen", "http://127.0.0.1:0"}, "--listen"},
		{[]string{"report", "/dev/zero"}, "/dev/zero"},
		{[]string{"run", "--baseline", "/dev/zero"}, "--baseline"},
		{[]string{"report", "x.json", "/dev/zero"}, "x.json"},
		{[]string{"port", "check", "--bogus", "8080"}, "netduel port check --help"},
		{[]string{"port", "free", "--bogus"}, "netduel port free --help"},
		{[]string{"report", "--bogus", "x.json"}, "netduel report --help"},
		// An assertion's cell must name a link of the run, before the run.
		{[]string{"run", "--emulator", "none", "--assert", "tcp.latency.lost_pct < 3 @ nosuch"}, "--assert"},
		{[]string{"run", "--loss", "0,1%", "--assert", "tcp.latency.lost_pct < 3 @ loss 2%"}, "no link of this run"},
		{[]string{"emulate", "--peer", "", "--", "true"}, "--peer"},
		// Flags the run's tests would ignore.
		{[]string{"run", "--proto", "tcp", "--bitrate", "max"}, "--bitrate"},
		{[]string{"run", "--test", "latency", "--bitrate", "10M"}, "--bitrate"},
		{[]string{"run", "--max-loss", "1%"}, "--max-loss"},
		{[]string{"run", "--busy-poll", "--test", "throughput"}, "--busy-poll"},
		{[]string{"run", "--busy-poll", "--test", "latency"}, "--busy-poll"}, // the default run's lossy link is emulated
		{[]string{"run", "--busy-poll", "--test", "latency", "--loss", "1%"}, "--busy-poll"},
		{[]string{"run", "--busy-poll", "--test", "latency", "--emulator", "none"}, "--busy-poll"},
	}
	// Every non-link flag of run, serve and report, given an empty value.
	skip := linkFlagSet()
	for _, cmd := range []struct {
		name  string
		flags []cli.Flag
		tail  []string
	}{{"run", runFlags(), nil}, {"serve", serveCommand().Flags, nil}, {"report", reportCommand().Flags, []string{"x.json"}}} {
		for _, f := range cmd.flags {
			name := f.Names()[0]
			if skip[name] {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				continue // a bool takes no value
			}
			cases = append(cases, tc{append([]string{cmd.name, "--" + name, ""}, cmd.tail...), name})
		}
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			// Not parallel: urfave/cli's help and version flags are globals.
			code, out, errs := runCLI(t, c.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if out != "" || len(lines) != 1 || !strings.Contains(errs, c.want) {
				t.Errorf("stdout %q, stderr %q: want nothing on stdout and one line naming %q", out, errs, c.want)
			}
			if strings.Contains(errs, "netduel check") || strings.Contains(errs, "panic") {
				t.Errorf("stderr %q", errs)
			}
		})
	}
}
