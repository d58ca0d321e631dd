// Package gstate tells tests how a goroutine is waiting, from the runtime's
// own stack dump: whether a read is parked in the netpoller ("IO wait") or in
// a system call, say.
package gstate

import (
	"runtime"
	"strings"
)

// Of is the scheduler state ("IO wait", "syscall", "running", "runnable"...)
// of the first goroutine whose stack holds frame (a function's qualified name
// with its opening parenthesis, e.g. "udp.(*Server).Serve("), or "" when
// none does.
func Of(frame string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, frame) {
			continue
		}
		if i, j := strings.Index(g, "["), strings.Index(g, "]"); i >= 0 && j > i {
			return strings.SplitN(g[i+1:j], ",", 2)[0]
		}
	}
	return ""
}
