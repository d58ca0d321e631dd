package main

import "syscall"

// sysProcAttr puts a child in its own process group, so that it can be stopped
// with all of its children, and has the kernel kill it should this program die
// without the chance to stop it (SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
