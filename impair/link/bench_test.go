//go:build linux

package link

import (
	"context"
	"fmt"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/impair"
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
		b.Run(name, func(b *testing.B) {
			pc, err := l.Server.ListenPacket(ctx, "udp4", net.JoinHostPort(l.ServerHost, "0"))
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Close()
			got := make(chan int)
			go func() {
				buf := make([]byte, 2048)
				n := 0
				for {
					pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
					if _, _, err := pc.ReadFrom(buf); err != nil {
						got <- n
						return
					}
					n++
				}
			}()
			c, err := l.Client.Dial(ctx, "udp4", pc.LocalAddr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, 1400)
			per := 1
			if pps < 0 {
				per = 44
				msg = make([]byte, per*1400)
				rc, err := c.(syscall.Conn).SyscallConn()
				if err != nil {
					b.Fatal(err)
				}
				rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT, 1400) })
				if err != nil {
					b.Skipf("no UDP GSO here: %v", err)
				}
			}
			up0, _ := l.Counters()
			start := time.Now()
			for i := 0; i < b.N; i += per {
				if pps > 0 {
					due := start.Add(time.Duration(i) * time.Second / time.Duration(pps))
					for time.Now().Before(due) {
					}
				}
				c.Write(msg)
			}
			n := <-got
			el := time.Since(start) - 200*time.Millisecond
			up1, _ := l.Counters()
			sent := (b.N + per - 1) / per * per
			b.ReportMetric(float64(up1.Forwarded-up0.Forwarded)/el.Seconds(), "forwarded-pkts/s")
			b.ReportMetric(float64(n)/el.Seconds(), "received-pkts/s")
			b.ReportMetric(100*float64(sent-n)/float64(sent), "lost-%")
		})
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
