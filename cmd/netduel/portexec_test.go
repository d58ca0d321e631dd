//go:build linux || darwin || freebsd

package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestPortExec: 'port hold' and 'port free --exec' start the command under
// socket activation (LISTEN_PID its own pid, the sockets from descriptor 3),
// and exit with its status; bad input exits 2, a taken port 1.
func TestPortExec(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	free, held := freePort(t), heldPort(t)
	// The shell's $$ is its pid; fd 3 must be a socket.
	script := `[ "$LISTEN_PID" = "$$" ] || exit 10; [ -S /proc/$$/fd/3 ] || [ -S /dev/fd/3 ] || exit 11; echo "$LISTEN_FDS $LISTEN_FDNAMES $NETDUEL_PORT"; exit 5`
	cases := []struct {
		name string
		args []string
		code int
		out  string // stdout, or part of stderr for failures
	}{
		{"hold", []string{"port", "hold", free, "--exec", "--", "sh", "-c", script}, 5, "1 tcp-" + free + " " + free},
		{"hold tcp,udp", []string{"port", "hold", "--proto", "tcp,udp", free, "--exec", "--", "sh", "-c", script}, 5, "2 tcp-" + free + ":udp-" + free + " " + free},
		{"free --exec", []string{"port", "free", "--range", free + "-" + free, "--exec", "--", "sh", "-c", script}, 5, "1 tcp-" + free + " " + free},
		{"exit 0", []string{"port", "hold", free, "--exec", "--", "true"}, exitOK, ""},
		{"held port", []string{"port", "hold", held, "--addr", "127.0.0.1", "--exec", "--", "true"}, exitFailed, "EADDRINUSE"},
		{"no command", []string{"port", "hold", free, "--exec"}, exitUsage, "needs --exec and a command"},
		{"no --exec", []string{"port", "hold", free, "--", "true"}, exitUsage, "needs --exec"},
		{"no port", []string{"port", "hold", "--exec", "--", "true"}, exitUsage, "needs a port"},
		{"unknown command", []string{"port", "hold", free, "--exec", "--", "no-such-command-here"}, exitUsage, `--exec "no-such-command-here"`},
		{"bad addr", []string{"port", "hold", free, "--addr", "localhost", "--exec", "--", "true"}, exitUsage, "--addr"},
		{"free, stray argument", []string{"port", "free", "8080"}, exitUsage, "unexpected argument"},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		code := run(append([]string{"netduel"}, tc.args...), &out, &errb)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d: %s%s", tc.name, code, tc.code, out.String(), errb.String())
			continue
		}
		got := strings.TrimSpace(out.String())
		if tc.code != exitUsage && tc.code != exitFailed && got != tc.out {
			t.Errorf("%s: stdout %q, want %q", tc.name, got, tc.out)
		}
		if (tc.code == exitUsage || tc.code == exitFailed) && !strings.Contains(errb.String(), tc.out) {
			t.Errorf("%s: stderr %q, want %q", tc.name, errb.String(), tc.out)
		}
	}
}
