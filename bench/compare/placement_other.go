//go:build unix && !linux

package main

// newProbe: the placement probe pins threads to CPUs, which Linux alone
// offers here; without it busy-poll pairs run once, unprobed.
func newProbe() (probeFunc, [2]int) { return nil, [2]int{} }
