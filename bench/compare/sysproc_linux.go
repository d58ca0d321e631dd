package main

import (
	"os"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so that it can be stopped
// with all of its children, and has the kernel kill it should this program die
// without the chance to stop it (SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stealTime is the time the hypervisor has taken from this machine's CPUs
// (/proc/stat's steal, all CPUs), in ms; false where it cannot be read.
func stealTime() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	return parseSteal(string(b))
}
