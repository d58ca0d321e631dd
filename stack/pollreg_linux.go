package stack

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Quieting the netpoller while a Blocking reads.
//
// Go registers every socket with its netpoller's epoll set once, edge
// triggered, for reading and writing. A socket read through a Blocking
// stays registered, so every arrival also woke whichever thread was parked
// in epoll_wait (on an idle process there always is one), and every UDP send,
// once its buffer was freed, woke it again: two extra thread wake-ups per
// round trip on each side, on a 2-core machine, measured with strace (2
// epoll_pwait returns per echoed datagram on the server). quiet takes the
// wake-ups out: it narrows the socket's registration, in place, to what the
// Blocking does not do itself (EPOLL_CTL_MOD with the runtime's own data), and
// loud puts the runtime's registration back exactly as it was.
//
// The registration is read from /proc/self/fdinfo (the kernel lists each
// epoll set's descriptors there: fd, events, data, inode), the only place
// the runtime's epoll descriptor and its per-socket data can be had from
// outside the runtime. Where /proc is not mounted, or the socket is found in
// more than one epoll set, nothing changes and the Blocking works as before,
// with the extra wake-ups. Both calls run inside the socket's RawConn.Control,
// so the descriptor cannot be closed (and its number reused) meanwhile.

// pollReg is one descriptor's registration in one epoll set.
type pollReg struct {
	epfd, fd int
	events   uint32
	data     uint64
}

// runtimeEpoll caches the descriptor of the epoll set last found holding a
// socket (the runtime's: it has one), tried first next time.
var runtimeEpoll atomic.Int64

// findPollReg finds fd's registration: the one epoll set of this process that
// holds fd with the same inode.
func findPollReg(fd int) (pollReg, bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return pollReg{}, false
	}
	if ep := int(runtimeEpoll.Load()); ep > 0 {
		if r, ok := pollRegIn(ep, fd, st.Ino); ok {
			return r, true
		}
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return pollReg{}, false
	}
	var found []pollReg
	for _, e := range ents {
		ep, err := strconv.Atoi(e.Name())
		if err != nil || ep == fd {
			continue
		}
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || l != "anon_inode:[eventpoll]" {
			continue
		}
		if r, ok := pollRegIn(ep, fd, st.Ino); ok {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return pollReg{}, false
	}
	runtimeEpoll.Store(int64(found[0].epfd))
	return found[0], true
}

// pollRegIn reads fd's registration in epoll set ep from its fdinfo
// ("tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x").
func pollRegIn(ep, fd int, ino uint64) (pollReg, bool) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(ep))
	if err != nil {
		return pollReg{}, false
	}
	return parsePollReg(string(b), ep, fd, ino)
}

// parsePollReg finds fd (of inode ino) in an epoll set's fdinfo text.
func parsePollReg(info string, ep, fd int, ino uint64) (pollReg, bool) {
	for _, line := range strings.Split(info, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "tfd:" || f[2] != "events:" || f[4] != "data:" {
			continue
		}
		if tfd, err := strconv.Atoi(f[1]); err != nil || tfd != fd {
			continue
		}
		ev, err1 := strconv.ParseUint(f[3], 16, 32)
		data, err2 := strconv.ParseUint(f[5], 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		var inoOK bool
		for _, x := range f[6:] {
			if v, ok := strings.CutPrefix(x, "ino:"); ok {
				n, err := strconv.ParseUint(v, 16, 64)
				inoOK = err == nil && n == ino
			}
		}
		if !inoOK {
			continue
		}
		return pollReg{epfd: ep, fd: fd, events: uint32(ev), data: data}, true
	}
	return pollReg{}, false
}

// modify sets the registration's interest to events, keeping its data.
func (r pollReg) modify(events uint32) error {
	ev := unix.EpollEvent{Events: events}
	// epoll_event's data is one 64-bit word where x/sys/unix puts Fd and
	// Pad (packed on amd64 and 386, aligned elsewhere).
	*(*uint64)(unsafe.Pointer(&ev.Fd)) = r.data
	return unix.EpollCtl(r.epfd, unix.EPOLL_CTL_MOD, r.fd, &ev)
}

// quietEvents is the interest a socket keeps while a Blocking reads it: no
// reads (the Blocking's own), and for datagrams no writes either (the
// Blocking sends them; a datagram socket signals writability after every
// send). A stream's writes stay with the net.Conn and the netpoller, which
// a TCP socket wakes only once its send buffer had filled.
func quietEvents(events uint32, stream bool) uint32 {
	events &^= unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLPRI
	if !stream {
		events &^= unix.EPOLLOUT
	}
	return events
}
