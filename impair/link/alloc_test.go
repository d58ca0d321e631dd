//go:build linux

package link

import (
	"context"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/impair"
)

// TestTunForwarderAllocatesNothing sends datagrams one at a time across the
// tun backend, each read before the next is sent, and counts the process's
// heap allocations: the forwarder (device reads, the pipe, device writes)
// must make none per packet, since every collection it causes is a stall of
// everything the link holds. Not parallel: the count is the whole process's.
func TestTunForwarderAllocatesNothing(t *testing.T) {
	if err := TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	if raceEnabled {
		t.Skip("the race detector allocates on its own: run without -race")
	}
	for _, tc := range []struct {
		name string
		cfg  impair.Config
	}{
		{"clean", impair.Config{}},
		{"delay", impair.Config{Delay: 50 * time.Microsecond}},
		{"impaired", impair.Config{Delay: 50 * time.Microsecond, Rate: 10e9, Loss: impair.RandomLoss(0.01), Seed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Open(Tun, tc.cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			pc, err := l.Server.ListenPacket(ctx, "udp4", net.JoinHostPort(l.ServerHost, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			c, err := l.Client.Dial(ctx, "udp4", pc.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rc, err := pc.(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			buf, msg := make([]byte, 2048), make([]byte, 200)
			var rerr error
			read := func(fd uintptr) bool {
				_, rerr = unix.Read(int(fd), buf)
				return rerr != unix.EAGAIN
			}
			// One datagram across and back to the test; a lost one (the
			// model's loss) ends its wait at the deadline.
			cross := func() {
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				_ = rc.Read(read)
			}
			for range 200 { // warm up: buffers, free lists, heaps grown
				cross()
			}
			const n = 2000
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for range n {
				cross()
			}
			runtime.ReadMemStats(&m1)
			if per := float64(m1.Mallocs-m0.Mallocs) / n; per > 0.05 {
				t.Errorf("%.2f heap allocations a packet (%d for %d), want none", per, m1.Mallocs-m0.Mallocs, n)
			}
		})
	}
}
