//go:build !linux

package stack

// SetRecvLowat reports false off Linux: readers are woken per arrival.
func SetRecvLowat(any, int) bool { return false }
