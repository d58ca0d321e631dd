//go:build linux

package link

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/internal/rawsys"
)

// BenchmarkForwarder measures the tun forwarder with impairment off: packets
// per second one way (1400-byte UDP datagrams, as many as the forwarder passes
// while the sender writes flat out; pkts/s counts what arrived) and, in the
// latency sub-benchmark, the round trip of a 64-byte UDP ping-pong across the
// link next to the same ping-pong on the server namespace's own loopback: the
// difference is what the forwarder adds (both ways).
func BenchmarkForwarder(b *testing.B) {
	if err := TunAvailable(); err != nil {
		b.Skipf("needs the tun backend: %v", err)
	}
	l, err := Open(Tun, impair.Config{}, "")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()

	// throughput: the sender writes flat out (unpaced) or paced at a packet
	// rate; forwarded-pkts/s is what crossed the forwarder, received-pkts/s
	// what the receiving socket got, lost-% what it did not (device drops: the
	// forwarder lagging; socket drops: the receiver lagging).
	// gso: the sender hands the kernel 44 datagrams per write (UDP_SEGMENT),
	// as netduel's UDP sender does; with the devices' offloads they cross the
	// forwarder as one super-packet and are counted one by one.
	for _, pps := range []int{-1, 0, 50_000, 100_000, 150_000, 200_000} {
		name := "throughput/unpaced"
		switch {
		case pps < 0:
			name = "throughput/gso"
		case pps > 0:
			name = fmt.Sprintf("throughput/paced-%dk", pps/1000)
		}
		b.Run(name, func(b *testing.B) { forwarderThroughput(b, l, pps) })
	}

	pingpong := func(b *testing.B, serverNet, clientNet interface {
		ListenPacket(context.Context, string, string) (net.PacketConn, error)
	}, dial func(string) (net.Conn, error)) time.Duration {
		pc, err := serverNet.ListenPacket(ctx, "udp4", net.JoinHostPort(l.ServerHost, "0"))
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], from)
			}
		}()
		defer pc.Close()
		c, err := dial(pc.LocalAddr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		msg, buf := make([]byte, 64), make([]byte, 2048)
		rtts := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			c.Write(msg)
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				continue
			}
			rtts = append(rtts, time.Since(t0))
		}
		slices.Sort(rtts)
		return rtts[len(rtts)/2]
	}
	b.Run("latency", func(b *testing.B) {
		across := pingpong(b, l.Server, l.Client, func(a string) (net.Conn, error) { return l.Client.Dial(ctx, "udp4", a) })
		local := pingpong(b, l.Server, l.Server, func(a string) (net.Conn, error) { return l.Server.Dial(ctx, "udp4", a) })
		b.ReportMetric(float64(across.Microseconds()), "rtt-µs/p50")
		b.ReportMetric(float64(local.Microseconds()), "loopback-rtt-µs/p50")
		b.ReportMetric(float64((across-local).Nanoseconds())/2e3, "added-one-way-µs/p50")
	})
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDelayLine measures what the link adds to a packet's trip beyond
// the configured delay, one way, client to server across the tun backend:
// UDP datagrams of 200 bytes, paced at about 10k/s, each carrying its send
// time (both ends are in this process: one clock). Reported per configured
// delay, with the delay alone ("delay") and with other models active on top
// ("impaired": a 10 Gbit/s rate, so the rate's path runs): the added delay's
// p50, p99 and max in µs, stalls (packets over 5 ms late) and packets lost
// that the model did not drop (and where they went: socket-drops,
// device-drops). "clean" is the pass-through link. "direct" is the same
// sender and receiver over loopback, no link at all: what the trip costs
// without one (the sender's system call, the receiver's wake-up), which the
// other variants' over-direct-µs figures take away, at the same spacing:
// on a virtual machine a thread's wake-up costs more the longer its CPU
// was idle, which the idle- variants measure (packets 1 ms and 10 ms
// apart, direct and through a 1 µs delay), so a round trip's excess over
// an idle link's grows with the delay even where the link adds nothing.
// one-cpu-delay-100µs runs the whole process on one CPU. The sender and the
// receiver are real-time threads, like the link's own, so that what is
// measured is the link; rt-runq-wait-ms and steal-ms say how much of the
// time the machine kept real-time threads off its CPUs (see schedWait), and
// cpu-µs/pkt the process's CPU time per packet.
// Run with a fixed count, e.g. -bench DelayLine -benchtime 20000x.
func BenchmarkDelayLine(b *testing.B) {
	if err := TunAvailable(); err != nil {
		b.Skipf("needs the tun backend: %v", err)
	}
	type variant struct {
		name    string
		cfg     impair.Config
		oneCPU  bool   // the whole process on one CPU, as under taskset -c 0
		backend string // "": Tun
		// gap, if set, spaces the packets instead of 100 µs, and bounds
		// their number to 3 s of them (see idle-).
		gap time.Duration
		// poll: a polling forwarder (Polling; the poll- variants).
		poll bool
	}
	vs := []variant{{name: "direct", backend: None}, {name: "clean"}}
	for _, d := range []time.Duration{time.Microsecond, 100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond} {
		vs = append(vs, variant{name: fmt.Sprintf("delay-%v", d), cfg: impair.Config{Delay: d}},
			variant{name: fmt.Sprintf("impaired-%v", d), cfg: impair.Config{Delay: d, Rate: 10e9}})
	}
	// On one CPU a real-time thread that spins waiting for an ordinary one
	// (a priority inversion) spins until Linux's real-time throttling stops
	// it: stalls of 950 ms (see internal/rawsys).
	vs = append(vs, variant{name: "one-cpu-delay-100µs", cfg: impair.Config{Delay: 100 * time.Microsecond}, oneCPU: true})
	// The machine's idle wake-ups: packets 1 ms and 10 ms apart, without a
	// link and through one (over-direct: against idle-direct's at the same
	// spacing).
	for _, g := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
		vs = append(vs, variant{name: fmt.Sprintf("idle-%v-direct", g), backend: None, gap: g},
			variant{name: fmt.Sprintf("idle-%v-delay-1µs", g), cfg: impair.Config{Delay: time.Microsecond}, gap: g})
	}
	// The polling forwarder (Polling): no wake-up of the link's, at any
	// spacing, for a CPU.
	vs = append(vs, variant{name: "poll-clean", poll: true},
		variant{name: "poll-delay-1µs", cfg: impair.Config{Delay: time.Microsecond}, poll: true},
		variant{name: "poll-delay-100µs", cfg: impair.Config{Delay: 100 * time.Microsecond}, poll: true},
		variant{name: "poll-impaired-1ms", cfg: impair.Config{Delay: time.Millisecond, Rate: 10e9}, poll: true},
		variant{name: "poll-delay-10ms", cfg: impair.Config{Delay: 10 * time.Millisecond}, poll: true})
	for _, g := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
		vs = append(vs, variant{name: fmt.Sprintf("poll-idle-%v-delay-1µs", g), cfg: impair.Config{Delay: time.Microsecond}, gap: g, poll: true},
			variant{name: fmt.Sprintf("poll-idle-%v-impaired-10ms", g), cfg: impair.Config{Delay: 10 * time.Millisecond, Rate: 10e9}, gap: g, poll: true})
	}
	// direct's p50 and p99 per packet spacing, once measured: the same trip
	// over loopback, no link between sender and receiver.
	direct := map[time.Duration][2]time.Duration{}
	for _, v := range vs {
		b.Run(v.name, func(b *testing.B) {
			if v.oneCPU {
				var cpu0 unix.CPUSet
				cpu0.Set(0)
				was := pinProcess(&cpu0)
				defer pinProcess(&was)
			}
			backend := v.backend
			if backend == "" {
				backend = Tun
			}
			var opt []Option
			if v.poll {
				opt = append(opt, Polling)
			}
			l, err := Open(backend, v.cfg, "", opt...)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			c0, s0 := l.Stats()
			w0, cpu0 := readSchedWait(), processCPU()
			n, gap := b.N, 100*time.Microsecond
			if v.gap > 0 {
				n, gap = min(n, int(3*time.Second/v.gap)), v.gap
			}
			late, lost := measureOneWay(b, l, n, gap)
			w1, cpu1 := readSchedWait(), processCPU()
			c1, s1 := l.Stats()
			slices.Sort(late)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			stalls := 0
			for _, x := range late {
				if x > 5*time.Millisecond {
					stalls++
				}
			}
			if len(late) > 0 {
				p50, p99 := late[len(late)/2], late[len(late)*99/100]
				b.ReportMetric(us(p50), "added-µs/p50")
				b.ReportMetric(us(p99), "added-µs/p99")
				b.ReportMetric(us(late[len(late)-1]), "added-µs/max")
				if v.backend == None {
					direct[gap] = [2]time.Duration{p50, p99}
				} else if ref, ok := direct[gap]; ok && !v.oneCPU { // direct ran on both CPUs
					// What the link adds to the same trip without it.
					b.ReportMetric(us(p50-ref[0]), "over-direct-µs/p50")
					b.ReportMetric(us(p99-ref[1]), "over-direct-µs/p99")
				}
			}
			b.ReportMetric(float64(stalls), "stalls>5ms")
			up, _ := l.Lateness()
			b.ReportMetric(us(up.P50), "pipe-late-µs/p50")
			b.ReportMetric(us(up.P99), "pipe-late-µs/p99")
			b.ReportMetric(us(up.Max), "pipe-late-µs/max")
			b.ReportMetric(float64(lost), "lost")
			// Where the lost went: the receiving socket's buffer, or either
			// device (the forwarder lagging, or writing faster than the stack takes).
			b.ReportMetric(float64(s1.UDPSocketDrops-s0.UDPSocketDrops), "socket-drops")
			b.ReportMetric(float64(c1.DeviceDrops+s1.DeviceDrops-c0.DeviceDrops-s0.DeviceDrops), "device-drops")
			// What the machine took (see schedWait): the link's own threads
			// kept off a CPU, and the hypervisor's steal.
			b.ReportMetric(float64(w1.rtRunDelayNs-w0.rtRunDelayNs)/1e6, "rt-runq-wait-ms")
			b.ReportMetric(float64(w1.stealMs-w0.stealMs), "steal-ms")
			// The process's CPU time per packet (the link's threads, the
			// sender's and the receiver's): next to clean's, what the delay
			// line costs.
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/pkt")
		})
	}
}

// measureOneWay sends n timestamped datagrams across l, gap apart, and returns each
// arrival's lateness (one-way time minus the configured delay) and how many
// never arrived though the link's model forwarded them.
func measureOneWay(b *testing.B, l *Link, n int, gap time.Duration) ([]time.Duration, int) {
	ctx := context.Background()
	pc, err := l.Server.ListenPacket(ctx, "udp4", net.JoinHostPort(l.ServerHost, "0"))
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	c, err := l.Client.Dial(ctx, "udp4", pc.LocalAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	base := time.Now()
	late := make([]time.Duration, 0, n)
	done := make(chan struct{})
	rc, err := pc.(syscall.Conn).SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	var fd, cfd int
	rc.Control(func(f uintptr) { fd = int(f) })
	crc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	crc.Control(func(f uintptr) { cfd = int(f) })
	go func() {
		// The receiver, too, is a real-time thread blocking in the kernel, so
		// that what is measured is the link, not this goroutine's scheduling;
		// its system calls are raw, as the link's (see internal/rawsys).
		defer close(done)
		impair.Realtime()
		impair.SpareProcs(1) // a raw call keeps its P: the others' stay free
		defer impair.SpareProcs(-1)
		buf := make([]byte, 2048)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		last := time.Now()
		for len(late) < n {
			k, err := rawsys.Recv(fd, buf, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN || err == unix.EINTR {
				// A raw ppoll ends early when the runtime signals the
				// thread (every 10 ms, to preempt it): the second counts
				// from the last datagram.
				left := l.Config.Delay + time.Second - time.Since(last)
				if left <= 0 {
					return // a second with nothing: the rest is lost
				}
				_, _ = rawsys.Ppoll(fds, int64(left))
				continue
			}
			if err != nil {
				return
			}
			last = time.Now()
			if k >= 8 {
				sent := time.Duration(binary.BigEndian.Uint64(buf))
				late = append(late, time.Since(base)-sent-l.Config.Delay)
			}
		}
	}()
	msg := make([]byte, 200)
	up0, _ := l.Counters()
	sent := make(chan struct{})
	go func() {
		// The sender as well: an ordinary thread preempted between taking
		// the time and its write completing (a busy machine's scheduler
		// slice, milliseconds) made a packet look late that the link never
		// held.
		defer close(sent)
		impair.Realtime()
		impair.SpareProcs(1)
		defer impair.SpareProcs(-1)
		out := []unix.PollFd{{Fd: int32(cfd), Events: unix.POLLOUT}}
		for i := 0; i < n; i++ {
			binary.BigEndian.PutUint64(msg, uint64(time.Since(base)))
			// A full send buffer (the link lagging) waits: every datagram
			// is sent, as a blocking write would.
			for _, err := rawsys.Write(cfd, msg, nil); err == unix.EAGAIN || err == unix.EINTR; _, err = rawsys.Write(cfd, msg, nil) {
				_, _ = rawsys.Ppoll(out, int64(time.Second))
			}
			rawsys.Sleep(int64(gap))
		}
	}()
	<-sent
	<-done
	up1, _ := l.Counters()
	fwd := int(up1.Forwarded - up0.Forwarded)
	return late, max(0, fwd-len(late))
}
