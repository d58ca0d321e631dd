package main

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCacheLineRTT(t *testing.T) {
	probe, cpus := newProbe()
	if probe == nil {
		if runtime.GOOS == "linux" && runtime.NumCPU() >= 2 && runtime.GOMAXPROCS(0) >= 2 {
			t.Fatal("Linux with 2 CPUs: want a probe")
		}
		t.Skip("no placement probe here (needs Linux and 2 CPUs)")
	}
	ns, ok := probe()
	// A cache line between two CPUs: tens to hundreds of ns, never under 1
	// (that would be one CPU timing itself) nor over the probe's limit.
	if !ok || ns < 1 || ns > float64(probeLimit.Nanoseconds())/probeExchanges {
		t.Errorf("CPUs %v: %v ns, %v", cpus, ns, ok)
	}
	t.Logf("CPUs %v: a cache line's round trip %.0f ns", cpus, ns)
}

// The probe's threads outlive it, with their CPUs back: a thread that ends
// takes with it the servers started from it (their Pdeathsig), which is how
// a probe once killed netduel serve, iperf3 -s and sockperf servers.
func TestPinnedKeepsThread(t *testing.T) {
	cpus, ok := probeCPUs()
	if !ok {
		t.Skip("needs Linux and 2 CPUs")
	}
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		t.Fatal(err)
	}
	tid := make(chan int, 1)
	var during unix.CPUSet
	go func() {
		if !pinned(cpus[1], func() {
			_ = unix.SchedGetaffinity(0, &during)
			tid <- unix.Gettid()
		}) {
			tid <- 0
		}
	}() // the goroutine ends here: its thread must not
	id := <-tid
	if id == 0 {
		t.Fatal("not pinned")
	}
	if during.Count() != 1 || !during.IsSet(cpus[1]) {
		t.Errorf("during fn: CPUs %v, want only %d", during, cpus[1])
	}
	time.Sleep(100 * time.Millisecond) // a thread that ends is gone by now
	var after unix.CPUSet
	if err := unix.SchedGetaffinity(id, &after); err != nil {
		t.Fatalf("thread %d after the probe: %v (it ended)", id, err)
	}
	if after != was {
		t.Errorf("thread %d after the probe: CPUs %v, want %v back", id, after, was)
	}
	if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(id)); err != nil {
		t.Errorf("thread %d: %v", id, err)
	}
}
