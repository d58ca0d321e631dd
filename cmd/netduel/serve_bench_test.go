//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stack"
	"github.com/shirou/gopsutil/v4/process"
)

// procStatusKB reads a field of a process's /proc/PID/status in kB, e.g.
// "VmRSS" or "VmHWM" (the peak resident set).
func procStatusKB(pid int, field string) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// procCPU is a process's user + system CPU time (gopsutil: /proc/PID/stat).
func procCPU(b *testing.B, pid int) time.Duration {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		b.Fatal(err)
	}
	t, err := p.Times()
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration((t.User + t.System) * float64(time.Second))
}

// selfCPU is this process's user + system CPU time (the clients').
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Serve benchmark sessions: mostly UDP throughput at a low rate, one TCP
// throughput session in 16 (which the server reads no faster than
// --max-bitrate), and from 16 sessions on one TCP and one UDP latency session
// (ping-pong is not paced: more of them would only share the cores).
const (
	serveUDPRate    = 1e6  // bits/s of each UDP throughput session
	serveMaxBitrate = 50e6 // the server's --max-bitrate: TCP throughput is read at this
	serveDuration   = 2 * time.Second
)

// serveSpec is the test of session i of n.
func serveSpec(i, n int) duel.TestSpec {
	d := serveDuration
	switch {
	case n >= 16 && i == 0:
		return duel.TestSpec{Proto: duel.ProtoTCP, Test: duel.TestLatency, Duration: d, Size: 64}
	case n >= 16 && i == 1:
		return duel.TestSpec{Proto: duel.ProtoUDP, Test: duel.TestLatency, Duration: d, Size: 64}
	case i%16 == 3:
		return duel.TestSpec{Proto: duel.ProtoTCP, Test: duel.TestThroughput, Duration: d, Size: 128 << 10}
	}
	return duel.TestSpec{Proto: duel.ProtoUDP, Test: duel.TestThroughput, Duration: d, Size: 1200, Bitrate: serveUDPRate}
}

// checkSession says what is wrong with a session's result: an error, no
// frame received (a starved session), more received than sent or frames that
// are not its own (corrupt or duplicate: mixed sessions), or, for a paced UDP
// session, less than half of what it sent arriving.
func checkSession(spec duel.TestSpec, r duel.Result, err error) error {
	switch {
	case err != nil:
		return err
	case r.Error != "":
		return fmt.Errorf("result error: %s", r.Error)
	case r.Kind() != spec.Kind():
		return fmt.Errorf("result of %s/%s, asked for %s", r.Proto, r.Test, spec)
	case r.ReceivedFrames == 0:
		return fmt.Errorf("starved: %d sent, none received", r.SentFrames)
	case r.ReceivedFrames > r.SentFrames:
		return fmt.Errorf("mixed: %d received, only %d sent", r.ReceivedFrames, r.SentFrames)
	case r.CorruptFrames > 0 || r.DuplicateFrames > 0:
		return fmt.Errorf("mixed: %d corrupt and %d duplicate frames", r.CorruptFrames, r.DuplicateFrames)
	case spec.Bitrate > 0 && 2*r.ReceivedFrames < r.SentFrames:
		return fmt.Errorf("starved: %d of %d frames received", r.ReceivedFrames, r.SentFrames)
	}
	return nil
}

// startServeChild runs 'netduel serve' as a child process (the test binary as
// netduel) on a free loopback port, with limits for n sessions at once, all
// from 127.0.0.1.
func startServeChild(b testing.TB, n int) (addr string, pid int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	srv := netduelCmd("serve", "-q", "--allow-busy-poll", "--listen", addr, "--max-clients", strconv.Itoa(n), "--max-clients-per-ip", strconv.Itoa(n),
		"--max-bitrate", strconv.FormatFloat(serveMaxBitrate, 'f', -1, 64))
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, srv.Process.Pid
		}
		if time.Now().After(deadline) {
			b.Fatal("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runSessions runs n sessions at once against addr and fails the benchmark
// naming each session whose result is wrong.
func runSessions(b *testing.B, addr string, n int) {
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			spec := serveSpec(i, n)
			cl := &duel.Client{Network: &stack.OS{}, Server: addr, SameHost: true, Settle: 100 * time.Millisecond}
			r, err := cl.RunTest(context.Background(), spec)
			if err := checkSession(spec, r, err); err != nil {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("session %d (%s): %v", i, spec, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		b.Fatalf("%d of %d sessions wrong:\n%s", len(bad), n, strings.Join(bad, "\n"))
	}
}

// BenchmarkServe runs 'netduel serve' in a child process and 1, 16, 64 and
// 256 sessions at once against it (see serveSpec), and checks every session's
// result (checkSession). It reports the server's peak resident memory
// (VmHWM), its memory and CPU per session (peak over the idle server's RSS,
// and CPU time over the sessions), and the clients' CPU per session (this
// process).
//
//	go test -run '^$' -bench BenchmarkServe -benchtime 1x ./cmd/netduel
func BenchmarkServe(b *testing.B) {
	for _, n := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			addr, pid := startServeChild(b, n)
			idle := procStatusKB(pid, "VmRSS")
			srvCPU, cliCPU := procCPU(b, pid), selfCPU(b)
			b.ResetTimer()
			for b.Loop() {
				runSessions(b, addr, n)
			}
			b.StopTimer()
			sessions := float64(b.N * n)
			hwm := procStatusKB(pid, "VmHWM")
			b.ReportMetric(float64(hwm)/1024, "server-peak-RSS-MB")
			b.ReportMetric(float64(hwm-idle)/float64(n), "server-RSS-kB/session")
			b.ReportMetric(float64(procCPU(b, pid)-srvCPU)/float64(time.Millisecond)/sessions, "server-CPU-ms/session")
			b.ReportMetric(float64(selfCPU(b)-cliCPU)/float64(time.Millisecond)/sessions, "client-CPU-ms/session")
		})
	}
}

// TestCheckSession: the serve benchmark's check of a session's result flags
// every way a session can be wrong.
func TestCheckSession(t *testing.T) {
	t.Parallel()
	udp := duel.TestSpec{Proto: duel.ProtoUDP, Test: duel.TestThroughput, Bitrate: 1e6}
	tcp := duel.TestSpec{Proto: duel.ProtoTCP, Test: duel.TestLatency}
	ok := func(spec duel.TestSpec) duel.Result {
		return duel.Result{Proto: spec.Proto, Test: spec.Test, SentFrames: 100, ReceivedFrames: 100}
	}
	for _, c := range []struct {
		name string
		spec duel.TestSpec
		edit func(*duel.Result)
		err  error
		want string // "" for no error
	}{
		{"udp ok", udp, func(*duel.Result) {}, nil, ""},
		{"tcp ok", tcp, func(*duel.Result) {}, nil, ""},
		{"udp some loss", udp, func(r *duel.Result) { r.ReceivedFrames = 60 }, nil, ""},
		{"run error", udp, func(*duel.Result) {}, fmt.Errorf("server busy"), "server busy"},
		{"result error", tcp, func(r *duel.Result) { r.Error = "cut" }, nil, "cut"},
		{"other kind", udp, func(r *duel.Result) { r.Test = duel.TestLatency }, nil, "asked for"},
		{"starved", tcp, func(r *duel.Result) { r.ReceivedFrames = 0 }, nil, "starved"},
		{"udp starved", udp, func(r *duel.Result) { r.ReceivedFrames = 49 }, nil, "starved"},
		{"more than sent", tcp, func(r *duel.Result) { r.ReceivedFrames = 101 }, nil, "mixed"},
		{"corrupt", udp, func(r *duel.Result) { r.CorruptFrames = 1 }, nil, "mixed"},
		{"duplicate", udp, func(r *duel.Result) { r.DuplicateFrames = 1 }, nil, "mixed"},
	} {
		r := ok(c.spec)
		c.edit(&r)
		err := checkSession(c.spec, r, c.err)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
