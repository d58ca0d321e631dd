package udp

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
)

// sockInt reads an integer socket option of c.
func sockInt(t *testing.T, c net.Conn, level, opt int) int {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// plainConn hides the socket under a net.Conn: no socket option can be set.
type plainConn struct{ net.Conn }

// TestSendThroughputPaths: whichever way SendThroughput sends (batches cut by
// the kernel with UDP GSO; one write per frame where the conn is not a socket
// it can set GSO on; batches refused at the first write, then one by one, as
// a socket without a UDP checksum gets: Linux will not segment those), the
// receiver counts every frame the sender reports, byte for byte. The sender
// offers 500 Mbit/s (GSO batches of 5 frames) for 10 ms, about 520 frames,
// 625 kB: less than the receiving socket's buffer, so none may be lost.
func TestSendThroughputPaths(t *testing.T) {
	t.Parallel()
	const size = 1200
	cases := []struct {
		name  string
		setup func(t *testing.T, c *net.UDPConn) net.Conn
		gso   int // UDP_SEGMENT on the socket afterwards: size while GSO is used, 0 after the fallback
	}{
		{"gso", func(_ *testing.T, c *net.UDPConn) net.Conn { return c }, size},
		{"not a socket", func(_ *testing.T, c *net.UDPConn) net.Conn { return plainConn{c} }, 0},
		{"gso refused", func(t *testing.T, c *net.UDPConn) net.Conn {
			if !setSockInt(c, unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) {
				t.Skip("SO_NO_CHECK refused: the refused-GSO path cannot be forced here")
			}
			// Linux takes UDP_SEGMENT on such a socket and refuses only its
			// writes: a 0 afterwards is the sender's fallback turning it off.
			if !setGSO(c, size) {
				t.Fatal("UDP_SEGMENT refused up front")
			}
			return c
		}, 0},
	}
	for _, tc := range cases {
		for _, gro := range []bool{true, false} { // a throughput session's server, and one that reads single datagrams
			name := tc.name + ", server without GRO"
			if gro {
				name = tc.name + ", server with GRO"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				throughputPath(t, size, tc.setup, tc.gso, gro)
			})
		}
	}
}

// throughputPath is one case of TestSendThroughputPaths.
func throughputPath(t *testing.T, size int, setup func(*testing.T, *net.UDPConn) net.Conn, wantGSO int, gro bool) {
	var rep stats.SendReport
	var got stats.RecvReport
	for try := 1; try <= 3 && rep.Frames == 0; try++ { // a sender starved for its 10 ms sends nothing
		var gso int
		rep, got, gso = sendCounted(t, size, setup, gro)
		if rep.Frames > 0 && gso != wantGSO { // nothing written: nothing refused either
			t.Errorf("UDP_SEGMENT %d after sending, want %d", gso, wantGSO)
		}
	}
	if rep.Frames == 0 || rep.Refused != 0 || rep.BodyBytes != rep.Frames*uint64(size-frame.HeaderLen) || rep.Bytes != rep.Frames*uint64(size) {
		t.Fatalf("sender: %+v", rep)
	}
	if got.Received != rep.Frames || got.Unique != rep.Frames || got.Lost != 0 || got.Duplicate != 0 || got.Corrupt != 0 {
		t.Fatalf("sent %d frames, receiver counted %+v", rep.Frames, got.Counts)
	}
	if got.BodyBytes != rep.BodyBytes || got.WireBytes != rep.Bytes {
		t.Fatalf("sent %d body (%d wire) bytes, receiver verified %d (%d)", rep.BodyBytes, rep.Bytes, got.BodyBytes, got.WireBytes)
	}
}

// sendCounted sends for 10 ms at 500 Mbit/s on a socket set up by setup to a
// receiving Server (in a throughput session, with GRO, if gro), and returns what the sender reported, what the receiver
// counted once every frame arrived (or 20 s passed: a failure, not a wait),
// and the socket's UDP_SEGMENT afterwards.
func sendCounted(t *testing.T, size int, setup func(*testing.T, *net.UDPConn) net.Conn, gro bool) (stats.SendReport, stats.RecvReport, int) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A buffer for every frame sent (the system default holds ~90).
	if err := pc.(*net.UDPConn).SetReadBuffer(4 << 20); err != nil {
		pc.Close()
		t.Fatal(err)
	}
	f := NewFlow(ModeReceive)
	srv := serve(t, pc, func(uint64, netip.AddrPort) *Flow { return f })
	if gro {
		srv.Throughput(true)
	}
	c, err := net.DialUDP("udp4", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetWriteBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	rep, err := SendThroughput(context.Background(), setup(t, c), ThroughputConfig{Cookie: 3, Size: size, Bitrate: 500e6, Duration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for n, _ := f.Progress(); n < rep.Frames && time.Now().Before(deadline); n, _ = f.Progress() {
		time.Sleep(time.Millisecond)
	}
	return rep, f.Report(rep.Frames).Recv, sockInt(t, c, unix.SOL_UDP, unix.UDP_SEGMENT)
}

// TestServerGROOnlyForThroughput: the server's socket asks for UDP GRO while
// a throughput session is in progress, and only then (it read every
// datagram, echo requests too, with recvmsg and GRO's control message).
func TestServerGROOnlyForThroughput(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, pc, func(uint64, netip.AddrPort) *Flow { return nil })
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The loop looks at each wake-up: a datagram (dropped, unknown cookie)
	// wakes it.
	groIs := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			sendFrame(c, frame.TypeData, 9, 0, 100, false)
			if got := sockInt(t, pc.(*net.UDPConn), unix.SOL_UDP, unix.UDP_GRO); got == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("UDP_GRO %d, want %d", got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	groIs(0)
	srv.Throughput(true)
	srv.Throughput(true)
	groIs(1)
	srv.Throughput(false)
	groIs(1) // one session is left
	srv.Throughput(false)
	groIs(0)
}
