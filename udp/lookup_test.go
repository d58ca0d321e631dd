package udp

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// TestServerReusesLookupUntilRetired: Serve asks Lookup once for a run of
// datagrams with the same cookie from the same source, asks again for
// another source, and drops a retired flow's datagrams even when its owner's
// Lookup still hands it out; in both modes.
func TestServerReusesLookupUntilRetired(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeEcho, ModeReceive} {
		name := map[Mode]string{ModeEcho: "echo", ModeReceive: "receive"}[mode]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			flow := NewFlow(mode)
			var asked atomic.Int32
			serve(t, pc, func(cookie uint64, src netip.AddrPort) *Flow {
				asked.Add(1)
				if cookie != 5 || !src.Addr().IsLoopback() {
					return nil
				}
				return flow // even once retired: Serve must not answer it then
			})
			dial := func() net.Conn {
				c, err := net.Dial("udp", pc.LocalAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				return c
			}
			a, b := dial(), dial()
			typ := map[Mode]frame.Type{ModeEcho: frame.TypeEchoRequest, ModeReceive: frame.TypeData}[mode]
			seq := uint64(0)
			// answered sends one frame from c and says whether the flow took
			// it: an echo reply came back, or the receiver counted it.
			answered := func(c net.Conn, wait time.Duration) bool {
				before := flow.Report(0)
				sendFrame(c, typ, 5, seq, 100, false)
				seq++
				if mode == ModeEcho {
					buf := make([]byte, 200)
					c.SetReadDeadline(time.Now().Add(wait))
					_, err := c.Read(buf)
					return err == nil
				}
				for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(time.Millisecond) {
					if flow.Report(0).Recv.Counts.Received > before.Recv.Counts.Received {
						return true
					}
				}
				return false
			}
			for i := range 5 {
				if !answered(a, 2*time.Second) {
					t.Fatalf("frame %d from a: not taken", i)
				}
			}
			if n := asked.Load(); n != 1 {
				t.Errorf("Lookup asked %d times for 5 frames of one cookie and source, want once", n)
			}
			if !answered(b, 2*time.Second) {
				t.Fatal("frame from b: not taken")
			}
			if n := asked.Load(); n != 2 {
				t.Errorf("Lookup asked %d times after another source's frame, want 2", n)
			}
			if !answered(b, 2*time.Second) {
				t.Fatal("second frame from b: not taken")
			}
			flow.Retire()
			before := asked.Load()
			if answered(b, 300*time.Millisecond) {
				t.Error("a retired flow's frame was taken")
			}
			if asked.Load() == before {
				t.Error("Serve answered from its cache for a retired flow without asking Lookup")
			}
		})
	}
}
