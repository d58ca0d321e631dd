package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group, so that it can be stopped
// with all of its children, and has the kernel kill it should this program die
// without the chance to stop it (SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// procCPU is the user + system CPU time process pid has used, from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}
