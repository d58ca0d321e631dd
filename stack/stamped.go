package stack

import (
	"io"
	"time"
)

// Stamped is a ping-pong client's reader and writer that notes when its last
// request went out and its last reply came in, as close to the system calls
// as the reader allows: inside them for a Blocking (just before the send's
// system call, just after the receive's), around Write and Read otherwise.
// A round trip is then the time between its two system calls, as sockperf
// times its own (the send time just before sendto, the receive time once the
// reply's header is in), and not the framing, checks and locking around
// them: those cost a Go client 0.3-0.7 µs a round trip on the VM we measure
// on, which a ping-pong of ~9 µs otherwise counted as the network's. The
// replies are decoded and verified as before, after the stamp.
//
// Reads and writes are not safe for concurrent use: one goroutine sends the
// requests and reads their replies.
type Stamped struct {
	r          DeadlineReader
	w          io.Writer
	b          *Blocking // r and w, stamping its own system calls; nil: stamped here
	sent, read time.Time
}

// NewStamped reads r (from Receiver) and writes c, the connection r was made
// for: through r itself when it is a Blocking (the netpoller no longer
// watches the socket then), which then stamps its own system calls
// (SetStamps).
func NewStamped(r DeadlineReader, c io.Writer) *Stamped {
	s := &Stamped{r: r, w: c}
	if b, ok := r.(*Blocking); ok && b != nil {
		b.SetStamps(true)
		s.b, s.w = b, b
	}
	return s
}

// Write writes p, noting when.
func (s *Stamped) Write(p []byte) (int, error) {
	if s.b == nil {
		s.sent = time.Now()
	}
	return s.w.Write(p)
}

// Read reads into p, noting when it returned data.
func (s *Stamped) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.b == nil && n > 0 {
		s.read = time.Now()
	}
	return n, err
}

// SetReadDeadline sets the reader's deadline.
func (s *Stamped) SetReadDeadline(t time.Time) error { return s.r.SetReadDeadline(t) }

// Sent is when the last Write began sending (zero before the first).
func (s *Stamped) Sent() time.Time {
	if s.b != nil {
		sent, _ := s.b.stampsAt()
		return sent
	}
	return s.sent
}

// Received is when the last Read that returned data got it (zero before
// the first).
func (s *Stamped) Received() time.Time {
	if s.b != nil {
		_, read := s.b.stampsAt()
		return read
	}
	return s.read
}
