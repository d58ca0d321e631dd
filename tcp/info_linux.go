package tcp

import (
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ReadInfo returns TCP_INFO and TCP_CONGESTION for conn. ok is false when conn
// is not a kernel TCP socket.
func ReadInfo(conn net.Conn) (Info, bool) {
	sc, isSC := conn.(syscall.Conn)
	if !isSC {
		return Info{}, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Info{}, false
	}
	var (
		info Info
		ok   bool
	)
	_ = raw.Control(func(fd uintptr) {
		ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return
		}
		ok = true
		info.Retransmits = ti.Total_retrans
		info.RTT = time.Duration(ti.Rtt) * time.Microsecond
		info.RTTVar = time.Duration(ti.Rttvar) * time.Microsecond
		info.Cwnd = ti.Snd_cwnd
		info.MSS = ti.Snd_mss
		if cc, err := unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION); err == nil {
			info.Congestion = strings.TrimRight(cc, "\x00")
		}
	})
	return info, ok
}
