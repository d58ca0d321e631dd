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
// write. Each thread gets its CPUs back afterwards (see pinned).
func cacheLineRTT(cpus [2]int) (float64, bool) {
	var line paddedLine
	var stop atomic.Bool
	echoReady := make(chan bool, 1)
	done := make(chan []float64, 1)
	go func() { // the echo side
		ok := pinned(cpus[1], func() {
			echoReady <- true
			for want := int64(1); ; want += 2 {
				for line.v.Load() != want {
					if stop.Load() {
						return
					}
				}
				line.v.Store(want + 1)
			}
		})
		if !ok {
			echoReady <- false
		}
	}()
	go func() { // the timing side
		if !<-echoReady || !pinned(cpus[0], func() { done <- timeBursts(&line, &stop) }) {
			stop.Store(true)
			done <- nil
		}
	}()
	ns := <-done
	if len(ns) == 0 {
		return 0, false
	}
	slices.Sort(ns)
	return ns[len(ns)/2], true
}

// timeBursts times probeBursts bursts of exchanges on line with the echo
// side, nil if they outlast probeLimit; it stops the echo side when done.
func timeBursts(line *paddedLine, stop *atomic.Bool) []float64 {
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
					return nil
				}
			}
			next += 2
		}
		ns = append(ns, float64(time.Since(t0).Nanoseconds())/probeExchanges)
	}
	return ns
}

// pinned runs fn on the calling goroutine's thread kept on cpu, then gives
// the thread its CPUs back and lets it go; false (fn not run) where the
// thread cannot be pinned. The thread must outlive fn: a goroutine that
// exits locked to its thread ends the thread, and a server child started
// from that thread (the servers' Pdeathsig is the parent thread's death,
// not the process's) was killed with it: netduel serve, iperf3 -s and
// sockperf servers died of SIGKILL after a probe.
func pinned(cpu int, fn func()) bool {
	runtime.LockOSThread()
	var was, set unix.CPUSet
	if unix.SchedGetaffinity(0, &was) != nil {
		runtime.UnlockOSThread()
		return false
	}
	set.Set(cpu)
	if unix.SchedSetaffinity(0, &set) != nil {
		runtime.UnlockOSThread()
		return false
	}
	fn()
	if unix.SchedSetaffinity(0, &was) == nil {
		runtime.UnlockOSThread()
	} // else the thread stays pinned: better that it ends with the goroutine
	return true
}

// newProbe is the comparison's placement probe, nil where there is none.
func newProbe() (probeFunc, [2]int) {
	cpus, ok := probeCPUs()
	if !ok {
		return nil, cpus
	}
	return func() (float64, bool) { return cacheLineRTT(cpus) }, cpus
}
