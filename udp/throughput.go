package udp

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/internal/clock"
	"github.com/netduel/netduel/stats"
)

// ThroughputConfig configures a UDP throughput sender.
type ThroughputConfig struct {
	Cookie   uint64
	Size     int            // frame bytes per datagram (header + body), HeaderLen..MaxDatagram
	Bitrate  float64        // offered bits per second of UDP payload; 0 = as fast as the stack takes them
	Duration time.Duration  // how long to send
	Sent     *atomic.Uint64 // if set, counts frame bytes as they are sent
}

// SendThroughput sends data frames on conn (a connected UDP socket) for
// cfg.Duration, paced to cfg.Bitrate, and returns what it sent. Sends refused by
// the local stack are counted, not retried; an ICMP error from the server's
// port (it has gone) ends the test with that error.
//
// On Linux it hands the kernel batches of frames in one write with UDP GSO
// (UDP_SEGMENT): the kernel cuts them into one datagram per frame, so the wire
// sees exactly the same datagrams for a fraction of the system calls. A batch
// holds at most one pacing burst (100 µs of traffic) so pacing stays smooth. Where
// the kernel or the device refuses GSO, it falls back to one write per frame.
func SendThroughput(ctx context.Context, conn net.Conn, cfg ThroughputConfig) (rep stats.SendReport, err error) {
	size := cfg.Size
	start := time.Now()
	end := start.Add(cfg.Duration)
	p := newPacer(cfg.Bitrate, size, start)
	p.done = func() bool { return ctx.Err() != nil }
	if cfg.Bitrate > 0 {
		defer clock.Hold()() // the pacer's sleeps wake on time
	}
	rep.Start = start
	defer func() { rep.Duration = time.Since(start) }()

	batch := min(maxGSOSegments, MaxDatagram/size)
	if cfg.Bitrate > 0 {
		batch = min(batch, max(1, int(p.maxBurst)/size))
	}
	gso := batch > 1 && setGSO(conn, size)
	if !gso {
		batch = 1
	}
	buf := make([]byte, batch*size)
	strip := frame.NewPatternStrip(size - frame.HeaderLen)
	h := frame.Header{Type: frame.TypeData, Cookie: cfg.Cookie, BodyLen: uint32(size - frame.HeaderLen)}
	account := func(n int, werr error) error {
		rep.Frames += uint64(n) // sequence numbers are spent either way: the receiver counts refused ones lost
		if werr != nil {
			if !transient(werr) {
				return werr
			}
			if unreachable(werr) {
				// The server's port is open from its hello to its
				// report: an ICMP error for it means the server has gone.
				rep.Unreachable += uint64(n)
				return refusedError(werr)
			}
			rep.Refused += uint64(n)
			return nil
		}
		rep.Bytes += uint64(n * size)
		rep.BodyBytes += uint64(n * (size - frame.HeaderLen))
		if cfg.Sent != nil {
			cfg.Sent.Add(uint64(n * size))
		}
		return nil
	}
	for seq := uint64(0); ; {
		if ctx.Err() != nil || !p.wait(batch*size, end) {
			break
		}
		now := time.Now()
		if !now.Before(end) {
			break
		}
		ts := now.UnixNano()
		for i := 0; i < batch; i++ {
			f := buf[i*size : (i+1)*size]
			h.Seq, h.Timestamp = seq+uint64(i), ts
			copy(f[frame.HeaderLen:], strip.Body(h.Seq))
			if err := frame.SealHeader(f, h, frame.PatternCRC(size-frame.HeaderLen, h.Seq)); err != nil {
				return rep, err
			}
		}
		_, werr := conn.Write(buf)
		if werr != nil && gso && gsoRefused(werr) {
			// The path cannot segment: send these one by one, and from now on.
			setGSO(conn, 0)
			gso = false
			for i := 0; i < batch; i++ {
				_, werr = conn.Write(buf[i*size : (i+1)*size])
				if err := account(1, werr); err != nil {
					return rep, err
				}
			}
			seq += uint64(batch)
			batch, buf = 1, buf[:size]
			continue
		}
		if err := account(batch, werr); err != nil {
			return rep, err
		}
		seq += uint64(batch)
	}
	return rep, nil
}
