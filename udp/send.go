package udp

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
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
// the local stack are counted, not retried.
func SendThroughput(ctx context.Context, conn net.Conn, cfg ThroughputConfig) (rep stats.SendReport, err error) {
	buf := make([]byte, cfg.Size)
	body := buf[frame.HeaderLen:]
	h := frame.Header{Type: frame.TypeData, Cookie: cfg.Cookie, BodyLen: uint32(len(body))}
	start := time.Now()
	end := start.Add(cfg.Duration)
	p := newPacer(cfg.Bitrate, cfg.Size, start)
	defer func() { rep.Duration = time.Since(start) }()
	for seq := uint64(0); ; seq++ {
		if seq&63 == 0 && ctx.Err() != nil {
			break
		}
		if !p.wait(cfg.Size, end) {
			break
		}
		now := time.Now()
		if !now.Before(end) {
			break
		}
		h.Seq, h.Timestamp = seq, now.UnixNano()
		frame.FillBody(body, seq)
		if _, err := frame.Seal(buf, h); err != nil {
			return rep, err
		}
		if _, err = conn.Write(buf); err != nil {
			if transient(err) {
				rep.Refused++
				rep.Frames++ // the sequence number is spent: the receiver counts it lost
				err = nil
				continue
			}
			return rep, err
		}
		rep.Frames++
		if cfg.Sent != nil {
			cfg.Sent.Add(uint64(len(buf)))
		}
		rep.Bytes += uint64(len(buf))
		rep.BodyBytes += uint64(len(body))
	}
	return rep, nil
}
