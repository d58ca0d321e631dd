package stats

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// shapedStream feeds r a stream of frames of frameLen bytes (header hdr
// bytes) arriving over a link of rate bits/s in reads of one segment (seg bytes),
// for d, from t0, the way tcp.Receive reports them. It returns the bytes read.
func shapedStream(r *Receiver, t0 time.Time, d time.Duration, rate float64, frameLen, hdr, seg int) uint64 {
	r.StartStream(t0, 0)
	perByte := float64(time.Second) * 8 / rate
	var read, framed uint64
	seq := uint64(0)
	for {
		now := t0.Add(time.Duration(float64(read+uint64(seg)) * perByte))
		if now.Sub(t0) > d {
			return read
		}
		r.Read(now, seg)
		read += uint64(seg)
		for framed+uint64(frameLen) <= read {
			r.Frame(seq, 0, now, frameLen, frameLen-hdr, true)
			seq++
			framed += uint64(frameLen)
		}
	}
}

// TestStreamIntervalsSmooth: on a shaped link, a stream's intervals count
// verified body bytes as they arrive: 128 KiB frames on a 12 Mbit/s link take
// 87 ms each, and no 500 ms interval may be above the link's rate or empty
// (counting whole frames at completion zig-zags between 10.5 and 12.6 Mbit/s).
func TestStreamIntervalsSmooth(t *testing.T) {
	t.Parallel()
	const rate, frameLen, hdr, seg = 12e6, 128 << 10, 40, 1448
	for _, every := range []time.Duration{500 * time.Millisecond, time.Second} {
		r := NewReceiver()
		t0 := time.Unix(1000, 0)
		r.SetIntervalFrom(every, 4*time.Second, t0)
		shapedStream(r, t0, 4*time.Second, rate, frameLen, hdr, seg)
		rep := r.Report(0)
		if len(rep.Intervals) != int(4*time.Second/every) {
			t.Fatalf("every %v: %d intervals", every, len(rep.Intervals))
		}
		body := rate * float64(frameLen-hdr) / frameLen
		// One segment's worth of rounding at an interval's edges, and the last
		// frame of a run may still be incomplete at its end.
		slack := float64(seg*8) / every.Seconds()
		for i, it := range rep.Intervals[:len(rep.Intervals)-1] {
			if it.GoodputBps > rate || it.GoodputBps < body-slack {
				t.Errorf("every %v: interval %d: %.2f Mbit/s, want %.2f..%.2f (the link's rate)", every, i, it.GoodputBps/1e6, (body-slack)/1e6, rate/1e6)
			}
		}
	}
}

// TestStreamSpanFromFirstByte: a stream's span starts at its first byte, not
// at its first complete frame (which on a 5 Mbit/s link comes 210 ms later and
// put goodput 11% above the link's rate): goodput is then the link's rate, to
// one segment (the first, which arrived before the span began).
func TestStreamSpanFromFirstByte(t *testing.T) {
	t.Parallel()
	const rate, frameLen, hdr, seg = 5e6, 128 << 10, 40, 1448
	r := NewReceiver()
	t0 := time.Unix(1000, 0)
	read := shapedStream(r, t0, 2*time.Second, rate, frameLen, hdr, seg)
	rep := r.Report(0)
	if !r.First().Equal(t0.Add(time.Duration(float64(seg) * 8 / rate * float64(time.Second)))) {
		t.Errorf("first arrival %v after t0, want the first segment's", r.First().Sub(t0))
	}
	if g := rep.Goodput(0); g > rate*(1+float64(seg)/float64(read)) {
		t.Errorf("goodput %.3f Mbit/s over a %.0f Mbit/s link (span %v, %d bytes)", g/1e6, rate/1e6, rep.Span, rep.BodyBytes)
	}
	if rep.Last.IsZero() || rep.Span != rep.Last.Sub(r.First()) {
		t.Errorf("span %v, last %v", rep.Span, rep.Last)
	}
}

// TestStreamIntervalsHeldUpReader: a reader that a busy machine lets run only
// every 37 ms gets each time the bytes that arrived meanwhile; they count in
// the intervals they arrived in (shared out by time), so intervals stay at the
// link's rate instead of swinging by a read's worth (7% of 500 ms).
func TestStreamIntervalsHeldUpReader(t *testing.T) {
	t.Parallel()
	const rate, frameLen, hdr = 12e6, 128 << 10, 40
	every := 500 * time.Millisecond
	r := NewReceiver()
	t0 := time.Unix(1000, 0)
	r.SetIntervalFrom(every, 4*time.Second, t0)
	r.StartStream(t0, 0)
	var read, framed, seq uint64
	for now := t0.Add(37 * time.Millisecond); now.Sub(t0) <= 4*time.Second; now = now.Add(37 * time.Millisecond) {
		arrived := uint64(now.Sub(t0).Seconds() * rate / 8)
		r.Read(now, int(arrived-read))
		read = arrived
		for framed+frameLen <= read {
			r.Frame(seq, 0, now, frameLen, frameLen-hdr, true)
			seq++
			framed += frameLen
		}
	}
	rep := r.Report(0)
	body := rate * float64(frameLen-hdr) / frameLen
	for i, it := range rep.Intervals[:len(rep.Intervals)-1] {
		if it.GoodputBps > rate*1.002 || it.GoodputBps < body*0.99 {
			t.Errorf("interval %d: %.3f Mbit/s, want %.2f (the link's rate)", i, it.GoodputBps/1e6, body/1e6)
		}
	}
}

// TestStreamReceiverWindow: a stream's receiver keeps an 8 KiB window, not
// a datagram receiver's 128 KiB (a server with 125 TCP throughput sessions
// held 15 MB of windows), and counts a lying sender's frames as a datagram
// receiver counts them: in order, a repeat (a duplicate), one from behind
// the window (late and reordered; the window cannot tell whether it came
// before, so it counts once more as unique).
func TestStreamReceiverWindow(t *testing.T) {
	t.Parallel()
	r := NewStreamReceiver()
	if got := len(r.seq.bits) * 8; got != StreamWindow/8 {
		t.Fatalf("window bitmap %d bytes, want %d", got, StreamWindow/8)
	}
	if got := len(NewReceiver().seq.bits) * 8; got != DefaultWindow/8 {
		t.Fatalf("datagram window bitmap %d bytes, want %d", got, DefaultWindow/8)
	}
	now := time.Unix(1000, 0)
	const n = StreamWindow + 100
	for s := uint64(0); s < n; s++ {
		r.Frame(s, 0, now, 100, 60, true)
	}
	r.Frame(n-1, 0, now, 100, 60, true) // a repeat
	r.Frame(5, 0, now, 100, 60, true)   // from far behind the window
	c := r.Report(n).Counts
	if c.Unique != n+1 || c.Duplicate != 1 || c.Late != 1 || c.Reordered != 1 || c.Lost != 0 {
		t.Fatalf("counts %+v", c)
	}
}

// TestIntervalJitterIsADatagramFlows: a datagram flow's intervals carry
// the RFC 3550 jitter at their end, a real 0 included (frames sent and
// received 9 ms apart), once two frames have arrived; a stream's carry none
// (its frames' spacing is the reader's, not the network's), and neither does
// an interval before the second frame.
func TestIntervalJitterIsADatagramFlows(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	for _, stream := range []bool{false, true} {
		r := intervalReceiver(stream, t0, 100*time.Millisecond, 300*time.Millisecond)
		frame := func(seq uint64, ms int) { arrive(r, stream, seq, t0, ms) }
		frame(0, 50) // interval 0: one frame, no jitter yet
		for i := range 10 {
			frame(uint64(1+i), 105+9*i) // interval 1: evenly spaced, jitter 0
		}
		rep := r.Report(11)
		if len(rep.Intervals) != 3 || rep.Intervals[2].Frames != 0 || rep.Intervals[2].JitterMs != nil {
			t.Fatalf("stream %v: intervals %+v, want 3, the last empty (no jitter)", stream, rep.Intervals)
		}
		if j := rep.Intervals[0].JitterMs; j != nil {
			t.Errorf("stream %v: interval 0 (one frame) has jitter %v", stream, *j)
		}
		j := rep.Intervals[1].JitterMs
		switch {
		case stream && j != nil:
			t.Errorf("a stream's interval has jitter %v ms", *j)
		case !stream && (j == nil || *j != 0):
			t.Errorf("a datagram interval of even arrivals has jitter %v, want a present 0", j)
		}
		b, _ := json.Marshal(rep.Intervals[1])
		if has := strings.Contains(string(b), `"jitter_ms":0`); has == stream {
			t.Errorf("stream %v: interval JSON %s", stream, b)
		}
	}
}

// TestIntervalsCoverTheRun: a flow whose frames stop early still has an
// interval for every slice of its run, with 0 frames: the old code ended
// the list at the last arrival, so a stall at a test's end did not show
// (a 1 s run at 1 kbit/s had one 250 ms interval).
func TestIntervalsCoverTheRun(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	for _, stream := range []bool{false, true} {
		r := intervalReceiver(stream, t0, 250*time.Millisecond, time.Second)
		arrive(r, stream, 0, t0, 10)
		rep := r.Report(1)
		if len(rep.Intervals) != 4 {
			t.Fatalf("stream %v: %d intervals, want 4 (1 s in 250 ms)", stream, len(rep.Intervals))
		}
		for i, iv := range rep.Intervals[1:] {
			if iv.Frames != 0 || iv.GoodputBps != 0 || iv.StartS != 0.25*float64(i+1) {
				t.Errorf("stream %v: interval %d: %+v, want an empty one", stream, i+1, iv)
			}
		}
	}
}

// intervalReceiver returns a datagram or (stream) a stream receiver whose
// intervals of every run for total from t0.
func intervalReceiver(stream bool, t0 time.Time, every, total time.Duration) *Receiver {
	r := NewReceiver()
	if stream {
		r = NewStreamReceiver()
		r.StartStream(t0, 0)
	}
	r.SetIntervalFrom(every, total, t0)
	return r
}

// arrive gives r frame seq (140 bytes, 100 of body, sent ms after t0) as
// arriving ms after t0: a stream's bytes are read first.
func arrive(r *Receiver, stream bool, seq uint64, t0 time.Time, ms int) {
	at := t0.Add(time.Duration(ms) * time.Millisecond)
	if stream {
		r.Read(at, 140)
	}
	r.Frame(seq, int64(ms)*1e6, at, 140, 100, true)
}

// TestIntervalsNoSliver: an interval that does not divide the run exactly
// by a few nanoseconds (--plot's duration/30: 1 s in 33,333,333 ns slices)
// gives 30 intervals, not a 31st of 10 ns whose goodput is one frame over
// nothing (a spike at the plot's end).
func TestIntervalsNoSliver(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		every, total time.Duration
		want         int
	}{
		{time.Second / 30, time.Second, 30},
		{2500 * time.Millisecond / 30, 2500 * time.Millisecond, 30},
		{100 * time.Millisecond, 3 * time.Second, 30},
		{100 * time.Millisecond, 250 * time.Millisecond, 3},
		{time.Second, 1500 * time.Millisecond, 2},
	} {
		for _, stream := range []bool{false, true} {
			r := intervalReceiver(stream, t0, c.every, c.total)
			arrive(r, stream, 0, t0, 10)
			if n := len(r.Report(1).Intervals); n != c.want {
				t.Errorf("stream %v: %v in %v intervals: %d, want %d", stream, c.total, c.every, n, c.want)
			}
		}
	}
}
