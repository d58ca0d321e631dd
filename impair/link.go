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
}

// Counters are what a link did, per direction.
type Counters struct {
	Packets    uint64 `json:"packets"`     // packets offered to the link
	Forwarded  uint64 `json:"forwarded"`   // copies that left it (duplicates included)
	Dropped    uint64 `json:"dropped"`     // lost by the loss model
	QueueDrops uint64 `json:"queue_drops"` // dropped because the queue was full
	Duplicated uint64 `json:"duplicated"`  // extra copies made
	Corrupted  uint64 `json:"corrupted"`   // copies with a bit flipped
	Reordered  uint64 `json:"reordered"`   // packets sent at once, ahead of delayed ones
	// DroppedUDP counts the UDP datagrams among Dropped and QueueDrops (set by
	// Pipe, which sees the IP header), so a UDP receiver's loss can be checked
	// against the link's.
	DroppedUDP uint64 `json:"dropped_udp"`
}

// Link applies a Config to one direction's packets. Times are offsets on the
// caller's monotonic clock; randomness comes from the caller's source, so a
// seeded Link replays exactly. Not safe for concurrent use.
type Link struct {
	cfg     Config
	loss    LossModel
	r       *rand.Rand
	limit   int
	counter int // packets delayed since the last reorder (netem's q->counter)
	queue   departHeap
	last    time.Duration // latest departure among queued packets
	c       Counters
}

// NewLink returns a Link applying cfg with randomness from r.
func NewLink(cfg Config, r *rand.Rand) *Link {
	l := &Link{cfg: cfg, r: r, limit: cfg.queueLimit()}
	if cfg.Loss != nil {
		l.loss = cfg.Loss.Clone()
	}
	return l
}

// Counters returns the counts so far.
func (l *Link) Counters() Counters { return l.c }

// Process decides the fate of a packet of size bytes arriving at now: 0, 1 or 2
// copies (a duplicate), each with its departure time and corruption. It follows
// sch_netem.c's netem_enqueue: duplicate, loss, corrupt, queue limit, then
// reorder or delay plus the rate's serialisation time. As in netem, a
// duplicate is re-enqueued and goes through the same steps on its own (its own
// loss decision, which advances a Markov model's state, its own corruption,
// queue check and delay) but is never duplicated again; when the queue is full
// for the original, both copies are dropped. It does not allocate.
func (l *Link) Process(now time.Duration, size int) (n int, v [2]Verdict) {
	l.c.Packets++
	l.release(now)
	count := 1
	if l.cfg.Duplicate > 0 && l.r.Float64() < l.cfg.Duplicate {
		count++
	}
	if l.loss != nil && l.loss.Drop(l.r) {
		count--
	}
	if count == 0 {
		l.c.Dropped++
		return 0, v
	}
	if count > 1 {
		l.c.Duplicated++ // netem clones before its queue check
	}
	orig := Verdict{CorruptBit: l.corrupt(size)}
	if l.queue.Len() >= l.limit {
		l.c.QueueDrops += uint64(count) // qdisc_drop_all, and the clone with it
		return 0, v
	}
	if count > 1 {
		// The clone re-enters the qdisc: loss, corrupt, queue limit, delay.
		if l.loss != nil && l.loss.Drop(l.r) {
			l.c.Dropped++
		} else if dv := (Verdict{CorruptBit: l.corrupt(size)}); l.queue.Len() >= l.limit {
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

// corrupt draws a copy's corruption: -1 (intact) or the bit to flip.
func (l *Link) corrupt(size int) int {
	if l.cfg.Corrupt > 0 && l.r.Float64() < l.cfg.Corrupt && size > 0 {
		return l.r.IntN(8 * size)
	}
	return -1
}

// schedule is one admitted copy's reorder or delay step, which queues it.
func (l *Link) schedule(now time.Duration, size int, v Verdict) Verdict {
	if v.CorruptBit >= 0 {
		l.c.Corrupted++
	}
	gap := max(l.cfg.ReorderGap, 1) // iproute2 sets gap 1 when reorder has none
	if l.cfg.Reorder == 0 || l.counter < gap-1 || l.r.Float64() >= l.cfg.Reorder {
		delay := l.delay()
		if l.cfg.Rate > 0 {
			// netem: the last queued packet's departure is the reference: the
			// serialisation time accumulates from it.
			start := now
			if l.queue.Len() > 0 {
				delay = max(0, delay-(l.last-now))
				start = l.last
			}
			delay += time.Duration(float64(size) * 8 / l.cfg.Rate * float64(time.Second))
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
	}
	l.queue.push(v.Depart)
	l.last = max(l.last, v.Depart)
	l.c.Forwarded++
	return v
}

// release forgets the packets that have left by now.
func (l *Link) release(now time.Duration) {
	for l.queue.Len() > 0 && l.queue.min() <= now {
		l.queue.pop()
	}
}

// delay draws one packet's delay: Delay plus Jitter shaped by the distribution,
// never negative.
func (l *Link) delay() time.Duration {
	d := float64(l.cfg.Delay)
	if j := float64(l.cfg.Jitter); j > 0 {
		d += j * l.variation()
	}
	return time.Duration(max(0, math.Round(d)))
}

// Pareto with α = 3 and scale 1 has mean 3/2 and standard deviation √3/2.
const (
	paretoAlpha = 3.0
	paretoMean  = paretoAlpha / (paretoAlpha - 1)
)

var paretoSD = math.Sqrt(paretoAlpha/(paretoAlpha-2)) / (paretoAlpha - 1)

// variation draws the jitter multiplier: uniform in [-1, 1] (netem without a
// table), or a standardised value (mean 0, standard deviation 1) for the table
// distributions, as iproute2's normal, pareto and paretonormal tables are.
func (l *Link) variation() float64 {
	switch l.cfg.Distribution {
	case DistNormal:
		return l.r.NormFloat64()
	case DistPareto:
		return l.pareto()
	case DistParetoNormal:
		// iproute2's paretonormal mixes the two; here 3/4 Pareto and 1/4 normal,
		// rescaled to standard deviation 1.
		const a, b = 0.75, 0.25
		return (a*l.pareto() + b*l.r.NormFloat64()) / math.Sqrt(a*a+b*b)
	}
	return 2*l.r.Float64() - 1
}

func (l *Link) pareto() float64 {
	u := 1 - l.r.Float64() // (0, 1]
	x := math.Pow(u, -1/paretoAlpha)
	return (x - paretoMean) / paretoSD
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
