package tcp

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
)

// ThroughputConfig configures a TCP throughput sender.
type ThroughputConfig struct {
	Cookie   uint64
	Size     int            // frame bytes (header + body); a write carries one or more whole frames
	Duration time.Duration  // how long to send
	Sent     *atomic.Uint64 // if set, counts frame bytes as they are written
}

// SendThroughput writes data frames on conn for cfg.Duration, as many whole
// frames per system call as the stream carries in writeSpan (see
// framesPerWrite). A write in progress when the time is up completes, so the
// receiver never sees a partial frame. The caller ends the stream with
// CloseWrite.
func SendThroughput(ctx context.Context, conn net.Conn, cfg ThroughputConfig) (stats.SendReport, error) {
	var rep stats.SendReport
	stop := unblockOnCancel(ctx, conn)
	defer stop()
	// Each frame is its 40-byte header and a body written straight from a flat
	// copy of the pattern (writev), sealed with the body's cached CRC: the sender
	// touches no body byte, so the measurement is the network's, not ours.
	bodyLen := cfg.Size - frame.HeaderLen
	strip := frame.NewPatternStrip(bodyLen)
	most := maxFramesPerWrite(cfg.Size)
	hdrs := make([]byte, most*frame.HeaderLen)
	iov := make([][]byte, 2*most)
	bufs := new(net.Buffers)
	h := frame.Header{Type: frame.TypeData, Cookie: cfg.Cookie, BodyLen: uint32(bodyLen)}
	start := time.Now()
	rep.Start = start
	end := start.Add(cfg.Duration)
	count := func(frames int) {
		rep.Frames += uint64(frames)
		if cfg.Sent != nil {
			cfg.Sent.Add(uint64(frames * cfg.Size))
		}
		rep.Bytes += uint64(frames * cfg.Size)
		rep.BodyBytes += uint64(frames * bodyLen)
	}
	n := 1 // frames in the next write
	for seq := uint64(0); ; {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		h.Timestamp = now.UnixNano()
		for i := range n {
			hdr := hdrs[i*frame.HeaderLen : (i+1)*frame.HeaderLen]
			h.Seq = seq + uint64(i)
			if err := frame.SealHeader(hdr, h, frame.PatternCRC(bodyLen, h.Seq)); err != nil {
				return rep, err
			}
			iov[2*i], iov[2*i+1] = hdr, strip.Body(h.Seq)
		}
		*bufs = iov[:2*n]
		wrote, err := bufs.WriteTo(conn)
		if err != nil {
			count(int(wrote) / cfg.Size) // the frames that went whole
			rep.Duration = time.Since(start)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			return rep, err
		}
		count(n)
		seq += uint64(n)
		done := time.Now()
		n = framesPerWrite(n, done.Sub(now), end.Sub(done), most)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// How much the sender hands the kernel per system call. Per byte, a 1 MiB
// writev costs the kernel less than eight of 128 KiB (fewer pushes and
// socket lock rounds): on loopback, interleaved runs, client CPU per GB
// 0.14-0.20 s against 0.26-0.31 and goodput 19-24 Gbit/s against 14-17. A
// write blocks until the kernel has taken all of it, so on a slow stream a
// large one would hold the sender past the test's end by its size over the
// rate: a write carries at most what the last one's rate moves in writeSpan
// (or in the time left, if less), at most twice the last one's frames, and
// always one frame.
const (
	writeSpan      = 2 * time.Millisecond
	writeMost      = 1 << 20 // bytes
	maxWriteFrames = 512     // two iovecs a frame: Linux's IOV_MAX is 1024
)

// maxFramesPerWrite is the most frames of size bytes one write carries.
func maxFramesPerWrite(size int) int {
	return min(max(writeMost/size, 1), maxWriteFrames)
}

// framesPerWrite is how many frames the next write carries, after a write of
// n frames took took with left of the test to go: what that rate moves in
// writeSpan or left, whichever is shorter, whole frames, from 1 to
// min(2n, most).
func framesPerWrite(n int, took, left time.Duration, most int) int {
	took = max(took, time.Microsecond)
	span := min(writeSpan, max(left, 0))
	next := float64(n) * float64(span) / float64(took)
	if lim := float64(min(2*n, most)); next >= lim {
		return int(lim)
	}
	return max(int(next), 1)
}

// ReceiveBuffer is how much Receive asks of each read, and the largest batch
// its wake-ups wait for (see wakeBatch), for all but the first LargeReceivers
// receivers at once, which get LargeReceiveBuffer. On loopback, 4 interleaved
// rounds each (medians), 128 KiB (iperf3's read length) gave 26.3 Gbit/s at
// 0.244 s of server CPU per GB, 256 KiB 28.7 at 0.203, 512 KiB 30.9 at 0.172
// and 1 MiB 31.0 at 0.164; the frame.Reader's own 64 KiB took 5-10% more
// than 128 KiB. The bound keeps a flood of sessions from costing 512 KiB
// each (250 attackers' data connections: 189 MB of heap).
const (
	ReceiveBuffer      = 128 << 10
	LargeReceiveBuffer = 512 << 10
	LargeReceivers     = 8
)

// largeReceivers holds a token per receiver reading with LargeReceiveBuffer.
var largeReceivers = make(chan struct{}, LargeReceivers)

// receiveBuffer is the read length of a receiver starting now, and the
// function to call when it ends.
func receiveBuffer() (int, func()) {
	select {
	case largeReceivers <- struct{}{}:
		return LargeReceiveBuffer, func() { <-largeReceivers }
	default:
		return ReceiveBuffer, func() {}
	}
}

// Receive reads data frames from rd until the sender's FIN (io.EOF) and accounts
// for them in recv. Frames of another cookie or type count as corrupt. It returns
// nil at a clean end of stream, or the error that cut the stream short; recv holds
// what arrived until then. Receive is the only writer of recv while it runs.
//
// recv sees the stream's bytes as they are read (recv.StartStream), so its span
// starts at the first byte and its intervals count each verified body byte when
// it arrived, not when its frame was complete.
func Receive(ctx context.Context, conn net.Conn, rd *frame.Reader, cookie uint64, recv *stats.Receiver) error {
	stop := unblockOnCancel(ctx, conn)
	defer stop()
	size, done := receiveBuffer()
	defer done()
	rd.Grow(size)
	wb := newWakeBatch(size, func(n int) bool { return stack.SetRecvLowat(conn, n) })
	defer wb.stop()
	buffered := rd.Tap(func(src io.Reader) io.Reader {
		return &arrivals{src, func(now time.Time, n int) {
			recv.Read(now, n)
			wb.read(now, n)
		}}
	})
	recv.StartStream(time.Now(), buffered)
	for {
		// The body streams through the reader's buffer: only its CRC is kept,
		// so a peer announcing frames of the limit's size costs the buffer's
		// memory, not the frame's.
		h, err := rd.NextMatched() // pattern bodies: compared, not summed
		now := time.Now()
		switch {
		case err == nil:
		case errors.Is(err, frame.ErrChecksum):
			recv.Corrupt(frame.HeaderLen + int(h.BodyLen))
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		bodyLen := int(h.BodyLen)
		wire := frame.HeaderLen + bodyLen
		if h.Type != frame.TypeData || h.Cookie != cookie {
			recv.Corrupt(wire)
			continue
		}
		// The body's CRC was computed while checking the frame: comparing it with
		// the pattern's verifies the body without a second pass.
		recv.Frame(h.Seq, h.Timestamp, now, wire, bodyLen, rd.BodyCRC() == frame.PatternCRC(bodyLen, h.Seq))
	}
}

// arrivals tells a function when each read of a stream returned bytes.
type arrivals struct {
	src io.Reader
	on  func(now time.Time, n int)
}

func (a *arrivals) Read(p []byte) (int, error) {
	n, err := a.src.Read(p)
	if n > 0 {
		a.on(time.Now(), n)
	}
	return n, err
}
