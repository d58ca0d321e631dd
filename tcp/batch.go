package tcp

import (
	"sync"
	"time"
)

// A throughput receiver woken by every arrival drains a few segments and
// sleeps again: at tens of Gbit/s on loopback a third of its CPU went to
// wake-ups and half-empty reads. wakeBatch raises the socket's SO_RCVLOWAT
// with the stream's rate, so that a wake-up finds about batchSpan of traffic
// (at most the receiver's read length) waiting: fewer, fuller reads (server
// CPU per GB 0.20-0.26 s against 0.26-0.30 without, interleaved runs at ~25
// Gbit/s).
//
// What it costs is when arrivals are seen: at a steady rate a byte is read
// at most about batchSpan after it arrived; when the stream slows down
// suddenly or pauses, a read waits at most batchStall before the watchdog
// puts the kernel's default (wake at every arrival) back. The stream's end
// wakes the reader at once whatever the setting.
type wakeBatch struct {
	set  func(n int) bool // sets SO_RCVLOWAT; false: not possible
	most int              // the largest batch: the receiver's read length

	mu    sync.Mutex
	cur   int       // SO_RCVLOWAT now (1, the kernel's default, to begin with)
	from  time.Time // start of the rate window
	bytes int       // read since from
	watch *time.Timer
	off   bool // set failed, or stopped: never again
}

const (
	batchSpan   = 200 * time.Microsecond // traffic a wake-up should find waiting, at the current rate
	batchWindow = time.Millisecond       // the rate is measured over at least this long
	batchStall  = 2 * time.Millisecond   // no read this long: wake at every arrival again
	batchMin    = 8 << 10                // smaller batches are not worth a system call
)

func newWakeBatch(most int, set func(n int) bool) *wakeBatch {
	w := &wakeBatch{set: set, cur: 1, most: most}
	w.watch = time.AfterFunc(time.Hour, w.stalled)
	w.watch.Stop()
	return w
}

// read accounts for n bytes read at now and adapts SO_RCVLOWAT to the rate.
func (w *wakeBatch) read(now time.Time, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.off {
		return
	}
	if w.from.IsZero() {
		w.from = now
	}
	w.bytes += n
	if el := now.Sub(w.from); el >= batchWindow {
		target := batchTarget(float64(w.bytes)/el.Seconds(), w.most)
		if 4*target > 5*w.cur || 4*target < 3*w.cur {
			w.apply(target)
		}
		w.from, w.bytes = now, 0
	}
	if w.cur > 1 {
		w.watch.Reset(batchStall)
	}
}

// batchTarget is the SO_RCVLOWAT for a stream of rate bytes per second: its
// traffic over batchSpan, in whole 4 KiB, at most limit; 1 (wake per arrival)
// under batchMin.
func batchTarget(rate float64, limit int) int {
	n := int(rate*batchSpan.Seconds()) &^ (4<<10 - 1)
	switch {
	case n < batchMin:
		return 1
	case n > limit:
		return limit
	}
	return n
}

// apply sets SO_RCVLOWAT to n; the caller holds mu.
func (w *wakeBatch) apply(n int) {
	if !w.set(n) {
		w.off = true
		return
	}
	w.cur = n
}

// stalled runs when no read came for batchStall: arrivals wake the reader
// one by one again (setting it wakes the reader now if any bytes wait), and
// the rate is measured afresh.
func (w *wakeBatch) stalled() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.off || w.cur == 1 {
		return
	}
	w.apply(1)
	w.from, w.bytes = time.Time{}, 0
}

// stop ends the watchdog; the socket keeps its last setting.
func (w *wakeBatch) stop() {
	w.mu.Lock()
	w.off = true
	w.mu.Unlock()
	w.watch.Stop()
}
