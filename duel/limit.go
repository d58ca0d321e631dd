package duel

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// The server enforces --max-bitrate by measuring what each session's data path
// delivers, whatever the client claimed in its hello: a token bucket over the
// frame bytes received (UDP datagrams, TCP data connection reads; for echo tests
// the replies are the same size, so the bucket bounds both directions).
const (
	// rateTolerance is how far above the limit the long-run rate may be before
	// the bucket empties: an honest client paced at the limit is never cut.
	rateTolerance = 1.05
	// rateBurst is how many seconds of traffic at the limit a UDP session's
	// bucket holds before it is cut (start-up bursts, the kernel handing over a
	// backlog after a stall).
	rateBurst = time.Second
	// throttleShare is the share of the limit a TCP data connection, which is
	// slowed rather than cut, is read at; throttleBurst is the most it reads at
	// once. Its bucket starts empty, so what it has read by any moment is at
	// most throttleShare of the limit over the time since its first read, plus
	// one read: over a test of a second or more, under the limit.
	throttleShare = 0.97
	throttleBurst = 5 * time.Millisecond
	// minBurst is the bucket's smallest capacity, in bytes.
	minBurst = 256 << 10
)

// meter is a token bucket of bytes. It is used by one goroutine at a time (the
// UDP loop under the flow's lock, or the TCP data connection's handler).
type meter struct {
	limitBps float64 // the configured limit, bits/s
	rate     float64 // bytes/s the bucket refills at
	burst    float64 // bucket capacity, bytes
	tokens   float64
	last     time.Time
	total    uint64    // bytes seen
	start    time.Time // when the first byte was seen
}

// newMeter returns a full bucket holding burst of traffic at a limit in bits/s,
// or nil for no limit.
func newMeter(limitBps float64, burst time.Duration) *meter {
	if limitBps <= 0 {
		return nil
	}
	rate := limitBps / 8 * rateTolerance
	b := max(rate*burst.Seconds(), minBurst)
	return &meter{limitBps: limitBps, rate: rate, burst: b, tokens: b}
}

// newThrottle returns an empty bucket for a TCP data connection read at
// throttleShare of a limit in bits/s, at most throttleBurst at a time, or nil
// for no limit.
func newThrottle(limitBps float64) *meter {
	if limitBps <= 0 {
		return nil
	}
	rate := limitBps / 8 * throttleShare
	return &meter{limitBps: limitBps, rate: rate, burst: max(rate*throttleBurst.Seconds(), 1500)}
}

// take spends n bytes arriving at now and returns the bucket's level afterwards:
// negative means the traffic is over the limit (by that many bytes).
func (m *meter) take(n int, now time.Time) float64 {
	if m.start.IsZero() {
		m.start, m.last = now, now
	}
	if dt := now.Sub(m.last).Seconds(); dt > 0 {
		m.tokens = min(m.burst, m.tokens+dt*m.rate)
		m.last = now
	}
	m.tokens -= float64(n)
	m.total += uint64(n)
	return m.tokens
}

// overError describes a session cut for exceeding the limit.
func (m *meter) overError(now time.Time) string {
	return fmt.Sprintf("cut by the server: %d bytes in %.3f s is more than its --max-bitrate of %s allows (%.0f%% over it after a %v burst)",
		m.total, now.Sub(m.start).Seconds(), rateText(m.limitBps), (rateTolerance-1)*100, rateBurst)
}

// meteredConn is what a server's frame.Reader reads a new TCP connection
// through. Once the connection is attached to a session as its data connection,
// every read counts as the session's activity, and with a bit rate limit a read
// that empties the bucket waits until the rate is back under it: TCP's flow
// control then slows the sender, so a TCP test can never exceed the limit (and
// an honest TCP sender, which has no pacing, is throttled rather than cut).
type meteredConn struct {
	net.Conn
	sess  *session
	meter *meter
	src   io.Reader // what Read reads the connection through; nil: Conn
}

// ReadThrough makes c read its connection through r (a stack.Blocking over
// it: see tcp.Echo); nil reads through Conn again.
func (c *meteredConn) ReadThrough(r io.Reader) { c.src = r }

// attach makes c the data connection of sess, metered against limitBps (0: no
// limit). With a limit, the receive buffer shrinks to about 100 ms of traffic at
// the limit, so that the bytes queued in the kernel (which the throttled reads
// drain at the limit after the sender stops) stay few.
func (c *meteredConn) attach(sess *session, limitBps float64) {
	c.sess, c.meter = sess, newThrottle(limitBps)
	if rb, ok := c.Conn.(interface{ SetReadBuffer(int) error }); ok && c.meter != nil {
		_ = rb.SetReadBuffer(int(max(c.meter.rate/10, 64<<10)))
	}
}

func (c *meteredConn) Read(p []byte) (int, error) {
	if c.meter != nil && len(p) > int(c.meter.burst) {
		p = p[:int(c.meter.burst)] // a throttled read takes one burst at most
	}
	var src io.Reader = c.Conn
	if c.src != nil {
		src = c.src
	}
	n, err := src.Read(p)
	if n > 0 && c.sess != nil {
		now := time.Now()
		c.sess.touch(now)
		if c.meter != nil {
			if level := c.meter.take(n, now); level < 0 {
				wait := time.Duration(-level / c.meter.rate * float64(time.Second))
				sleepCtx(c.sess.dataCtx, wait)
			}
		}
	}
	return n, err
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
