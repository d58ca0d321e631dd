package tcp

import (
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
)

// repeater reads the same frames for ever, renumbering nothing: the receiver
// sees duplicates after the first lap, which exercises the same per-frame path.
type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

// BenchmarkReceivePath measures the receiver's per-frame work on 128 KiB
// frames: reassembly, CRC with the pattern check, accounting.
func BenchmarkReceivePath(b *testing.B) {
	const size = 128 << 10
	var stream []byte
	for i := 0; i < 4; i++ {
		f := make([]byte, size)
		frame.FillBody(f[frame.HeaderLen:], uint64(i))
		frame.Seal(f, frame.Header{Type: frame.TypeData, Cookie: 1, Seq: uint64(i), BodyLen: size - frame.HeaderLen})
		stream = append(stream, f...)
	}
	rd := frame.NewReader(&repeater{b: stream}, 0)
	recv := stats.NewReceiver()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, body, err := rd.Next()
		if err != nil {
			b.Fatal(err)
		}
		recv.Frame(h.Seq, h.Timestamp, time.Time{}, size, len(body), rd.BodyCRC() == frame.PatternCRC(len(body), h.Seq))
	}
	b.StopTimer()
	if c := recv.Report(4); c.Corrupt != 0 {
		b.Fatalf("%+v", c.Counts)
	}
}

// countConn is a net.Conn that accepts and counts writes (the writev path
// falls back to one Write per buffer).
type countConn struct {
	net.Conn
	n int
}

func (c *countConn) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// BenchmarkSendPath measures the sender's per-frame work on 128 KiB frames
// without the kernel: header, cached CRC, the body slice from the strip.
func BenchmarkSendPath(b *testing.B) {
	const size = 128 << 10
	c := &countConn{}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	rep, err := SendThroughput(b.Context(), c, ThroughputConfig{Cookie: 1, Size: size, Duration: time.Duration(b.N) * 200 * time.Nanosecond})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	reportPerFrame(b, rep.Frames, rep.Duration)
	if uint64(c.n) != rep.Bytes {
		b.Fatalf("wrote %d bytes, reported %d", c.n, rep.Bytes)
	}
}

// reportPerFrame reports the sender's real cost per frame: the loop runs for a
// time derived from b.N, so ns/op is not the figure to read.
func reportPerFrame(b *testing.B, frames uint64, d time.Duration) {
	if frames > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(frames), "ns/frame")
	}
}
