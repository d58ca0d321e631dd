//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package port

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// activateEnv, in a process's environment, says it is the netduel that
// ActivationCommand started to become the server: its value is the server's
// path.
const activateEnv = "NETDUEL_ACTIVATE_EXEC"

// ActivationCommand returns a command that runs the program at path with
// argv (argv[0] first) under the socket-activation protocol: the sockets of
// hs as descriptors 3, 4, ... in order, LISTEN_FDS, LISTEN_FDNAMES, and
// LISTEN_PID set to the program's own pid.
//
// The pid of a child is unknown before it starts, and os/exec runs nothing
// between fork and exec, so the command first runs this executable again
// (os.Executable): that process, in BecomeActivated, sets LISTEN_PID to its
// own pid and execve's the program, which keeps the pid. The caller starts
// the command, closes hs, and waits.
func ActivationCommand(hs []Held, path string, argv []string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable to start %s: %w", path, err)
	}
	if len(argv) == 0 {
		argv = []string{path}
	}
	cmd := exec.Command(self)
	cmd.Args = append([]string{"netduel-activate"}, argv...)
	env := []string{activateEnv + "=" + path}
	for _, kv := range os.Environ() {
		if !activationVar(kv) {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, ActivationEnv(hs, 0)...) // LISTEN_PID set by the child
	for _, h := range hs {
		cmd.ExtraFiles = append(cmd.ExtraFiles, h.File)
	}
	return cmd, nil
}

// activationVar reports whether kv sets a variable ActivationCommand sets.
func activationVar(kv string) bool {
	for _, name := range []string{"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=", "NETDUEL_PORTS=", "NETDUEL_PORT=", activateEnv + "="} {
		if strings.HasPrefix(kv, name) {
			return true
		}
	}
	return false
}

// BecomeActivated does nothing unless this process is the one
// ActivationCommand started; then it sets LISTEN_PID to its pid and execve's
// the server, so it does not return. When execve fails it says why and
// exits 127 (no such program) or 126 (not executable), as shells do.
// Call it first thing, before any other goroutine or descriptor exists.
func BecomeActivated() {
	path, ok := os.LookupEnv(activateEnv)
	if !ok {
		return
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, activateEnv+"=") && !strings.HasPrefix(kv, "LISTEN_PID=") {
			env = append(env, kv)
		}
	}
	env = append(env, "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	err := unix.Exec(path, os.Args[1:], env)
	fmt.Fprintf(os.Stderr, "netduel: starting %s: %v\n", path, err)
	if errors.Is(err, unix.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}
