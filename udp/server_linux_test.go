package udp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/internal/gstate"
)

// TestServerIdleWaitsInNetpoller: with no UDP session in progress the
// shared socket's reader waits in the netpoller, not in a blocking system
// call (which, while another session kept the process's other P busy, had
// the runtime's monitor wake ~1,200 times a second and preempt that
// session's spinning reads: TCP busy-poll p99 35-60 µs against 13); it
// still answers, and a latency session's reads go back to the kernel.
func TestServerIdleWaitsInNetpoller(t *testing.T) { // not parallel: reads every goroutine's state
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echo := NewFlow(ModeEcho)
	srv := serve(t, pc, func(cookie uint64, src netip.AddrPort) *Flow {
		if cookie == 2 {
			return echo
		}
		return nil
	})
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply := make([]byte, 2000)
	for i, latency := range []bool{false, true, false} {
		if latency {
			srv.Latency(true)
		}
		time.Sleep(100 * time.Millisecond)
		if st := gstate.Of("udp.(*Server).Serve("); !latency && st != "IO wait" {
			t.Fatalf("step %d, no session: Serve is %q, want parked in the netpoller (IO wait)", i, st)
		}
		sendFrame(c, frame.TypeEchoRequest, 2, uint64(i), 100, false)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(reply)
		if err != nil {
			t.Fatalf("step %d (latency session %v): no echo: %v", i, latency, err)
		}
		if h, _, err := frame.Decode(reply[:n], 0); err != nil || h.Seq != uint64(i) {
			t.Fatalf("step %d: reply %+v, %v", i, h, err)
		}
		if latency {
			srv.Latency(false)
		}
	}
}
