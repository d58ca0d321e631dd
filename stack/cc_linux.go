package stack

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// CongestionUsable reports whether this process may pin TCP congestion control
// cc on its sockets: an unprivileged process may only use the algorithms in
// /proc/sys/net/ipv4/tcp_allowed_congestion_control (and any needs its module
// loaded). It tries it on a socket that is never bound or connected.
func CongestionUsable(cc string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
}

// DefaultCongestion returns the system's default TCP congestion control, or ""
// where it cannot be read.
func DefaultCongestion() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
