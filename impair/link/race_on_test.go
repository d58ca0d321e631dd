//go:build race

package link

// raceEnabled: the race detector allocates on its own; allocation counts mean nothing under it.
const raceEnabled = true
