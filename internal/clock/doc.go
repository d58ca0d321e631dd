// Package clock has the waits that pacing and the emulated link need to be
// accurate to tens of microseconds. Go's timers (time.Sleep, time.Timer) wake
// up to a millisecond late on Linux, which caps a paced sender at about one
// datagram per millisecond and adds a millisecond to an emulated delay; Sleep
// here uses the kernel's high-resolution timer directly.
package clock
