package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/impair/link"
)

// netNamespaces returns the network namespaces (by /proc link text, e.g.
// "net:[4026532301]") that process pid holds, each with a /proc path that
// opens it: its threads' and those of its open descriptors (netduel keeps a
// descriptor of each namespace it made; its threads enter them only to create
// sockets).
func netNamespaces(pid int) map[string]string {
	out := map[string]string{}
	links, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "ns", "net"))
	fds, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "fd", "*"))
	for _, f := range append(links, fds...) {
		if s, err := os.Readlink(f); err == nil && strings.HasPrefix(s, "net:[") {
			out[s] = f
		}
	}
	return out
}

// devicePackets returns the packets the link's device (nd0) has received in
// the namespace that path opens, read on a thread moved into it and back (the
// thread is left locked, so ends with its goroutine, if it cannot go back).
// Nothing of this process is left in the namespace when it returns.
func devicePackets(path string) (uint64, error) {
	type answer struct {
		n   uint64
		err error
	}
	c := make(chan answer, 1)
	go func() {
		runtime.LockOSThread()
		n, back, err := readDevice(path)
		if back {
			runtime.UnlockOSThread()
		}
		c <- answer{n, err}
	}()
	a := <-c
	return a.n, a.err
}

// readDevice reads nd0's received packets inside the namespace at path, on
// the calling (locked) thread, and reports whether the thread is back in its
// own namespace. Every descriptor it opens is closed when it returns.
func readDevice(path string) (n uint64, back bool, err error) {
	host, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return 0, true, err
	}
	defer host.Close()
	ns, err := os.Open(path)
	if err != nil {
		return 0, true, err
	}
	err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
	ns.Close()
	if err != nil {
		return 0, true, err
	}
	b, err := os.ReadFile("/proc/thread-self/net/dev")
	back = unix.Setns(int(host.Fd()), unix.CLONE_NEWNET) == nil
	if err != nil {
		return 0, back, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, counts, ok := strings.Cut(strings.TrimSpace(line), ":")
		if f := strings.Fields(counts); ok && name == "nd0" && len(f) > 1 {
			n, err := strconv.ParseUint(f[1], 10, 64) // receive: bytes, packets, ...
			return n, back, err
		}
	}
	return 0, back, errors.New("no nd0 device in the namespace")
}

// carrying reports whether the link's device in every namespace of ns has
// received at least n packets: the run is under way across the link.
func carrying(ns map[string]string, n uint64) bool {
	for _, path := range ns {
		if got, err := devicePackets(path); err != nil || got < n {
			return false
		}
	}
	return len(ns) > 0
}

// anyProcessIn reports whether any process on the machine is in, or holds a
// descriptor of, one of ns.
func anyProcessIn(ns map[string]string) bool {
	threads, _ := filepath.Glob("/proc/[0-9]*/task/*/ns/net")
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, f := range append(threads, fds...) {
		if s, err := os.Readlink(f); err == nil && ns[s] != "" {
			return true
		}
	}
	return false
}

// TestInterruptRemovesLinks: Ctrl-C in the middle of a tun run exits 3 with
// "interrupted" and leaves no namespace (hence no TUN device) behind.
func TestInterruptRemovesLinks(t *testing.T) {
	if err := link.TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skip(err)
	}
	cmd := netduelCmd("run", "--emulator", "tun", "--loss", "1%", "--delay", "5ms", "--duration", "10s", "-q", "-o", "json")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the run is under way: the child holds its namespaces and
	// packets cross the link's devices in both (the link is up and the test's
	// traffic is on it), or the child is gone.
	var seen map[string]string
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for under := false; !under; {
		seen = netNamespaces(cmd.Process.Pid)
		delete(seen, host)
		under = len(seen) >= 2 && carrying(seen, 100)
		select {
		case <-done:
			t.Fatalf("the run ended before it was interrupted (exit %d): %s", cmd.ProcessState.ExitCode(), errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(60 * time.Second): // a hang, not a slow machine
		cmd.Process.Kill()
		t.Fatal("still running 60 s after Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want 3 and 'interrupted'", code, errb.String())
	}
	if len(seen) == 0 {
		t.Fatal("never saw the child in a namespace of its own")
	}
	// A helper the run started (its namespaces' side process) dies with it
	// by PR_SET_PDEATHSIG, which the kernel delivers as the run exits: wait
	// for it to be gone, a few seconds at most.
	for deadline := time.Now().Add(5 * time.Second); anyProcessIn(seen); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("a process is still in the run's namespaces %v 5 s after the run ended", seen)
			break
		}
	}
}
