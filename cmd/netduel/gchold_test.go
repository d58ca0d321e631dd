package main

import (
	"io"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestPortCheckHoldsCollections: a port check makes no garbage collection
// while it binds and renders (see holdCollections), though its results
// alone (30,000 ports: 42 MB) outgrow the heap's goal, as they did in the old
// code, which collected then; and it restores the collector's settings
// afterwards. A 20 MB ballast raises the goal above what the command's setup
// allocates before the check (several MB with -race). Not parallel: it counts
// the process's collections.
func TestPortCheckHoldsCollections(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prevPercent)
	prevLimit := debug.SetMemoryLimit(-1)
	const results = 30000 * 8 * 176 // ports × (protocols × addresses) × sizeof(port.Result)
	ballast := make([]byte, 20<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if live := before.HeapAlloc; live >= results {
		t.Skipf("%d MB live: the check's results would not outgrow the heap's goal", live>>20)
	}
	var out countWriter
	code := run([]string{"netduel", "port", "check", "20000-49999", "-o", "json"}, &out, io.Discard)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ballast)
	if code != exitOK && code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	if out < 30000*8*100 {
		t.Fatalf("%d bytes of report for 30,000 ports", out)
	}
	if n := after.NumGC - before.NumGC; n != 0 {
		t.Errorf("%d garbage collections during the port check, want 0", n)
	}
	if p := debug.SetGCPercent(prevPercent); p != 100 {
		t.Errorf("GOGC after the check: %d, want 100 restored", p)
	}
	if l := debug.SetMemoryLimit(-1); l != prevLimit {
		t.Errorf("memory limit after the check: %d, want %d restored", l, prevLimit)
	}
}

// countWriter counts what is written to it and keeps none of it.
type countWriter int

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}
