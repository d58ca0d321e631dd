//go:build !linux

package impair

import "time"

func preciseTimers() {}

// preciseSleep falls back to the runtime's sleep off Linux.
func preciseSleep(d time.Duration) { time.Sleep(d) }
