package link

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
)

// TestForwarderNeverDropsSilently floods a delayed, lossy link with UDP as
// fast as the sender can write, on each backend, and accounts for every
// datagram: received, dropped by the model (loss, queue), or dropped at a
// device or a socket and counted there. Nothing may vanish unseen.
func TestForwarderNeverDropsSilently(t *testing.T) {
	names := backends(t)
	if slices.Contains(names, Tun) {
		names = append(names, "tun-polling") // the polling forwarder (Polling)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			backend, opt := name, []Option(nil)
			if name == "tun-polling" {
				backend, opt = Tun, []Option{Polling}
			}
			l, err := Open(backend, impair.Config{Delay: time.Millisecond, Loss: impair.RandomLoss(0.01), Seed: 3}, "", opt...)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			c, got := udpSink(t, l, 2*time.Second) // generous: a loaded machine stalls readers
			const n = 20_000
			msg := make([]byte, 1000)
			sent := 0
			for i := 0; i < n; i++ {
				if _, err := c.Write(msg); err == nil {
					sent++ // a refused write never left: not the link's
				}
			}
			recv := <-got
			up, _ := l.Counters()
			cs, ss := l.Stats()
			accounted := recv + int(up.Dropped+up.QueueDrops) + int(cs.DeviceDrops+ss.DeviceDrops) + int(ss.UDPSocketDrops)
			t.Logf("sent %d: received %d, loss %d, queue %d, device drops %d+%d, socket drops %d",
				sent, recv, up.Dropped, up.QueueDrops, cs.DeviceDrops, ss.DeviceDrops, ss.UDPSocketDrops)
			if accounted != sent {
				t.Errorf("%d datagrams sent, %d accounted for: %d vanished", sent, accounted, sent-accounted)
			}
		})
	}
}

// udpSink listens for UDP on the link's server side and dials it from the
// client side; the channel gets the number of datagrams received once none
// came for idle. Both sockets close with the test.
func udpSink(tb testing.TB, l *Link, idle time.Duration) (net.Conn, <-chan int) {
	tb.Helper()
	ctx := context.Background()
	pc, err := l.Server.ListenPacket(ctx, "udp4", net.JoinHostPort(l.ServerHost, "0"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	got := make(chan int, 1)
	go func() {
		buf := make([]byte, 2048)
		n := 0
		for {
			pc.SetReadDeadline(time.Now().Add(idle))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				got <- n
				return
			}
			n++
		}
	}()
	c, err := l.Client.Dial(ctx, "udp4", pc.LocalAddr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c, got
}
