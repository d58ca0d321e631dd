package frame

import "io"

// Tap makes r read the rest of its stream through wrap(the current source),
// for example to see when bytes arrive, and returns how many bytes r has read
// from the stream already that Next has not returned yet.
func (r *Reader) Tap(wrap func(io.Reader) io.Reader) (buffered int) {
	r.r = wrap(r.r)
	return r.end - r.start
}
