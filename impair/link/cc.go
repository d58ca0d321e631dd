package link

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"syscall"

	"github.com/netduel/netduel/stack"
)

// netstackCongestion are the congestion controls gVisor's TCP offers.
var netstackCongestion = []string{"reno", "cubic"}

// ccName is what a Linux congestion control's name may be (TCP_CA_NAME_MAX is
// 16 bytes with the terminating zero).
var ccName = regexp.MustCompile(`^[a-z0-9_]{1,15}$`)

// CheckCongestion reports whether the backend ("auto" resolved as Open would:
// tun where it can, else netstack) can pin congestion control cc, and if not
// says which ones it has. On Linux's own stack (tun, none) the kernel is asked
// (loading the algorithm's module if this process may); a name it does not
// know is refused, while one it knows but will not let an unprivileged process
// use is left to stack.UsableCongestion's fallback.
func CheckCongestion(backend, cc string) error {
	if backend == Auto || backend == "" {
		backend = Netstack
		if TunAvailable() == nil {
			backend = Tun
		}
	}
	if backend == Netstack {
		for _, n := range netstackCongestion {
			if cc == n {
				return nil
			}
		}
		return fmt.Errorf("gVisor's TCP (the netstack backend) offers %s", strings.Join(netstackCongestion, " and "))
	}
	if runtime.GOOS != "linux" {
		return nil // the OS's own choice: stack.UsableCongestion says so in a note
	}
	avail := availableCongestion()
	if !ccName.MatchString(cc) {
		return fmt.Errorf("not a congestion control's name; this kernel has %s", avail)
	}
	_, _, err := stack.UsableCongestion(cc)
	if err == nil || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return nil
	}
	if errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("this kernel has no such congestion control; it has %s", avail)
	}
	return fmt.Errorf("%w; this kernel has %s", err, avail)
}

// availableCongestion lists the host's loaded congestion controls.
func availableCongestion() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	if err != nil || len(strings.Fields(string(b))) == 0 {
		return "reno and cubic at least (the full list is unreadable here)"
	}
	return strings.Join(strings.Fields(string(b)), ", ")
}
