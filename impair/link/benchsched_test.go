//go:build linux

package link

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinProcess sets every thread of the process to the CPUs in s (threads
// made later inherit it from the thread that makes them) and returns the
// set the calling thread had.
func pinProcess(s *unix.CPUSet) (was unix.CPUSet) {
	_ = unix.SchedGetaffinity(0, &was)
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = unix.SchedSetaffinity(tid, s)
		}
	}
	return was
}

// schedWait is where the machine's time went that a benchmark of the delay
// line cannot see from inside: how long this process's real-time threads
// (the link's delivery and reader threads, the benchmark's receiver) were
// runnable but waiting for a CPU (Linux schedstat's run_delay), and the time
// the hypervisor ran something else instead of this machine's CPUs (steal,
// /proc/stat, summed over CPUs). A stall that neither explains is the link's.
type schedWait struct {
	rtRunDelayNs int64
	stealMs      int64
}

func readSchedWait() schedWait {
	var w schedWait
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, t := range tasks {
		st, err := os.ReadFile(filepath.Join(t, "stat"))
		if err != nil {
			continue
		}
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// After the command: state is field 3 of stat(5), policy field 41.
		if len(f) < 39 || f[38] != "1" && f[38] != "2" { // SCHED_FIFO, SCHED_RR
			continue
		}
		ss, err := os.ReadFile(filepath.Join(t, "schedstat"))
		if err != nil {
			continue
		}
		if g := strings.Fields(string(ss)); len(g) >= 2 {
			n, _ := strconv.ParseInt(g[1], 10, 64)
			w.rtRunDelayNs += n
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if f := strings.Fields(line); len(f) > 8 && f[0] == "cpu" {
			n, _ := strconv.ParseInt(f[8], 10, 64)
			w.stealMs = n * 10 // USER_HZ = 100
		}
	}
	return w
}
