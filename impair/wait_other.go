//go:build !linux

package impair

import (
	"runtime"

	"github.com/netduel/netduel/internal/clock"
)

// waiter is the portable wait: a Go timer, short precise sleeps and yields.
type waiter struct{ *portableWaiter }

func newWaiter() *waiter { return &waiter{newPortableWaiter()} }

func (w *waiter) close() {}

func precise() { clock.Precise() }

// Realtime locks the goroutine to its thread with precise sleeps.
func Realtime() { precise() }

// SpareProcs does nothing off Linux.
func SpareProcs(int) {}

func addSpareProcs()     {}
func releaseSpareProcs() {}

// Yield lets other goroutines run first.
func Yield() { runtime.Gosched() }
