//go:build linux

package link

import (
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
