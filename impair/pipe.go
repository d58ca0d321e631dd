package impair

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/internal/clock"
)

// Pipe carries packets through a Link in real time: Send applies the link's
// models and a goroutine hands each surviving copy to out at its departure time,
// in departure order (ties in arrival order). With nothing to impair it is a
// pass-through: Send calls out directly. Pipe is safe for concurrent use.
//
// Ownership: Send takes the packet; out receives it (or, for a duplicate, a copy)
// and may keep or recycle it. A dropped packet is simply not passed on.
type Pipe struct {
	out   func([]byte)
	start time.Time
	pass  bool // nothing to impair

	mu      sync.Mutex
	link    *Link
	pending pktHeap
	seq     uint64
	closed  bool

	passed atomic.Uint64 // pass-through packets
	wake   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
}

// NewPipe starts a pipe applying cfg with randomness from r, delivering to out.
func NewPipe(cfg Config, r *rand.Rand, out func(pkt []byte)) *Pipe {
	p := &Pipe{out: out, start: time.Now(), pass: !cfg.Enabled(), link: NewLink(cfg, r),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if !p.pass {
		p.wg.Add(1)
		go p.run()
	}
	return p
}

// Send offers a packet to the link.
func (p *Pipe) Send(pkt []byte) {
	if p.pass {
		p.passed.Add(1)
		p.out(pkt)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	before := p.link.c.Dropped + p.link.c.QueueDrops
	n, v := p.link.Process(time.Since(p.start), len(pkt))
	if d := p.link.c.Dropped + p.link.c.QueueDrops - before; d > 0 && isUDP(pkt) {
		p.link.c.DroppedUDP += d
	}
	earliest := len(p.pending) == 0
	for i := 0; i < n; i++ {
		b := pkt
		if i < n-1 {
			b = append([]byte(nil), pkt...) // the duplicate's own copy
		}
		if bit := v[i].CorruptBit; bit >= 0 {
			b[bit/8] ^= 1 << (bit % 8)
		}
		if len(p.pending) > 0 && v[i].Depart < p.pending[0].depart {
			earliest = true
		}
		p.pending.push(pending{depart: v[i].Depart, seq: p.seq, pkt: b})
		p.seq++
	}
	p.mu.Unlock()
	if n > 0 && earliest {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// PassThrough reports whether the pipe has nothing to impair: a caller may then
// deliver packets itself (several at once, say) and count them with
// CountPassed.
func (p *Pipe) PassThrough() bool { return p.pass }

// CountPassed counts n packets a caller delivered itself past a pass-through
// pipe.
func (p *Pipe) CountPassed(n uint64) { p.passed.Add(n) }

// Counters returns what the pipe's link did.
func (p *Pipe) Counters() Counters {
	if p.pass {
		n := p.passed.Load()
		return Counters{Packets: n, Forwarded: n}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link.Counters()
}

// Close stops the pipe; packets still in it are dropped. It waits for the
// delivering goroutine to exit.
func (p *Pipe) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.pending = nil
	p.mu.Unlock()
	close(p.done)
	p.wg.Wait()
}

// The delivering goroutine waits for a departure in three ways, because Go's
// timers wake up to a millisecond late on Linux: a timer for waits longer than
// coarseAbove (set to wake coarseAbove early), short precise sleeps (nanosleep,
// at most sleepChunk each, so an earlier packet arriving meanwhile is seen soon)
// down to spinBelow, and yielding in a loop for the last stretch.
const (
	coarseAbove = 2 * time.Millisecond
	sleepChunk  = 100 * time.Microsecond
	spinBelow   = 60 * time.Microsecond
)

func (p *Pipe) run() {
	defer p.wg.Done()
	clock.Precise()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		if len(p.pending) == 0 {
			p.mu.Unlock()
			select {
			case <-p.wake:
			case <-p.done:
				return
			}
			continue
		}
		wait := p.pending[0].depart - time.Since(p.start)
		if wait <= 0 {
			it := p.pending.pop()
			p.mu.Unlock()
			p.out(it.pkt)
			continue
		}
		p.mu.Unlock()
		switch {
		case wait <= spinBelow:
			runtime.Gosched()
		case wait <= coarseAbove:
			clock.Sleep(min(wait-spinBelow, sleepChunk))
		default:
			timer.Reset(wait - coarseAbove + spinBelow)
			select {
			case <-timer.C:
			case <-p.wake:
				timer.Stop() // Go 1.23+ timers: no stale value to drain after Stop
			case <-p.done:
				return
			}
		}
	}
}

// isUDP reports whether an IP packet carries UDP (IPv4 protocol or IPv6 next
// header 17, without extension headers).
func isUDP(pkt []byte) bool {
	if len(pkt) < 1 {
		return false
	}
	switch pkt[0] >> 4 {
	case 4:
		return len(pkt) > 9 && pkt[9] == 17
	case 6:
		return len(pkt) > 6 && pkt[6] == 17
	}
	return false
}

type pending struct {
	depart time.Duration
	seq    uint64
	pkt    []byte
}

// pktHeap is a min-heap of packets by departure, then arrival order.
type pktHeap []pending

func (h pktHeap) less(i, j int) bool {
	return h[i].depart < h[j].depart || h[i].depart == h[j].depart && h[i].seq < h[j].seq
}

func (h *pktHeap) push(x pending) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *pktHeap) pop() pending {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = pending{}
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s.less(c+1, c) {
			c++
		}
		if !s.less(c, i) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}
