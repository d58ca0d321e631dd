package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/report"
)

// startProgress shows, on a terminal's stderr, the current test and link, its
// elapsed and total time and a live rate, redrawn in place four times a second.
// The returned func stops it and clears the line; call it before anything else
// is written to the terminal (the results on stdout share its screen). Calling
// it again does nothing.
func startProgress(w io.Writer, c *duel.Client, tests int, where *atomic.Pointer[string]) func() {
	var (
		mu      sync.Mutex
		spec    duel.TestSpec
		started time.Time
		index   int
		live    atomic.Uint64
	)
	c.Live = &live
	c.Progress = func(s duel.TestSpec) {
		mu.Lock()
		spec, started = s, time.Now()
		index++
		mu.Unlock()
		live.Store(0)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
			mu.Lock()
			s, st, i := spec, started, index
			mu.Unlock()
			if i == 0 {
				continue
			}
			el := time.Since(st)
			// Live counts round trips for a kind that has them, else bytes sent.
			rate := report.FormatRate(float64(live.Load())*8/el.Seconds()) + " sent"
			if k := s.Kind(); k != nil && k.Has(duel.FigRoundTrips) {
				rate = fmt.Sprintf("%.0f round trips/s", float64(live.Load())/el.Seconds())
			}
			fmt.Fprintf(w, "\r\033[K[%d/%d] %s %s over %s  %.1fs / %.1fs  %s",
				i, tests, strings.ToUpper(string(s.Proto)), s.Test, *where.Load(), min(el, s.Duration).Seconds(), s.Duration.Seconds(), rate)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
