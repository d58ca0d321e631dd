package stats

import "time"

// SendReport is a sender's view of one flow.
type SendReport struct {
	Frames    uint64        // frames handed to the stack
	Bytes     uint64        // frame bytes (headers and bodies) handed to the stack
	BodyBytes uint64        // body bytes among them
	Duration  time.Duration // first send to the end of the last send
	Refused   uint64        // sends the local stack refused (for example ENOBUFS), not retried
	// Unreachable are sends that failed with an ICMP error for an earlier
	// datagram (port or host unreachable), not retried.
	Unreachable uint64
	Start       time.Time // the first send began
}

// OfferedRate returns the rate, in bits per second, at which frames were handed
// to the stack: what a UDP sender offered to the network.
func (s SendReport) OfferedRate() float64 { return Rate(s.Bytes, s.Duration) }

// Receiver accounts for the data frames of one flow at its receiver: sequence
// accounting, RFC 3550 jitter, verified body bytes and the arrival span.
// It is not safe for concurrent use.
type Receiver struct {
	seq         *SeqTracker
	jitter      Jitter
	bodyBytes   uint64
	wireBytes   uint64
	first, last time.Time
	arrivals    uint64
	unique      uint64 // intact frames not seen before
	iv          intervals
	st          stream // a byte stream's arrivals (TCP), after StartStream
}

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver { return &Receiver{seq: NewSeqTracker(0)} }

// StreamWindow is a stream receiver's sequence window (NewStreamReceiver):
// a stream delivers its frames in order, so the window only has to place a
// lying sender's numbers, and 8 KiB of bitmap does that, where a datagram
// receiver's DefaultWindow takes 128 KiB per session.
const StreamWindow = 1 << 16

// NewStreamReceiver returns a Receiver for a stream's frames (see
// StreamWindow).
func NewStreamReceiver() *Receiver { return &Receiver{seq: NewSeqTracker(StreamWindow)} }

// SetInterval makes the Receiver record per-interval figures, every d from the
// first arrival (d <= 0: none), for a run of total (arrivals after it join the
// last interval).
func (r *Receiver) SetInterval(d, total time.Duration) { r.iv = newIntervals(d, total, time.Time{}) }

// SetIntervalFrom is SetInterval with intervals counted from start (for a
// stream, when its connection was accepted) rather than from the first arrival.
func (r *Receiver) SetIntervalFrom(d, total time.Duration, start time.Time) {
	r.iv = newIntervals(d, total, start)
}

// Frame records a frame whose CRC was valid. bodyOK says whether its body matched
// the expected pattern; one that did not counts as corrupt. sentNs is the sender's
// timestamp and now the arrival time.
func (r *Receiver) Frame(seq uint64, sentNs int64, now time.Time, wireLen, bodyLen int, bodyOK bool) {
	off := r.st.consumed
	r.st.consumed += uint64(wireLen)
	r.wireBytes += uint64(wireLen)
	if !bodyOK {
		r.seq.AddCorrupt()
		return
	}
	if r.arrivals == 0 {
		r.first = now
	}
	r.last = now
	r.arrivals++
	o := r.seq.Add(seq)
	if o != OutcomeDuplicate {
		r.unique++
		r.bodyBytes += uint64(bodyLen)
		r.jitter.Add(sentNs, now.UnixNano())
	}
	if r.iv.enabled() {
		b := r.iv.at(now)
		b.frames++
		if o != OutcomeDuplicate {
			b.unique++
			if r.st.on {
				// Each body byte counts in the interval it arrived in.
				end := off + uint64(wireLen)
				r.credit(end-uint64(bodyLen), end)
			} else {
				b.body += uint64(bodyLen)
			}
		}
		if !b.hasSeq || seq > b.maxSeq {
			b.maxSeq, b.hasSeq = seq, true
		}
		if !r.st.on && r.jitter.n > 1 {
			// Jitter is a datagram flow's: a stream's frames are cut
			// from a byte stream, and their spacing is the reader's.
			b.jitter, b.hasJitter = r.jitter.j, true
		}
	}
}

// First returns when the flow's first byte arrived (a stream, after
// StartStream) or its first intact frame (datagrams); zero if none.
func (r *Receiver) First() time.Time {
	if r.st.on {
		return r.st.firstByte
	}
	return r.first
}

// Unique returns how many distinct intact frames have arrived so far.
func (r *Receiver) Unique() uint64 { return r.unique }

// Corrupt records a frame that failed its CRC.
func (r *Receiver) Corrupt(wireLen int) {
	r.st.consumed += uint64(wireLen)
	r.wireBytes += uint64(wireLen)
	r.seq.AddCorrupt()
}

// RecvReport is a receiver's view of one flow.
// Its JSON is the server's report on the control protocol (docs/protocol.md).
type RecvReport struct {
	Counts
	BodyBytes uint64 `json:"body_bytes"` // verified body bytes of distinct frames
	WireBytes uint64 `json:"wire_bytes"` // every byte received, duplicates and corrupt frames included
	// Span is from the first arrival to the last intact one: for a stream the
	// first byte, for datagrams the first intact frame.
	Span      time.Duration `json:"span_ns"`
	Last      time.Time     `json:"-"` // the last intact arrival (zero if none)
	Jitter    JitterSummary `json:"jitter"`
	Intervals []Interval    `json:"intervals,omitempty"` // with SetInterval
}

// Report returns the receiver's view, given the number of frames the sender says
// it sent.
func (r *Receiver) Report(sent uint64) RecvReport {
	rep := RecvReport{
		Counts:    r.seq.Counts(sent),
		BodyBytes: r.bodyBytes,
		WireBytes: r.wireBytes,
		Jitter:    r.jitter.Summary(),
	}
	if r.iv.enabled() {
		r.iv.pad() // a report is the run's end
		rep.Intervals = r.iv.list()
	}
	rep.Last = r.last
	if first := r.First(); r.arrivals > 0 && !first.IsZero() && (r.st.on || r.arrivals > 1) {
		rep.Span = max(0, r.last.Sub(first))
	}
	return rep
}

// Goodput returns verified body bits per second over the longer of the
// receiver's arrival span and the sender's sending time: data still queued when the
// sender stops (a slow link, a full socket buffer) stretches the span, and a
// receiver that saw only part of the run cannot claim a shorter one.
func (r RecvReport) Goodput(sending time.Duration) float64 {
	return Rate(r.BodyBytes, max(r.Span, sending))
}
