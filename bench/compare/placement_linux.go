package main

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// probeCPUs are the first two CPUs this process may run on; false with fewer.
func probeCPUs() ([2]int, bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return [2]int{}, false
	}
	var cpus []int
	for i := 0; i < len(set)*64 && len(cpus) < 2; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 || runtime.GOMAXPROCS(0) < 2 {
		return [2]int{}, false
	}
	return [2]int{cpus[0], cpus[1]}, true
}

// paddedLine is one atomic word alone on its cache line.
type paddedLine struct {
	_ [64]byte
	v atomic.Int64
	_ [64]byte
}

const (
	probeExchanges = 20000           // per burst: ~1-8 ms
	probeBursts    = 3               // the median burst counts
	probeLimit     = 2 * time.Second // a probe that takes longer gives up
)

// cacheLineRTT is the median, over probeBursts bursts, of how long a cache
// line takes to go from one of cpus to the other and back (ns): a thread
// pinned to each CPU bounces one atomic word, each waiting for the other's
// write. Both threads end with the probe (their goroutines exit locked to
// them), so the pinning goes nowhere else.
func cacheLineRTT(cpus [2]int) (float64, bool) {
	var line paddedLine
	var stop atomic.Bool
	echoReady := make(chan bool, 1)
	done := make(chan []float64, 1)
	go func() { // the echo side
		runtime.LockOSThread()
		if !pinTo(cpus[1]) {
			echoReady <- false
			return
		}
		echoReady <- true
		for want := int64(1); ; want += 2 {
			for line.v.Load() != want {
				if stop.Load() {
					return
				}
			}
			line.v.Store(want + 1)
		}
	}()
	go func() { // the timing side
		runtime.LockOSThread()
		if !<-echoReady || !pinTo(cpus[0]) {
			stop.Store(true)
			done <- nil
			return
		}
		defer stop.Store(true)
		deadline := time.Now().Add(probeLimit)
		var ns []float64
		next := int64(1)
		for range probeBursts {
			t0 := time.Now()
			for i := 0; i < probeExchanges; i++ {
				line.v.Store(next)
				for spins := 0; line.v.Load() != next+1; spins++ {
					if spins&0xffff == 0xffff && time.Now().After(deadline) {
						done <- nil
						return
					}
				}
				next += 2
			}
			ns = append(ns, float64(time.Since(t0).Nanoseconds())/probeExchanges)
		}
		done <- ns
	}()
	ns := <-done
	if len(ns) == 0 {
		return 0, false
	}
	slices.Sort(ns)
	return ns[len(ns)/2], true
}

// pinTo keeps the calling thread on cpu.
func pinTo(cpu int) bool {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set) == nil
}

// newProbe is the comparison's placement probe, nil where there is none.
func newProbe() (probeFunc, [2]int) {
	cpus, ok := probeCPUs()
	if !ok {
		return nil, cpus
	}
	return func() (float64, bool) { return cacheLineRTT(cpus) }, cpus
}
