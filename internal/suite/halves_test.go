package suite

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
	"github.com/netduel/netduel/udp"
)

const cookie = 0x5eed

// halves are a transport's client and server halves of the throughput and
// ping-pong tests, so that one test body runs over both transports.
type halves struct {
	// receive starts a throughput receiver on n and returns its address and
	// a function that waits for the sender's frames (TCP: its FIN; UDP: every
	// frame, or the test's deadline) and returns the receiver's view.
	receive func(ctx context.Context, t *testing.T, n network) (string, func(sent uint64) stats.RecvReport)
	send    func(ctx context.Context, c net.Conn, size int) (stats.SendReport, error)
	// echo starts an echo server and returns its address and a function that
	// waits for the end of the client's requests and returns the server's
	// counts: intact requests, replies.
	echo     func(ctx context.Context, t *testing.T, n network) (string, func() (uint64, uint64))
	pingPong func(ctx context.Context, c net.Conn, size int) (stats.PingPongReport, *stats.RTT, error)
	// lossless: every frame arrives (TCP); else a reply may time out.
	lossless bool
	sizes    []int // frame bytes for the throughput test: the smallest, small, one packet, more
}

var transports = map[string]halves{
	"tcp": {receive: tcpReceive, send: tcpSend, echo: tcpEcho, pingPong: tcpPingPong, lossless: true,
		sizes: []int{frame.HeaderLen, 64, 1400, 128 << 10}},
	"udp": {receive: udpReceive, send: udpSend, echo: udpEcho, pingPong: udpPingPong,
		sizes: []int{frame.HeaderLen, 64, 1200}},
}

// TestThroughputCounts: on every Network, over both transports, what the
// receiver counts is what the sender sent, frame for frame and byte for byte.
// The UDP sender offers about 100 datagrams over 100 ms (at most 125 kB): less
// than any receiving socket's buffer holds and any device queue, so none may
// be lost even if the receiver is not scheduled meanwhile.
func TestThroughputCounts(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, n network, proto string) {
		h := transports[proto]
		for _, size := range h.sizes {
			t.Run(fmt.Sprint(size), func(t *testing.T) { throughputCounts(t, n, proto, size) })
		}
	})
}

func throughputCounts(t *testing.T, n network, proto string, size int) {
	h := transports[proto]
	var sent stats.SendReport
	var got stats.RecvReport
	retryStarved(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		addr, report := h.receive(ctx, t, n)
		c, err := n.client.Dial(ctx, proto, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if sent, err = h.send(ctx, c, size); err != nil {
			t.Fatal(err)
		}
		if proto == "tcp" {
			tcp.CloseWrite(c)
		}
		got = report(sent.Frames)
		return sent.Frames == 0
	})
	body := uint64(size - frame.HeaderLen)
	if sent.Refused != 0 || sent.BodyBytes != sent.Frames*body {
		t.Fatalf("sender: %+v", sent)
	}
	if got.Received != sent.Frames || got.Unique != sent.Frames || got.Lost != 0 || got.Corrupt != 0 || got.Duplicate != 0 {
		t.Fatalf("sent %d frames, receiver counted %+v", sent.Frames, got.Counts)
	}
	if got.BodyBytes != sent.BodyBytes || got.WireBytes != sent.Bytes {
		t.Fatalf("sent %d body (%d wire) bytes, receiver verified %d (%d)", sent.BodyBytes, sent.Bytes, got.BodyBytes, got.WireBytes)
	}
}

// retryStarved runs try again, up to three times in all, while it reports
// that its sender got no CPU for the whole of its (short) duration, so sent
// nothing and showed nothing; the test fails if every try was.
func retryStarved(t *testing.T, try func() (starved bool)) {
	t.Helper()
	for i := range 3 {
		if !try() {
			return
		}
		t.Logf("try %d: nothing got through in the test's time (a starved machine?): again", i+1)
	}
	t.Fatal("three tries, nothing got through")
}

// TestPingPongCounts: on every Network, over both transports, every request
// the client sent is either answered or counted lost (never both, never a
// timeout recorded as a latency), and the server's counts agree.
func TestPingPongCounts(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, n network, proto string) {
		h := transports[proto]
		var rep stats.PingPongReport
		var rtt *stats.RTT
		var requests, echoed uint64
		retryStarved(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addr, counts := h.echo(ctx, t, n)
			c, err := n.client.Dial(ctx, proto, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if rep, rtt, err = h.pingPong(ctx, c, 64); err != nil {
				t.Fatal(err)
			}
			if proto == "tcp" {
				tcp.CloseWrite(c)
			}
			requests, echoed = counts()
			return rep.Received == 0
		})
		if rep.Received+rep.Lost != rep.Sent || rep.Corrupt != 0 || rep.Duplicate != 0 {
			t.Fatalf("client: %+v", rep)
		}
		if h.lossless && rep.Lost != 0 {
			t.Fatalf("%d of %d requests lost on a %s stream", rep.Lost, rep.Sent, proto)
		}
		if rtt.Count()+rep.Warmup != rep.Received {
			t.Fatalf("histogram %d + warm-up %d for %d answered requests", rtt.Count(), rep.Warmup, rep.Received)
		}
		if echoed > requests || echoed < rep.Received || requests > rep.Sent {
			t.Fatalf("server: %d requests, %d replies; client sent %d, got %d answers", requests, echoed, rep.Sent, rep.Received)
		}
		if rep.BodyBytes != rep.Received*uint64(64-frame.HeaderLen) {
			t.Fatalf("%d verified reply body bytes for %d replies", rep.BodyBytes, rep.Received)
		}
	})
}

// accept accepts one TCP connection on n and runs serve on it.
func accept(ctx context.Context, t *testing.T, n network, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := n.server.Listen(ctx, "tcp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			serve(nil) // the test ended first
			return
		}
		defer c.Close()
		serve(c)
	}()
	return ln.Addr().String()
}

func tcpReceive(ctx context.Context, t *testing.T, n network) (string, func(uint64) stats.RecvReport) {
	recv := stats.NewReceiver()
	done := make(chan error, 1)
	addr := accept(ctx, t, n, func(c net.Conn) {
		if c == nil {
			done <- net.ErrClosed
			return
		}
		done <- tcp.Receive(ctx, c, frame.NewReader(c, 0), cookie, recv)
	})
	return addr, func(sent uint64) stats.RecvReport {
		if err := <-done; err != nil {
			t.Fatalf("Receive: %v", err)
		}
		return recv.Report(sent)
	}
}

func tcpSend(ctx context.Context, c net.Conn, size int) (stats.SendReport, error) {
	return tcp.SendThroughput(ctx, c, tcp.ThroughputConfig{Cookie: cookie, Size: size, Duration: 50 * time.Millisecond})
}

func tcpEcho(ctx context.Context, t *testing.T, n network) (string, func() (uint64, uint64)) {
	type echoed struct {
		tcp.EchoCounts
		err error
	}
	done := make(chan echoed, 1)
	addr := accept(ctx, t, n, func(c net.Conn) {
		if c == nil {
			done <- echoed{err: net.ErrClosed}
			return
		}
		e, err := tcp.Echo(ctx, c, frame.NewReader(c, 0), cookie, "")
		done <- echoed{e, err}
	})
	return addr, func() (uint64, uint64) {
		e := <-done
		if e.err != nil {
			t.Errorf("Echo: %v", e.err)
		}
		return e.Requests, e.Echoed
	}
}

func tcpPingPong(ctx context.Context, c net.Conn, size int) (stats.PingPongReport, *stats.RTT, error) {
	return tcp.PingPong(ctx, c, tcp.LatencyConfig{Cookie: cookie, Size: size, Duration: 50 * time.Millisecond})
}

// udpServe runs a udp.Server on n for one flow, and stops it when the test ends.
func udpServe(t *testing.T, n network, f *udp.Flow) string {
	t.Helper()
	pc, err := n.server.ListenPacket(context.Background(), "udp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	srv := &udp.Server{PC: pc, Lookup: func(c uint64, _ netip.AddrPort) *udp.Flow {
		if c == cookie {
			return f
		}
		return nil
	}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		pc.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return pc.LocalAddr().String()
}

func udpReceive(ctx context.Context, t *testing.T, n network) (string, func(uint64) stats.RecvReport) {
	f := udp.NewFlow(udp.ModeReceive)
	addr := udpServe(t, n, f)
	return addr, func(sent uint64) stats.RecvReport {
		// Wait for the sender's end datagram (udp.SendEnd): on these paths,
		// which keep order, every frame before it has been accounted (none
		// may be lost: see TestThroughputCounts). Or for the test's deadline,
		// when the counts show what went missing.
		for !f.Ended() && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		if !f.Ended() {
			t.Errorf("the sender's end datagram never arrived")
		}
		return f.Report(sent).Recv
	}
}

func udpSend(ctx context.Context, c net.Conn, size int) (stats.SendReport, error) {
	// 100 frames in 100 ms: see TestThroughputCounts.
	rep, err := udp.SendThroughput(ctx, c, udp.ThroughputConfig{Cookie: cookie, Size: size, Bitrate: float64(size * 8 * 1000), Duration: 100 * time.Millisecond})
	if err == nil {
		err = udp.SendEnd(c, cookie, rep.Frames)
	}
	return rep, err
}

func udpEcho(_ context.Context, t *testing.T, n network) (string, func() (uint64, uint64)) {
	f := udp.NewFlow(udp.ModeEcho)
	addr := udpServe(t, n, f)
	// Requests the client stopped waiting for may still be on their way: the
	// server's counts are read when the client is done, and only bounded.
	return addr, func() (uint64, uint64) { r := f.Report(0); return r.Requests, r.Echoed }
}

func udpPingPong(ctx context.Context, c net.Conn, size int) (stats.PingPongReport, *stats.RTT, error) {
	return udp.PingPong(ctx, c, udp.LatencyConfig{Cookie: cookie, Size: size, Duration: 50 * time.Millisecond})
}
