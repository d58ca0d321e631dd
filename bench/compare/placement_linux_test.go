package main

import (
	"runtime"
	"testing"
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
