package duel

import (
	"testing"
	"time"
)

// TestNoiseLogBounded: at most noiseBurst lines about connections a second
// are logged, and the first line of a later second says how many were left
// out (a flood of silent connections wrote a line each: 6.6 MB in 12 s).
func TestNoiseLogBounded(t *testing.T) {
	t.Parallel()
	var l noiseLog
	t0 := time.Unix(1000, 0)
	logged := 0
	for i := range 3 * noiseBurst {
		if ok, dropped := l.admit(t0.Add(time.Duration(i) * time.Millisecond)); ok {
			logged++
			if dropped != 0 {
				t.Fatalf("line %d: %d said left out within the first second", i, dropped)
			}
		}
	}
	if logged != noiseBurst {
		t.Fatalf("%d lines logged in a second, want %d", logged, noiseBurst)
	}
	ok, dropped := l.admit(t0.Add(1500 * time.Millisecond))
	if !ok || dropped != 2*noiseBurst {
		t.Fatalf("next second: logged %v, %d said left out, want true and %d", ok, dropped, 2*noiseBurst)
	}
	if _, dropped := l.admit(t0.Add(1600 * time.Millisecond)); dropped != 0 {
		t.Fatalf("the left-out count said twice: %d", dropped)
	}
}
