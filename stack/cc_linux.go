package stack

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// pinCongestion tries TCP congestion control cc on a socket that is never
// bound or connected: an unprivileged process may only use the algorithms in
// /proc/sys/net/ipv4/tcp_allowed_congestion_control (and any needs its module
// loaded).
func pinCongestion(cc string) error {
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

// SetDefaultCongestion makes cc the default TCP congestion control of the
// namespace (net.ipv4.tcp_congestion_control is per namespace since Linux
// 4.15), so that every program started inside it gets cc, not the host's
// default, and returns the namespace's default afterwards. Linux refuses
// (EPERM) an algorithm missing from the host's
// net.ipv4.tcp_allowed_congestion_control for any namespace but the host's;
// the default is then unchanged.
func SetDefaultCongestion(ns *Namespace, cc string) (string, error) {
	const f = "/proc/sys/net/ipv4/tcp_congestion_control"
	var got string
	var werr error
	err := ns.Do(func() error {
		// /proc/sys/net follows the opening thread's namespace.
		werr = os.WriteFile(f, []byte(cc), 0)
		b, err := os.ReadFile(f)
		got = strings.TrimSpace(string(b))
		return err
	})
	if err == nil && werr != nil {
		err = fmt.Errorf("setting the default congestion control to %s: %w", cc, werr)
	}
	return got, err
}

// AllowedCongestion returns net.ipv4.tcp_allowed_congestion_control: the
// algorithms unprivileged sockets, and namespaces' defaults, may use.
func AllowedCongestion() string {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_allowed_congestion_control")
	return strings.TrimSpace(string(b))
}
