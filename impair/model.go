package impair

import (
	"math"
	"math/rand/v2"
	"time"
)

// Verdict is the fate of one copy of a packet.
type Verdict struct {
	Depart     time.Duration // when it leaves the link, on the caller's clock
	CorruptBit int           // -1: intact; else the bit (0 .. 8×size-1) to flip
	Reordered  bool          // sent at once, ahead of delayed ones (the self-check leaves it out of the delay)
	// Spaced is the serialisation time from the previous departure when the
	// copy left back to back behind it (the rate alone spaced them), else 0.
	Spaced time.Duration
	CE     bool // ECN: marked Congestion Experienced instead of dropped (Config.ECN)
}

// Counters are what a link did, per direction.
type Counters struct {
	Packets    uint64 `json:"packets"`     // packets offered to the link
	Forwarded  uint64 `json:"forwarded"`   // copies that left it (duplicates included)
	Dropped    uint64 `json:"dropped"`     // lost by the loss model
	Duplicated uint64 `json:"duplicated"`  // extra copies made
	Corrupted  uint64 `json:"corrupted"`   // copies with a bit flipped
	Reordered  uint64 `json:"reordered"`   // packets sent at once, ahead of delayed ones
	QueueDrops uint64 `json:"queue_drops"` // dropped because the queue was full
	// DroppedUDP counts the UDP datagrams among Dropped and QueueDrops (set by
	// Pipe, which sees the IP header), so a UDP receiver's loss can be checked
	// against the link's.
	DroppedUDP uint64 `json:"dropped_udp"`
	// ECNMarked counts the loss model's decisions that marked an
	// ECN-capable packet CE instead of dropping it (Config.ECN).
	ECNMarked uint64 `json:"ecn_marked,omitempty"`
	// Held is a level, not a count: the copies the link held at the
	// reading, delayed or queued (neither in Forwarded nor dropped yet).
	Held uint64 `json:"held,omitempty"`
}

// Sub returns the counts since an earlier reading (never below zero).
func (c Counters) Sub(before Counters) Counters {
	d := func(a, b uint64) uint64 { return a - min(a, b) }
	return Counters{
		Packets: d(c.Packets, before.Packets), Forwarded: d(c.Forwarded, before.Forwarded),
		Dropped: d(c.Dropped, before.Dropped), Duplicated: d(c.Duplicated, before.Duplicated),
		Corrupted: d(c.Corrupted, before.Corrupted), Reordered: d(c.Reordered, before.Reordered),
		QueueDrops: d(c.QueueDrops, before.QueueDrops), DroppedUDP: d(c.DroppedUDP, before.DroppedUDP),
		ECNMarked: d(c.ECNMarked, before.ECNMarked),
		Held:      c.Held, // at the later reading
	}
}

// InFlight is how many packets (and copies) the link holds: offered or made,
// and neither forwarded nor dropped yet.
func (c Counters) InFlight() uint64 {
	in, out := c.Packets+c.Duplicated, c.Forwarded+c.Dropped+c.QueueDrops
	if out > in {
		return 0
	}
	return in - out
}

// Model applies a Config to one direction's packets. Times are offsets on the
// caller's monotonic clock; randomness comes from the caller's source, so a
// seeded Model replays exactly. Not safe for concurrent use.
type Model struct {
	cfg     Config
	loss    LossModel
	r       *rand.Rand
	limit   int
	counter int // packets delayed since the last reorder (netem's q->counter)
	queue   departHeap
	last    time.Duration // latest departure among queued packets
	c       Counters
	t       Tally // the self-check's trials
	// netem's correlated sources (uncorrelated when their correlation is 0)
	dupCor, corruptCor, reorderCor, delayCor crandom
	gate                                     gate // slots or a trace (gate.go), nil without
}

// NewModel returns a Model applying cfg with randomness from r.
func NewModel(cfg Config, r *rand.Rand) *Model {
	l := &Model{cfg: cfg, r: r, limit: cfg.queueLimit(), dupCor: newCrandom(cfg.DuplicateCorr),
		corruptCor: newCrandom(cfg.CorruptCorr), reorderCor: newCrandom(cfg.ReorderCorr), delayCor: newCrandom(cfg.DelayCorr)}
	if cfg.Loss != nil {
		l.loss = cfg.Loss.Clone()
	}
	l.gate = newGate(cfg, r)
	return l
}

// Counters returns the counts so far.
func (l *Model) Counters() Counters { return l.c }

// Tally returns the self-check's trials so far (its delay and rate fields
// are the Pipe's: zero here).
func (l *Model) Tally() Tally { return l.t }

// Process decides the fate of a packet of size bytes arriving at now: 0, 1 or 2
// copies (a duplicate), each with its departure time and corruption. It follows
// sch_netem.c's netem_enqueue: duplicate, loss, corrupt, queue limit, then
// reorder or delay plus the rate's serialisation time. As in netem, a
// duplicate is re-enqueued and goes through the same steps on its own (its own
// loss decision, which advances a Markov model's state, its own corruption,
// queue check and delay) but is never duplicated again; when the queue is full
// for the original, both copies are dropped. It does not allocate.
func (l *Model) Process(now time.Duration, size int) (n int, v [2]Verdict) {
	return l.process(now, size, false)
}

// process is Process for a packet that is ECN-capable (ect: ECT(0), ECT(1)
// or CE) or not: with Config.ECN, a loss decision marks an ECN-capable copy
// CE instead of dropping it (netem's INET_ECN_set_ce).
func (l *Model) process(now time.Duration, size int, ect bool) (n int, v [2]Verdict) {
	l.c.Packets++
	l.release(now)
	count := 1
	if l.cfg.Duplicate > 0 {
		l.t.DupTrials++
		if l.chance(l.cfg.Duplicate, &l.dupCor) {
			count++
			l.t.Duplicated++
		}
	}
	marked := false
	if l.drop() {
		if marked = l.markable(ect); !marked {
			count--
		}
	}
	if count == 0 {
		l.c.Dropped++
		return 0, v
	}
	if count > 1 {
		l.c.Duplicated++ // netem clones before its queue check
	}
	orig := Verdict{CorruptBit: l.corrupt(size), CE: marked}
	if l.queue.Len() >= l.limit {
		l.c.QueueDrops += uint64(count) // qdisc_drop_all, and the clone with it
		return 0, v
	}
	if count > 1 {
		// The clone re-enters the qdisc: loss, corrupt, queue limit, delay.
		// netem clones after marking: the clone carries the original's CE.
		lost, cloneCE := false, marked
		if l.drop() {
			lost = !l.markable(ect)
			cloneCE = cloneCE || !lost
		}
		if lost {
			l.c.Dropped++
		} else if dv := (Verdict{CorruptBit: l.corrupt(size), CE: cloneCE}); l.queue.Len() >= l.limit {
			l.c.QueueDrops++
		} else {
			v[n] = l.schedule(now, size, dv)
			n++
		}
	}
	v[n] = l.schedule(now, size, orig)
	n++
	return n, v
}

// drop takes one loss decision.
func (l *Model) drop() bool {
	if l.loss == nil {
		return false
	}
	l.t.LossTrials++
	d := l.loss.Drop(l.r)
	if d {
		l.t.Lost++
	}
	return d
}

// markable says whether a loss decision marks the copy CE instead (and
// counts it): with Config.ECN, on an ECN-capable packet.
func (l *Model) markable(ect bool) bool {
	if l.cfg.ECN && ect {
		l.c.ECNMarked++
		return true
	}
	return false
}

// corrupt draws a copy's corruption: -1 (intact) or the bit to flip.
func (l *Model) corrupt(size int) int {
	if l.cfg.Corrupt > 0 && size > 0 {
		l.t.CorruptTrials++
		if l.chance(l.cfg.Corrupt, &l.corruptCor) {
			l.t.Corrupted++
			return l.r.IntN(8 * size)
		}
	}
	return -1
}

// schedule is one admitted copy's reorder or delay step, which queues it.
func (l *Model) schedule(now time.Duration, size int, v Verdict) Verdict {
	if v.CorruptBit >= 0 {
		l.c.Corrupted++
	}
	gap := max(l.cfg.ReorderGap, 1) // iproute2 sets gap 1 when reorder has none
	trial := l.cfg.Reorder > 0 && l.counter >= gap-1
	if trial {
		l.t.ReorderTrials++
	}
	if !trial || !l.chance(l.cfg.Reorder, &l.reorderCor) {
		delay := l.delay()
		if l.cfg.Rate > 0 {
			// netem: the last queued packet's departure is the reference: the
			// serialisation time accumulates from it.
			start := now
			if l.queue.Len() > 0 {
				delay = max(0, delay-(l.last-now))
				start = l.last
			}
			ser := l.cfg.serialisation(size)
			if start != now && delay == 0 {
				v.Spaced = ser
			}
			delay += ser
			v.Depart = start + delay
		} else {
			v.Depart = now + delay
		}
		l.counter++
	} else {
		// Sent at once, ahead of the delayed packets.
		v.Depart = now
		l.counter = 0
		l.c.Reordered++
		l.t.Reordered++
		v.Reordered = true
	}
	l.queue.push(v.Depart)
	l.last = max(l.last, v.Depart)
	l.c.Forwarded++
	return v
}

// release forgets the packets that have left by now.
func (l *Model) release(now time.Duration) {
	for l.gate == nil && l.queue.Len() > 0 && l.queue.min() <= now {
		l.queue.pop()
	}
}

// delay draws one packet's delay, as sch_netem.c's tabledist: without a
// table (uniform) Delay ± Jitter, evenly; with one, Delay plus Jitter times a
// value drawn from iproute2's table for the distribution (see dist.go). Never
// negative.
func (l *Model) delay() time.Duration {
	mu, sigma := int64(l.cfg.Delay), int64(l.cfg.Jitter)
	if sigma == 0 {
		return l.cfg.Delay
	}
	var d int64
	if l.delayCor.rho != 0 {
		// netem's tabledist on a correlated draw: the uniform case is
		// (rnd mod 2σ) + μ - σ, a table's entry is table[rnd mod size].
		rnd := l.delayCor.next(l.r)
		if t := distTable(l.cfg.Distribution); t != nil {
			d = tabledist(mu, sigma, t[rnd%uint32(len(t))])
		} else {
			d = int64(uint64(rnd)%uint64(2*sigma)) + mu - sigma
		}
	} else if t := distTable(l.cfg.Distribution); t != nil {
		d = tabledist(mu, sigma, t[l.r.Uint32()%uint32(len(t))])
	} else {
		d = mu + int64(math.Round(float64(sigma)*(2*l.r.Float64()-1)))
	}
	return time.Duration(max(0, d))
}

// departHeap is a min-heap of departure times (no allocation once grown).
type departHeap []time.Duration

func (h departHeap) Len() int           { return len(h) }
func (h departHeap) min() time.Duration { return h[0] }

func (h *departHeap) push(d time.Duration) {
	*h = append(*h, d)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *departHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1] < s[c] {
			c++
		}
		if s[i] <= s[c] {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
}
