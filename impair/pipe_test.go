package impair

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// collector records what a pipe delivers, with arrival times.
type collector struct {
	mu   sync.Mutex
	seqs []uint64
	at   []time.Time
	pkts [][]byte
}

func (c *collector) out(p []byte) {
	now := time.Now()
	c.mu.Lock()
	c.seqs = append(c.seqs, binary.BigEndian.Uint64(p))
	c.at = append(c.at, now)
	c.pkts = append(c.pkts, p)
	c.mu.Unlock()
}

func (c *collector) len() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.seqs) }

func packet(seq uint64, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint64(p, seq)
	return p
}

func waitFor(t *testing.T, c *collector, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d packets delivered after %v", c.len(), n, within)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPipePassThrough(t *testing.T) {
	t.Parallel()
	var c collector
	p := NewPipe(Config{}, seeded(1), c.out)
	defer p.Close()
	for i := uint64(0); i < 100; i++ {
		p.Send(packet(i, 64))
		if c.len() != int(i)+1 {
			t.Fatal("pass-through pipe did not deliver synchronously")
		}
	}
	if got := p.Counters(); got != (Counters{Packets: 100, Forwarded: 100}) {
		t.Errorf("counters %+v", got)
	}
}

// TestPipeDelivers: what the link decides is what the pipe does: every copy is
// delivered, in departure order, corrupted copies have exactly one bit flipped,
// and the counters add up.
func TestPipeDelivers(t *testing.T) {
	t.Parallel()
	var c collector
	cfg := Config{Loss: RandomLoss(0.1), Delay: 2 * time.Millisecond, Jitter: time.Millisecond, Duplicate: 0.1, Corrupt: 0.1}
	p := NewPipe(cfg, seeded(2), c.out)
	const n = 2000
	for i := uint64(0); i < n; i++ {
		p.Send(packet(i, 100))
	}
	cnt := p.Counters()
	// Forwarded counts what has left, Held what is still delayed.
	if cnt.Packets != n || cnt.Forwarded+cnt.Held != n-cnt.Dropped+cnt.Duplicated-cnt.QueueDrops || cnt.Held == 0 {
		t.Fatalf("counters do not add up: %+v", cnt)
	}
	waitFor(t, &c, int(cnt.Forwarded+cnt.Held), 30*time.Second)
	cnt = p.Counters()
	p.Close() // returns once the delivering goroutine is done: c is final
	if cnt.Held != 0 || cnt.InFlight() != 0 {
		t.Fatalf("all delivered, yet the counters hold some: %+v", cnt)
	}
	if c.len() != int(cnt.Forwarded) {
		t.Fatalf("delivered %d, link forwarded %d", c.len(), cnt.Forwarded)
	}
	flipped := 0
	for _, pkt := range c.pkts {
		ones := 0
		for _, b := range pkt[8:] {
			for ; b != 0; b &= b - 1 {
				ones++
			}
		}
		if ones > 1 {
			t.Fatalf("a packet has %d bits flipped", ones)
		}
		flipped += ones
	}
	// Flips in the 8-byte sequence number are not seen above: allow for them.
	if flipped > int(cnt.Corrupted) || float64(flipped) < 0.8*float64(cnt.Corrupted) {
		t.Errorf("%d bit flips seen in bodies, link corrupted %d", flipped, cnt.Corrupted)
	}
	if slices.IsSorted(c.seqs) {
		t.Error("1 ms of jitter on packets sent back to back reordered nothing")
	}
}

// TestPipeDelay: a constant delay holds every packet at least that long, on
// the real clock, keeps their order, and the pipe's own account of how late
// each left covers every packet. How precise the delay is (how late past it a
// packet leaves) depends on the machine's load: BenchmarkPipeDelayError and
// the self-check (SelfCheck) measure it; no bound on it here.
func TestPipeDelay(t *testing.T) {
	t.Parallel()
	const delay = 10 * time.Millisecond
	var c collector
	p := NewPipe(Config{Delay: delay}, seeded(3), c.out)
	defer p.Close()
	var sent []time.Time
	for i := uint64(0); i < 300; i++ {
		sent = append(sent, time.Now())
		p.Send(packet(i, 64))
		time.Sleep(200 * time.Microsecond)
	}
	waitFor(t, &c, 300, 30*time.Second)
	var d []time.Duration
	c.mu.Lock()
	for i, s := range c.seqs {
		d = append(d, c.at[i].Sub(sent[s]))
		if i > 0 && s < c.seqs[i-1] {
			t.Errorf("constant delay reordered %d after %d", s, c.seqs[i-1])
		}
	}
	c.mu.Unlock()
	slices.Sort(d)
	if d[0] < delay {
		t.Errorf("a packet left after %v, before its %v delay", d[0], delay)
	}
	// The pipe's own account of its lateness covers every packet, and no
	// packet is earlier than its departure (lateness >= 0 by construction).
	if l := p.Lateness(); l.Count != 300 || l.Max < l.P99 || l.P99 < l.P50 {
		t.Errorf("lateness %+v over 300 packets", l)
	}
	p.ResetLateness()
	if l := p.Lateness(); l.Count != 0 {
		t.Errorf("after a reset: %+v", l)
	}
}

func TestPipeCloseDropsPending(t *testing.T) {
	t.Parallel()
	var c collector
	p := NewPipe(Config{Delay: time.Hour}, seeded(4), c.out)
	for i := uint64(0); i < 10; i++ {
		p.Send(packet(i, 64))
	}
	p.Close()
	p.Close() // twice is fine
	p.Send(packet(99, 64))
	if c.len() != 0 {
		t.Fatalf("delivered %d packets held for an hour", c.len())
	}
}

// BenchmarkPipe reports packets per second through a pipe with impairment off
// (pass-through) and on (jitter of 1 ns: every packet goes through the
// scheduling goroutine).
func BenchmarkPipe(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"off", Config{}},
		{"scheduled", Config{Jitter: time.Nanosecond}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var delivered atomic.Int64
			done := make(chan struct{})
			n := int64(b.N)
			p := NewPipe(bc.cfg, seeded(1), func([]byte) {
				if delivered.Add(1) == n {
					close(done)
				}
			})
			pkt := packet(1, 1400)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				p.Send(pkt)
			}
			<-done
			el := time.Since(start)
			b.StopTimer()
			p.Close()
			b.ReportMetric(float64(b.N)/el.Seconds(), "pkts/s")
		})
	}
}

// BenchmarkPipeDelayError reports how late a delayed packet leaves (p50 and p99
// over the run), one packet in flight at a time, for a 1 ms delay.
func BenchmarkPipeDelayError(b *testing.B) {
	const delay = time.Millisecond
	got := make(chan time.Time, 1)
	p := NewPipe(Config{Delay: delay}, seeded(1), func([]byte) { got <- time.Now() })
	defer p.Close()
	pkt := packet(1, 64)
	late := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		p.Send(pkt)
		late = append(late, (<-got).Sub(t0)-delay)
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Nanoseconds())/1e3, "late-µs/p50")
	b.ReportMetric(float64(late[len(late)*99/100].Nanoseconds())/1e3, "late-µs/p99")
}

// TestDrivenPipe: a driven pipe has no goroutine of its own: it delivers only
// when Deliver is called, every packet due then, and says how long until
// the next; packets due at once (no delay) are handed on
// by Send itself; a closed one holds nothing.
func TestDrivenPipe(t *testing.T) {
	t.Parallel()
	var c collector
	const delay = 2 * time.Millisecond
	p := NewDrivenPipe(Config{Delay: delay, Jitter: time.Millisecond}, seeded(5), c.out)
	const n = 200
	for i := uint64(0); i < n; i++ {
		p.Send(packet(i, 64))
	}
	time.Sleep(2 * (delay + time.Millisecond)) // all due now: still nothing may leave without Deliver
	if c.len() != 0 {
		t.Fatalf("a driven pipe delivered %d packets on its own", c.len())
	}
	if wait, held := p.Deliver(); held || wait != 0 {
		t.Errorf("after delivering all that was due: held %v (wait %v), want nothing held", held, wait)
	}
	if c.len() != n {
		t.Fatalf("Deliver handed on %d of %d packets due", c.len(), n)
	}
	if l := p.Lateness(); l.Count != n {
		t.Errorf("lateness counts %d packets, want %d", l.Count, n)
	}
	// A packet held: Deliver says how long until it is due, within its delay
	// and jitter.
	// A machine that stalls the test for over the packet's delay (at least
	// delay - jitter) makes it due by the time Deliver runs: then it must
	// have been handed on, and only then.
	sent := time.Now()
	p.Send(packet(n, 64))
	wait, held := p.Deliver()
	switch due := time.Since(sent) >= delay-time.Millisecond; {
	case held && (wait <= 0 || wait > delay+time.Millisecond):
		t.Errorf("one packet held for %v ± 1ms: Deliver says wait %v", delay, wait)
	case held && c.len() != n:
		t.Error("Deliver handed on a packet not due")
	case !held && !due:
		t.Errorf("one packet held for %v ± 1ms, Deliver after %v: says nothing held", delay, time.Since(sent))
	case !held && c.len() != n+1:
		t.Errorf("a packet due after a stall of %v: Deliver handed on %d, want %d", time.Since(sent), c.len(), n+1)
	}
	p.Close()
	if _, held := p.Deliver(); held {
		t.Error("a closed driven pipe still holds packets")
	}

	// No delay (a reordered packet, say): Send hands it on at once.
	var direct collector
	q := NewDrivenPipe(Config{Reorder: 1, Delay: time.Hour}, seeded(6), direct.out)
	defer q.Close()
	q.Send(packet(1, 64))
	if direct.len() != 1 {
		t.Errorf("a packet due at once: %d delivered by Send, want 1", direct.len())
	}
}
