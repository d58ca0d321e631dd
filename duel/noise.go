package duel

import (
	"sync"
	"time"
)

// noiseLog bounds the server's log lines about connections that never
// became a session (closed before a valid first frame, refused, an unknown
// cookie, accept errors): a flood of them wrote 6.6 MB of log in 12 s. Up
// to noiseBurst such lines a second are logged; the rest are counted, and
// the first line of a later second says how many were left out.
type noiseLog struct {
	mu      sync.Mutex
	window  time.Time // start of the current second
	n       int       // lines logged in it
	dropped int       // lines left out since the last said so
}

const noiseBurst = 20

// admit says whether a line may be logged at now, and how many lines were
// left out before it (to say so first).
func (l *noiseLog) admit(now time.Time) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.n = now, 0
	}
	if l.n >= noiseBurst {
		l.dropped++
		return false, 0
	}
	l.n++
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

// noisef logs a line about a connection that is not a session, within
// noiseLog's bound.
func (s *Server) noisef(format string, a ...any) {
	ok, dropped := s.noise.admit(time.Now())
	if !ok {
		return
	}
	if dropped > 0 {
		s.cfg.Logf("... %d more lines about connections left out (at most %d a second)", dropped, noiseBurst)
	}
	s.cfg.Logf(format, a...)
}
