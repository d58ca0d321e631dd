package impair

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Pipe carries packets through a Model in real time: Send applies the link's
// models and a goroutine hands each surviving copy to out at its departure time,
// in departure order (ties in arrival order). With nothing to impair it is a
// pass-through: Send calls out directly. Pipe is safe for concurrent use.
//
// Ownership: Send takes the packet; out receives it (or, for a duplicate, a copy)
// and may keep or recycle it. A dropped packet is simply not passed on.
//
// A driven pipe (NewDrivenPipe) has no goroutine of its own: the one
// goroutine that sends into it also delivers, calling Deliver.
type Pipe struct {
	out    func([]byte)
	start  time.Time
	pass   bool // nothing to impair
	driven bool // delivered by its sender's Deliver calls, not by run

	mu      sync.Mutex
	model   *Model
	pending pktHeap
	seq     uint64
	closed  bool
	busy    bool                    // the delivering thread is handing a packet on (outside mu)
	sending bool                    // Send is handing a packet on itself (outside mu)
	late    *hdrhistogram.Histogram // lateness of held packets, ns
	over1   int64                   // packets over 1 ms late
	over5   int64                   // packets over 5 ms late
	check   pipeCheck               // the self-check's delay and rate

	passed     atomic.Uint64 // pass-through packets
	closedHeld uint64        // copies held when the pipe closed (see Counters)
	w          *waiter       // run's wait (nil: driven)
	wg         sync.WaitGroup
}

// NewPipe starts a pipe applying cfg with randomness from r, delivering to
// out from a thread of its own (see precise).
func NewPipe(cfg Config, r *rand.Rand, out func(pkt []byte)) *Pipe {
	p := newPipe(cfg, r, out)
	if !p.pass {
		p.w = newWaiter()
		addSpareProcs()
		p.wg.Add(1)
		go p.run()
	}
	return p
}

// NewDrivenPipe returns a pipe applying cfg with randomness from r that
// delivers to out only when Deliver is called: its caller's thread both
// feeds it and delivers, so a packet costs that thread no hand-over to
// another (a wake-up, tens of µs on a virtual machine). Send and Deliver
// must then be called from that one goroutine; the other methods from any.
func NewDrivenPipe(cfg Config, r *rand.Rand, out func(pkt []byte)) *Pipe {
	p := newPipe(cfg, r, out)
	p.driven = true
	return p
}

func newPipe(cfg Config, r *rand.Rand, out func(pkt []byte)) *Pipe {
	p := &Pipe{out: out, start: time.Now(), pass: !cfg.Enabled(), model: NewModel(cfg, r)}
	if !p.pass {
		p.late = newLateHist()
		p.check.delay = newDelayHist()
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
	before := p.model.c.Dropped + p.model.c.QueueDrops
	now := time.Since(p.start)
	n, v := p.model.process(now, len(pkt), p.model.cfg.ECN && ecnCapable(pkt))
	if d := p.model.c.Dropped + p.model.c.QueueDrops - before; d > 0 && isUDP(pkt) {
		p.model.c.DroppedUDP += d
	}
	// Due at once (no delay, or a reordered packet), with nothing ahead of
	// it in the pipe: the caller hands it on itself, sparing the delivering
	// thread's wake-up.
	out, due := copies(pkt, n, v, now)
	direct := n > 0 && len(p.pending) == 0 && !p.busy && !p.sending && due && p.model.gate == nil
	earliest := len(p.pending) == 0
	if direct {
		p.sending = true
		for i := range n {
			_ = p.late.RecordValue(1)
			p.check.delivered(p.model.cfg, now, pending{depart: v[i].Depart, at: now, reordered: v[i].Reordered, spaced: v[i].Spaced, pkt: out[i]})
		}
		p.mu.Unlock()
		for _, b := range out[:n] {
			p.out(b)
		}
		p.mu.Lock()
		p.sending = false
		p.mu.Unlock()
		return
	}
	for i := 0; i < n; i++ {
		b := out[i]
		if len(p.pending) > 0 && v[i].Depart < p.pending[0].depart {
			earliest = true
		}
		p.pending.push(pending{depart: v[i].Depart, seq: p.seq, pkt: b, at: now, reordered: v[i].Reordered, spaced: v[i].Spaced})
		p.seq++
	}
	p.mu.Unlock()
	if n > 0 && !p.driven && (earliest || p.model.gate != nil) { // a gate decides on each dequeue attempt, as netem's
		p.w.wake()
	}
}

// copies makes the n copies of pkt the verdicts v ask for (a duplicate gets
// its own buffer), marked CE and corrupted as they say; due says whether
// all are due by now.
func copies(pkt []byte, n int, v [2]Verdict, now time.Duration) (out [2][]byte, due bool) {
	due = true
	for i := range n {
		b := pkt
		if i < n-1 {
			b = append([]byte(nil), pkt...) // the duplicate's own copy
		}
		if v[i].CE {
			setCE(b)
		}
		if bit := v[i].CorruptBit; bit >= 0 {
			b[bit/8] ^= 1 << (bit % 8)
		}
		out[i] = b
		due = due && v[i].Depart <= now
	}
	return out, due
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
	c := p.model.Counters()
	// The model counts a copy forwarded once it has scheduled it; it has
	// left when the pipe hands it on. Copies still held when the pipe
	// closed never leave.
	c.Held = uint64(len(p.pending)) + p.closedHeld
	c.Forwarded -= min(c.Forwarded, c.Held)
	return c
}

// Lateness returns how late the pipe handed packets on so far.
func (p *Pipe) Lateness() Lateness {
	if p.pass {
		return Lateness{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return lateness(p.late, p.over1, p.over5)
}

// ResetLateness starts Lateness and Tally afresh (at the start of a test,
// say).
func (p *Pipe) ResetLateness() {
	if p.pass {
		return
	}
	p.mu.Lock()
	p.late.Reset()
	p.check.reset(p.model.t)
	p.over1, p.over5 = 0, 0
	p.mu.Unlock()
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
	p.closedHeld = uint64(len(p.pending))
	p.pending = nil
	p.mu.Unlock()
	if p.pass || p.driven {
		return
	}
	p.w.wake()
	p.wg.Wait()
	p.w.close()
	releaseSpareProcs()
}

// run delivers packets at their departure times, on a thread of its own
// (see precise): it sleeps until the earliest departure, or until Send queues
// a packet that must leave earlier.
func (p *Pipe) run() {
	defer p.wg.Done()
	precise()
	for {
		wait, held, closed := p.deliver()
		switch {
		case closed:
			return
		case held:
			p.w.wait(wait)
		default:
			p.w.wait(-1)
		}
	}
}

// Deliver hands on every packet of a driven pipe that is due (on the calling
// goroutine, the one that sends into it) and says whether the pipe still
// holds packets and, if so, how long until the next may leave.
func (p *Pipe) Deliver() (wait time.Duration, held bool) {
	if p.pass {
		return 0, false
	}
	wait, held, _ = p.deliver()
	return wait, held
}

// deliver hands on the packets due, recording their lateness, and returns
// the wait until the next departure, whether any packet is held, and whether
// the pipe is closed.
func (p *Pipe) deliver() (wait time.Duration, held, closed bool) {
	for {
		p.mu.Lock()
		p.busy = false
		if closed := p.closed; closed || len(p.pending) == 0 {
			p.mu.Unlock()
			return 0, false, closed
		}
		now := time.Since(p.start)
		ok, at := p.model.Admit(now, p.pending[0].depart, len(p.pending[0].pkt))
		wait := at - now
		if !ok {
			p.mu.Unlock()
			return max(wait, 0), true, false
		}
		it := p.pending.pop()
		p.check.delivered(p.model.cfg, now, it)
		p.busy = true
		_ = p.late.RecordValue(max(1, int64(-wait)))
		if -wait > time.Millisecond {
			p.over1++
			if -wait > 5*time.Millisecond {
				p.over5++
			}
		}
		p.mu.Unlock()
		p.out(it.pkt)
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
	depart    time.Duration
	seq       uint64
	pkt       []byte
	at        time.Duration // arrival
	reordered bool          // Verdict.Reordered
	spaced    time.Duration // Verdict.Spaced
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
