//go:build !linux

package stack

// SetRecvLowat reports false off Linux: readers are woken per arrival.
func SetRecvLowat(any, int) bool { return false }

// HasUnread reports false off Linux: it is not known.
func HasUnread(any) bool { return false }
