// Package syncw serialises writes from several goroutines (server logs, a
// child process's output) to one writer.
package syncw

import (
	"io"
	"sync"
)

// Writer passes each Write to W, one at a time.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// New returns a Writer for w.
func New(w io.Writer) *Writer { return &Writer{W: w} }

// Write writes p to the underlying writer, holding the lock.
func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}
