//go:build unix && !linux

package main

import "syscall"

// sysProcAttr puts a child in its own process group, so that it can be stopped
// with all of its children.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// stealTime is unknown here.
func stealTime() (float64, bool) { return 0, false }
