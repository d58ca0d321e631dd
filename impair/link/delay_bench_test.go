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
	"github.com/netduel/netduel/internal/clock"
)

// BenchmarkDelayLine measures what the link adds to a packet's trip beyond
// the configured delay, one way, client to server across the tun backend:
// UDP datagrams of 200 bytes, paced at about 10k/s, each carrying its send
// time (both ends are in this process: one clock). Reported per configured
// delay, with the delay alone ("delay") and with other models active on top
// ("impaired": a 10 Gbit/s rate, so the rate's path runs): the added delay's
// p50, p99 and max in µs, stalls (packets over 5 ms late) and packets lost
// that the model did not drop. "clean" is the pass-through link. Run with a
// fixed count, e.g. -bench DelayLine -benchtime 20000x.
func BenchmarkDelayLine(b *testing.B) {
	if err := TunAvailable(); err != nil {
		b.Skipf("needs the tun backend: %v", err)
	}
	type variant struct {
		name string
		cfg  impair.Config
	}
	vs := []variant{{"clean", impair.Config{}}}
	for _, d := range []time.Duration{time.Microsecond, 100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond} {
		vs = append(vs, variant{fmt.Sprintf("delay-%v", d), impair.Config{Delay: d}},
			variant{fmt.Sprintf("impaired-%v", d), impair.Config{Delay: d, Rate: 10e9}})
	}
	for _, v := range vs {
		b.Run(v.name, func(b *testing.B) {
			l, err := Open(Tun, v.cfg, "")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			late, lost := measureOneWay(b, l, b.N)
			slices.Sort(late)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			stalls := 0
			for _, x := range late {
				if x > 5*time.Millisecond {
					stalls++
				}
			}
			if len(late) > 0 {
				b.ReportMetric(us(late[len(late)/2]), "added-µs/p50")
				b.ReportMetric(us(late[len(late)*99/100]), "added-µs/p99")
				b.ReportMetric(us(late[len(late)-1]), "added-µs/max")
			}
			b.ReportMetric(float64(stalls), "stalls>5ms")
			up, _ := l.Lateness()
			b.ReportMetric(us(up.P50), "pipe-late-µs/p50")
			b.ReportMetric(us(up.P99), "pipe-late-µs/p99")
			b.ReportMetric(us(up.Max), "pipe-late-µs/max")
			b.ReportMetric(float64(lost), "lost")
		})
	}
}

// measureOneWay sends n timestamped datagrams across l and returns each
// arrival's lateness (one-way time minus the configured delay) and how many
// never arrived though the link's model forwarded them.
func measureOneWay(b *testing.B, l *Link, n int) ([]time.Duration, int) {
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
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	go func() {
		// The receiver, too, is a real-time thread blocking in the kernel, so
		// that what is measured is the link, not this goroutine's scheduling.
		defer close(done)
		impair.Realtime()
		buf := make([]byte, 2048)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		timeout := unix.NsecToTimespec(int64(l.Config.Delay + time.Second))
		for len(late) < n {
			k, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN || err == unix.EINTR {
				if m, _ := unix.Ppoll(fds, &timeout, nil); m == 0 {
					return // a second with nothing: the rest is lost
				}
				continue
			}
			if err != nil {
				return
			}
			if k >= 8 {
				sent := time.Duration(binary.BigEndian.Uint64(buf))
				late = append(late, time.Since(base)-sent-l.Config.Delay)
			}
		}
	}()
	msg := make([]byte, 200)
	up0, _ := l.Counters()
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(msg, uint64(time.Since(base)))
		c.Write(msg)
		clock.Sleep(100 * time.Microsecond)
	}
	<-done
	up1, _ := l.Counters()
	fwd := int(up1.Forwarded - up0.Forwarded)
	return late, max(0, fwd-len(late))
}
