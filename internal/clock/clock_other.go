//go:build !linux

package clock

import "time"

func Precise() {}

// Sleep falls back to the runtime's sleep off Linux.
func Sleep(d time.Duration) { time.Sleep(d) }
