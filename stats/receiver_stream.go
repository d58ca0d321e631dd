package stats

import "time"

// stream is a Receiver's record of a byte stream (TCP): when bytes arrived, so
// that a frame's verified body bytes are counted when they arrived rather than
// when the frame was complete, and a flow's span starts at its first byte.
//
// Offsets count stream bytes from where the Receiver started to watch the
// stream; frames lie back to back from offset 0.
type stream struct {
	on        bool
	read      uint64    // stream bytes read so far
	consumed  uint64    // stream bytes accounted for as frames so far
	firstByte time.Time // when the first byte arrived
	lastRead  time.Time // when the latest read returned
	// starts[i] is the offset of the first byte that arrived in interval i
	// (intervals without arrivals start where the next one does).
	starts []uint64
}

// StartStream makes the Receiver account for a byte stream: call it before
// the first Read, with the bytes the stream's reader already holds (they
// arrived at or before now). Then report every read with Read and every frame,
// in stream order, with Frame or Corrupt.
func (r *Receiver) StartStream(now time.Time, buffered int) {
	r.st.on = true
	if buffered > 0 {
		r.Read(now, buffered)
	}
}

// Read records n stream bytes read at now.
func (r *Receiver) Read(now time.Time, n int) {
	if n <= 0 {
		return
	}
	s := &r.st
	if s.firstByte.IsZero() {
		s.firstByte = now
	}
	if r.iv.enabled() {
		r.iv.at(now) // the interval clock starts at the first byte, unless set
		i := r.iv.index(now)
		// A read's bytes arrived between the previous read and this one: when
		// that spans intervals' starts (a reader held up by a busy machine),
		// they are shared out in proportion to the time in each.
		prev := s.lastRead
		for len(s.starts) <= i {
			at := s.read
			if !prev.IsZero() && now.After(prev) {
				edge := r.iv.start.Add(time.Duration(len(s.starts)) * r.iv.every)
				if f := float64(edge.Sub(prev)) / float64(now.Sub(prev)); f > 0 {
					at += uint64(min(f, 1) * float64(n))
				}
			}
			s.starts = append(s.starts, at)
		}
	}
	s.lastRead = now
	s.read += uint64(n)
}

// credit adds body bytes at stream offsets [from, to) to the intervals in which
// they arrived.
func (r *Receiver) credit(from, to uint64) {
	s := &r.st
	for i := range s.starts {
		lo := max(from, s.starts[i])
		hi := to
		if i+1 < len(s.starts) {
			hi = min(hi, s.starts[i+1])
		}
		if hi > lo {
			r.iv.bucket(i).body += hi - lo
		}
	}
}
