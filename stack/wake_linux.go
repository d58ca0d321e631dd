package stack

import "syscall"

// wakeEvery is how many raw tries a Blocking makes between calls to
// wakeMonitor: 0.5 ms of a spinning read's empty tries on the VM we measure
// on, a few ms of round trips; a raw blocking read that waited PollInterval
// in vain calls it at once.
const wakeEvery = 1024

// tellRuntime counts a read's raw tries and calls wakeMonitor every
// wakeEvery of them, and at once after a raw blocking try that waited
// PollInterval in vain (emptyWait).
func (b *Blocking) tellRuntime(tries uint64, emptyWait bool) {
	b.rawTries += tries
	if b.rawTries >= wakeEvery || emptyWait {
		b.rawTries = 0
		wakeMonitor()
	}
}

// wakeMonitor makes one ordinary system call, whose entry wakes the
// runtime's monitor thread (sysmon) if it sleeps. A goroutine that only
// makes raw calls never tells the runtime anything: when it was the one
// the netpoller woke and it keeps its P for good (spinning, or blocking raw),
// no thread was left waiting in the netpoller and the monitor, asleep since
// every P had been idle, slept on until its next timer: the process's other
// sockets went unread for seconds (a server's new clients and its other
// sessions' control connections; TestUDPLatencySessionLeavesServerResponsive).
// Awake, the monitor polls the network every 10 ms while the P is held.
func wakeMonitor() { syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0) }
