package tcp

import (
	"context"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
)

// pair returns the two ends of a loopback TCP connection.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// The throughput and ping-pong halves' exact counts are tested over both
// transports and every Network in internal/suite.

func TestReceiveCountsForeignFramesCorrupt(t *testing.T) {
	t.Parallel()
	c, s := pair(t)
	recv := stats.NewReceiver()
	done := make(chan error, 1)
	go func() { done <- Receive(context.Background(), s, frame.NewReader(s, 0), 1, recv) }()
	buf := make([]byte, 100)
	for i, cookie := range []uint64{1, 2, 1} {
		frame.FillBody(buf[frame.HeaderLen:], uint64(i))
		frame.Seal(buf, frame.Header{Type: frame.TypeData, Cookie: cookie, Seq: uint64(i), BodyLen: 60})
		c.Write(buf)
	}
	CloseWrite(c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := recv.Report(3); got.Received != 2 || got.Corrupt != 1 || got.Lost != 1 {
		t.Fatalf("%+v", got.Counts)
	}
}

func TestEchoRejectsForeignFrames(t *testing.T) {
	t.Parallel()
	c, s := pair(t)
	buf := make([]byte, 64)
	frame.Seal(buf, frame.Header{Type: frame.TypeData, Cookie: 7, BodyLen: 24})
	c.Write(buf)
	if _, err := Echo(context.Background(), s, frame.NewReader(s, 0), 7, ""); err == nil {
		t.Fatal("a data frame on a latency connection must end it")
	}
}

func TestReadInfo(t *testing.T) {
	t.Parallel()
	c, _ := pair(t)
	info, ok := ReadInfo(c)
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("TCP_INFO off Linux")
		}
		t.Skip("TCP_INFO is read on Linux only")
	}
	if !ok || info.Congestion == "" || info.MSS == 0 || info.Cwnd == 0 {
		t.Fatalf("info %+v ok %v", info, ok)
	}
}

// recReader records the largest read asked of it and when a read last
// returned bytes.
type recReader struct {
	r    io.Reader
	mu   sync.Mutex
	max  int
	last time.Time
}

func (l *recReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.mu.Lock()
	l.max = max(l.max, len(p))
	if n > 0 {
		l.last = time.Now()
	}
	l.mu.Unlock()
	return n, err
}

// receiving starts Receive on the server end of a new connection, reading
// through a recReader with a frame limit of 1 MiB, and returns the client
// end, the recorder, the receiver and where Receive's error comes.
func receiving(t *testing.T) (net.Conn, *recReader, *stats.Receiver, <-chan error) {
	t.Helper()
	c, s := pair(t)
	recv := stats.NewReceiver()
	lr := &recReader{r: s}
	rd := frame.NewReader(lr, 64<<10)
	rd.SetMax(1 << 20)
	done := make(chan error, 1)
	go func() { done <- Receive(context.Background(), s, rd, 1, recv) }()
	return c, lr, recv, done
}

// TestReceiveReadsLarge: a throughput receiver asks at least ReceiveBuffer
// bytes of each read (iperf3's length; LargeReceiveBuffer while fewer than
// LargeReceivers others have it), not the control reader's 64 KiB, and
// counts every frame of a stream of large frames exactly.
func TestReceiveReadsLarge(t *testing.T) {
	t.Parallel()
	c, lr, recv, done := receiving(t)
	const frames, size = 64, 256 << 10
	buf := make([]byte, size)
	for i := range frames {
		frame.FillBody(buf[frame.HeaderLen:], uint64(i))
		frame.Seal(buf, frame.Header{Type: frame.TypeData, Cookie: 1, Seq: uint64(i), BodyLen: size - frame.HeaderLen})
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	CloseWrite(c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := recv.Report(frames); got.Received != frames || got.Corrupt != 0 {
		t.Fatalf("%+v", got.Counts)
	}
	if lr.max < ReceiveBuffer {
		t.Errorf("largest read asked %d bytes, want %d", lr.max, ReceiveBuffer)
	}
}
