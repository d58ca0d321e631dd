//go:build unix && !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group, so that it can be stopped
// with all of its children.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// procCPU: another process's CPU time needs Linux's /proc here.
func procCPU(int) (time.Duration, error) {
	return 0, errors.New("a server's CPU time is read from /proc: Linux only")
}
