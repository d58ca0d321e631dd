//go:build linux

package link

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/impair"
)

// forwarderThroughput sends b.N 1400-byte UDP datagrams across l, client to
// server, and reports the packets per second the forwarder passed and the
// receiver got, and the share lost. pps > 0 paces the sender at that many
// datagrams a second, 0 writes flat out one datagram per write, and pps < 0
// writes flat out 44 datagrams per write (UDP_SEGMENT, as netduel's UDP
// sender does; with the devices' offloads they cross the forwarder as one
// super-packet and are counted one by one).
func forwarderThroughput(b *testing.B, l *Link, pps int) {
	c, got := udpSink(b, l, 200*time.Millisecond)
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
}

// BenchmarkForwarderImpaired is BenchmarkForwarder's flat-out throughput
// with impairment on: every packet goes through the models' scheduled path
// (1 ms of delay and a 10 Gbit/s rate, as BenchmarkDelayLine's "impaired",
// no loss), one datagram per write and with GSO. Next to
// BenchmarkForwarder/throughput/{unpaced,gso} it is what impairment costs in
// packets per second.
//
//	go test -run '^$' -bench 'Forwarder(Impaired)?/throughput/(unpaced|gso)' -benchtime 200000x ./impair/link
func BenchmarkForwarderImpaired(b *testing.B) {
	if err := TunAvailable(); err != nil {
		b.Skipf("needs the tun backend: %v", err)
	}
	l, err := Open(Tun, impair.Config{Delay: time.Millisecond, Rate: 10e9}, "")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.Run("throughput/unpaced", func(b *testing.B) { forwarderThroughput(b, l, 0) })
	b.Run("throughput/gso", func(b *testing.B) { forwarderThroughput(b, l, -1) })
}

// BenchmarkLinkUnderTCP is the delay line under a bulk TCP transfer (CUBIC
// bursts a window's worth of segments as the ACKs come, all due together 20 ms
// later), with the forwarder joining the segments due together for the
// receiver (see merger) and, in the same rounds, without: each round (b.N of
// them) sends 32 MiB once each way, alternately, over a fresh link. It reports
// the medians over the rounds of the link's own lateness client to server
// (p50, p99 and the packets over 1 ms late), the ACKs per 100 segments and
// the goodput, and the hypervisor's steal during the rounds.
//
//	go test -run '^$' -bench LinkUnderTCP -benchtime 5x ./impair/link
func BenchmarkLinkUnderTCP(b *testing.B) {
	if err := TunAvailable(); err != nil {
		b.Skipf("needs the tun backend: %v", err)
	}
	const total = 32 << 20
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	for _, d := range []time.Duration{time.Millisecond, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("delay-%v", d), func(b *testing.B) {
			type round struct{ p50, p99, over1, acks, mbps float64 }
			var got [2][]round // merged, then not
			w0 := readSchedWait()
			for range b.N {
				for i, opts := range [][]Option{nil, {func(o *options) { o.noMerge = true }}} {
					l, err := Open(Tun, impair.Config{Delay: d}, "", opts...)
					if err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					back, err := tcpTransfer(l, data)
					el := time.Since(start)
					up, down := l.Counters()
					late, _ := l.Lateness()
					l.Close()
					if err != nil || len(back) != total {
						b.Fatalf("transfer: %d of %d bytes, %v", len(back), total, err)
					}
					us := func(t time.Duration) float64 { return float64(t.Nanoseconds()) / 1e3 }
					got[i] = append(got[i], round{us(late.P50), us(late.P99), float64(late.Over1ms),
						100 * float64(down.Packets) / float64(max(1, up.Packets)), total * 8 / el.Seconds() / 1e6})
				}
			}
			w1 := readSchedWait()
			for i, name := range []string{"merged", "unmerged"} {
				med := func(f func(round) float64) float64 {
					v := make([]float64, len(got[i]))
					for j, r := range got[i] {
						v[j] = f(r)
					}
					slices.Sort(v)
					return v[len(v)/2]
				}
				b.ReportMetric(med(func(r round) float64 { return r.p50 }), name+"-late-µs/p50")
				b.ReportMetric(med(func(r round) float64 { return r.p99 }), name+"-late-µs/p99")
				b.ReportMetric(med(func(r round) float64 { return r.over1 }), name+"-over-1ms")
				b.ReportMetric(med(func(r round) float64 { return r.acks }), name+"-acks/100-segments")
				b.ReportMetric(med(func(r round) float64 { return r.mbps }), name+"-Mbit/s")
			}
			b.ReportMetric(float64(w1.stealMs-w0.stealMs), "steal-ms")
		})
	}
}
