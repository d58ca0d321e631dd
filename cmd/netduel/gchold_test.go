package main

import (
	"bytes"
	"io"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestPortCheckHoldsCollections: a port check makes no garbage collection
// while it binds and renders (see holdCollections), even with collections
// made as eager as they go (GOGC=1, under which the old code collected at
// once, as its results were allocated), and it restores the collector's
// settings afterwards. Not parallel: it counts the process's collections.
func TestPortCheckHoldsCollections(t *testing.T) {
	prevPercent := debug.SetGCPercent(1)
	prevLimit := debug.SetMemoryLimit(-1)
	defer debug.SetGCPercent(prevPercent)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var out bytes.Buffer
	// 2048 ports: over the count where Check infers (port.inferAbove).
	code := run([]string{"netduel", "port", "check", "20000-22047", "-o", "json"}, &out, io.Discard)
	runtime.ReadMemStats(&after)
	if code != exitOK && code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	if out.Len() < 2048*100 {
		t.Fatalf("%d bytes of report for 2048 ports", out.Len())
	}
	if n := after.NumGC - before.NumGC; n != 0 {
		t.Errorf("%d garbage collections during the port check, want 0", n)
	}
	if p := debug.SetGCPercent(prevPercent); p != 1 {
		t.Errorf("GOGC after the check: %d, want 1 restored", p)
	}
	if l := debug.SetMemoryLimit(-1); l != prevLimit {
		t.Errorf("memory limit after the check: %d, want %d restored", l, prevLimit)
	}
}
