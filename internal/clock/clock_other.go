//go:build !linux

package clock

import "time"

func Precise() {}

// Hold does nothing off Linux but return a function that does nothing.
func Hold() (release func()) { return func() {} }

// Sleep falls back to the runtime's sleep off Linux.
func Sleep(d time.Duration) { time.Sleep(d) }
