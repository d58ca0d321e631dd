package duel

import (
	"context"
	"testing"
)

func TestBisectRate(t *testing.T) {
	cases := []struct {
		name     string
		capacity float64 // rates above it lose too much
		ceiling  float64 // what an unpaced sender achieves
		lo, hi   float64 // the answer's bracket
		trials   int     // at most
	}{
		{"unpaced passes", 5e9, 3e9, 0, 0, 1},
		{"capacity 700M", 700e6, 3e9, 0.97 * 700e6, 700e6, 1 + searchSteps},
		{"capacity 2.9G", 2.9e9, 3e9, 0.97 * 2.9e9, 2.9e9, 1 + searchSteps},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			got, err := bisectRate(context.Background(), func(rate float64) (SearchTrial, error) {
				n++
				achieved := rate
				if rate == 0 {
					achieved = tc.ceiling
				}
				return SearchTrial{BitrateBps: rate, OfferedBps: achieved, Pass: achieved <= tc.capacity}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got < tc.lo || got > tc.hi {
				t.Fatalf("found %v, want within [%v, %v]", got, tc.lo, tc.hi)
			}
			if n > tc.trials {
				t.Fatalf("%d trials, want at most %d", n, tc.trials)
			}
		})
	}
}
