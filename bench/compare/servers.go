//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netduel/netduel/internal/syncw"
)

// Servers.

// ports are where the servers listen, all on 127.0.0.1.
type ports struct {
	netduel, iperf3, sockperfUDP, sockperfTCP int
}

// serverSet holds the servers this program started, to stop them all.
type serverSet struct {
	logf  func(string, ...any)
	mu    sync.Mutex
	procs []*server
}

type server struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // how it exited (set before done is closed)
	stderr  *bytes.Buffer
	spec    serverSpec // how it was started, to start it again (revive)
}

// serverSpec is how a server is started: what runs, and how to tell it listens.
type serverSpec struct {
	name  string
	port  int
	probe func(int) bool
	path  string
	args  []string
}

func (s *serverSet) startAll(ctx context.Context, bin, tmp string) (ports, error) {
	var p ports
	var err error
	if p.netduel, err = freePort(true, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "netduel serve", p.netduel, probeTCP, bin, "serve", "--listen", hostPort(p.netduel), "--allow-busy-poll", "-q"); err != nil {
		return p, err
	}
	if p.iperf3, err = freePort(true, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "iperf3 -s", p.iperf3, probeTCP, "iperf3", "-s", "-B", "127.0.0.1", "-p", strconv.Itoa(p.iperf3)); err != nil {
		return p, err
	}
	if p.sockperfUDP, err = freePort(false, true); err != nil {
		return p, err
	}
	if err := s.start(ctx, "sockperf server (UDP)", p.sockperfUDP, probeUDP, "sockperf", "server", "-i", "127.0.0.1", "-p", strconv.Itoa(p.sockperfUDP)); err != nil {
		return p, err
	}
	if p.sockperfTCP, err = freePort(true, false); err != nil {
		return p, err
	}
	if err := s.start(ctx, "sockperf server (TCP)", p.sockperfTCP, probeTCP, "sockperf", "server", "-i", "127.0.0.1", "-p", strconv.Itoa(p.sockperfTCP), "--tcp"); err != nil {
		return p, err
	}
	return p, nil
}

// start runs a server in its own process group and waits until probe says it
// listens on port.
func (s *serverSet) start(ctx context.Context, name string, port int, probe func(int) bool, path string, args ...string) error {
	return s.startSpec(ctx, serverSpec{name: name, port: port, probe: probe, path: path, args: args})
}

func (s *serverSet) startSpec(ctx context.Context, spec serverSpec) error {
	name, port, probe := spec.name, spec.port, spec.probe
	cmd := exec.Command(spec.path, spec.args...)
	cmd.SysProcAttr = sysProcAttr()
	srv := &server{name: name, cmd: cmd, done: make(chan struct{}), stderr: new(bytes.Buffer), spec: spec}
	cmd.Stdout = io.Discard
	cmd.Stderr = syncw.New(srv.stderr)
	s.logf("starting %s on 127.0.0.1:%d", name, port)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, srv)
	s.mu.Unlock()
	go func() { srv.waitErr = cmd.Wait(); close(srv.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if probe(port) {
			return nil
		}
		select {
		case <-srv.done:
			return fmt.Errorf("%s exited at start: %s", name, strings.TrimSpace(srv.stderr.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not listen on 127.0.0.1:%d after 10s", name, port)
		}
	}
}

// alive reports an error when a server has exited: how (its exit status or
// the signal that ended it), and the last thing it wrote to stderr, which may
// be older than its end (iperf3 -s writes an error for the probe's
// connection at its start, and goes on).
func (s *serverSet) alive() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// exited is nil while p runs, else how it ended.
func (p *server) exited() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	how := "exit status 0"
	if p.waitErr != nil {
		how = p.waitErr.Error()
	}
	last := strings.TrimSpace(p.stderr.String())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = strings.TrimSpace(last[i+1:])
	}
	if last == "" {
		return fmt.Errorf("%s exited (%s)", p.name, how)
	}
	return fmt.Errorf("%s exited (%s; its stderr last said %q)", p.name, how, last)
}

// revive starts every server that has exited again, as it was started (same
// port), so that one server's end costs the rounds only the step that needed
// it.
func (s *serverSet) revive(ctx context.Context) error {
	s.mu.Lock()
	var dead []*server
	live := s.procs[:0]
	for _, p := range s.procs {
		if p.exited() != nil {
			dead = append(dead, p)
		} else {
			live = append(live, p)
		}
	}
	s.procs = live
	s.mu.Unlock()
	for _, p := range dead {
		if err := s.startSpec(ctx, p.spec); err != nil {
			return err
		}
	}
	return nil
}

// stopAll stops every server: SIGTERM to its process group, SIGKILL after 2s.
// It may be called more than once.
func (s *serverSet) stopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for _, p := range procs {
		signalGroup(p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
			s.logf("%s ignored SIGTERM: killing it", p.name)
			signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

// signalGroup signals the process group led by pid (each server leads its own),
// and the process itself should it have left the group.
func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// freePort finds a port free on 127.0.0.1 for TCP and/or UDP. Another process
// may take it before the server binds it; the server's start then fails.
func freePort(tcp, udp bool) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		if udp {
			c, err := net.ListenPacket("udp4", hostPort(port))
			if err != nil {
				ok = false
			} else {
				c.Close()
			}
		}
		l.Close()
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("no port free for both TCP and UDP on 127.0.0.1")
}

func probeTCP(port int) bool {
	c, err := net.DialTimeout("tcp4", hostPort(port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// probeUDP says whether someone holds UDP port: binding it fails.
func probeUDP(port int) bool {
	c, err := net.ListenPacket("udp4", hostPort(port))
	if err != nil {
		return true
	}
	c.Close()
	return false
}
