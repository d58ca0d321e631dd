// Package link builds the emulated link that netduel's tests run across: a client
// Network and a server Network joined by a forwarder that carries every IP
// packet, in each direction, through the impairment models of package impair.
//
// Backends:
//   - tun (Linux, root, /dev/net/tun): two network namespaces created by this
//     process, a TUN device in each, kernel TCP on both ends. The namespaces have
//     no names and vanish with the process, even when it is killed.
//   - netstack (any OS, no privileges): two gVisor tcpip stacks; the TCP measured
//     is gVisor's.
//   - none: the OS loopback, no impairment.
//
// Addresses inside the link come from 198.18.0.0/15 (RFC 2544's benchmarking
// range): the client is 198.18.0.1 and the server 198.18.0.2, and sockets for
// them exist only inside the link (a namespace, or a user-space stack), so no
// packet for them can leave the machine.
package link

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"sync"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// Backend names.
const (
	Auto     = "auto"
	Tun      = "tun"
	Netstack = "netstack"
	None     = "none"
)

// Addresses inside the link.
var (
	ClientAddr = netip.MustParseAddr("198.18.0.1")
	ServerAddr = netip.MustParseAddr("198.18.0.2")
)

// MTU of the link's devices.
const MTU = 1500

// Link is an open emulated link. Close it to remove everything it created.
type Link struct {
	Backend    string        // "tun", "netstack" or "none"
	TCPStack   string        // "linux" (kernel TCP) or "gvisor"
	Congestion string        // congestion control pinned on both ends ("" = the OS default)
	Polling    bool          // the forwarder spins instead of blocking (see Polling)
	Client     stack.Network // where the client's sockets come from
	Server     stack.Network // where the server's sockets come from
	ServerHost string        // the host the server listens on inside the link
	Config     impair.Config // the impairment applied in each direction
	Note       string        // what differs from what was asked, e.g. a congestion control that could not be pinned
	// InsideCongestion is the default congestion control of programs started
	// inside the link (tun: the namespaces' default; Start), and InsideNote
	// says why it is not Congestion when it is not.
	InsideCongestion, InsideNote string

	up, down *impair.Pipe // client→server, server→client (nil for none)
	stats    func(stack.Network) EndStats
	devices  [2]*stack.TUN // tun: the client's and the server's device
	closers  []func()
	once     sync.Once
}

// Counters returns what the link did in each direction.
func (l *Link) Counters() (up, down impair.Counters) {
	if l.up != nil {
		up = l.up.Counters()
	}
	if l.down != nil {
		down = l.down.Counters()
	}
	return up, down
}

// Lateness returns how late the link handed packets on in each direction,
// beyond their modelled departure: the delay the emulator itself added while
// holding them (zero for a link with nothing to impair, which holds nothing).
func (l *Link) Lateness() (up, down impair.Lateness) {
	if l.up != nil {
		up = l.up.Lateness()
	}
	if l.down != nil {
		down = l.down.Lateness()
	}
	return up, down
}

// Tally returns the self-check's counts in each direction since the last
// ResetLateness (zero for a link with nothing to impair).
func (l *Link) Tally() (up, down impair.Tally) {
	if l.up != nil {
		up = l.up.Tally()
	}
	if l.down != nil {
		down = l.down.Tally()
	}
	return up, down
}

// ResetLateness starts both directions' Lateness and Tally afresh.
func (l *Link) ResetLateness() {
	for _, p := range []*impair.Pipe{l.up, l.down} {
		if p != nil {
			p.ResetLateness()
		}
	}
}

// Close stops the forwarder and removes the devices, stacks and namespaces.
func (l *Link) Close() error {
	l.once.Do(func() {
		for i := len(l.closers) - 1; i >= 0; i-- {
			l.closers[i]()
		}
	})
	return nil
}

// UnavailableError says a forced backend cannot work here, why, and what to
// use instead.
type UnavailableError struct {
	Backend string
	Reason  error
	Instead string // the backend that works, and why, e.g. "netstack (no privileges needed)"
	// DropPolling: Polling was asked for, which Instead does not have.
	DropPolling bool
}

func (e *UnavailableError) Error() string {
	if e.DropPolling {
		return fmt.Sprintf("emulator %s unavailable: %v; use %s instead, without a polling forwarder", e.Backend, e.Reason, e.Instead)
	}
	return fmt.Sprintf("emulator %s unavailable: %v; use %s instead", e.Backend, e.Reason, e.Instead)
}

func (e *UnavailableError) Unwrap() error { return e.Reason }

// TunAvailable says whether the tun backend can work here, and if not why.
func TunAvailable() error {
	if runtime.GOOS != "linux" {
		return errors.New("TUN devices in network namespaces are Linux-only")
	}
	if err := stack.CanCreateNamespaces(); err != nil {
		return err
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("/dev/net/tun is missing (load the tun module, or give the container the device)")
	}
	return nil
}

// Option changes how Open builds a link.
type Option func(*options)

type options struct {
	poll    bool
	noMerge bool // the tun forwarder joins nothing (see merger): benchmarks' comparison
}

// Polling makes the tun backend's forwarder a polling one: one thread that
// never sleeps reads both devices and delivers both directions (a CPU's
// worth while the link is open), so no packet waits for the forwarder to
// wake up. Only the tun backend has it: Open refuses it for netstack and
// none, and auto then means tun.
func Polling(o *options) { o.poll = true }

// ErrPollNeedsTun is Open's refusal of Polling on another backend.
var ErrPollNeedsTun = errors.New("a polling forwarder needs the tun emulator (root, /dev/net/tun)")

// Open builds a link with the given backend (auto: tun where it can, else
// netstack), impairment and congestion control.
func Open(backend string, cfg impair.Config, congestion string, opt ...Option) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, f := range opt {
		f(&o)
	}
	if o.poll {
		switch backend {
		case Auto, "", Tun:
			backend = Tun
		case Netstack, None:
			return nil, fmt.Errorf("emulator %s: %w", backend, ErrPollNeedsTun)
		}
	}
	if congestion != "" && backend != None {
		if err := CheckCongestion(backend, congestion); err != nil {
			return nil, fmt.Errorf("congestion control %q: %w", congestion, err)
		}
	}
	switch backend {
	case Auto, "":
		if TunAvailable() == nil {
			l, err := openTun(cfg, congestion, o)
			if err == nil {
				return l, nil
			}
		}
		return openNetstack(cfg, congestion)
	case Tun:
		if err := TunAvailable(); err != nil {
			return nil, &UnavailableError{Backend: Tun, Reason: err, Instead: "netstack (no privileges needed)", DropPolling: o.poll}
		}
		l, err := openTun(cfg, congestion, o)
		if err != nil {
			return nil, &UnavailableError{Backend: Tun, Reason: err, Instead: "netstack (no privileges needed)", DropPolling: o.poll}
		}
		return l, nil
	case Netstack:
		return openNetstack(cfg, congestion)
	case None:
		if cfg.Enabled() {
			return nil, errors.New("emulator none cannot impair the link: give it a Config that does nothing, or use the auto, tun or netstack backend")
		}
		cc, note, _ := stack.UsableCongestion(congestion)
		return &Link{Backend: None, TCPStack: osTCP(), Congestion: cc, Note: note, Config: cfg,
			Client: &stack.OS{Congestion: cc}, Server: &stack.OS{Congestion: cc}, ServerHost: "127.0.0.1"}, nil
	}
	return nil, fmt.Errorf("unknown emulator %q: want auto, tun, netstack or none", backend)
}

func osTCP() string {
	if runtime.GOOS == "linux" {
		return "linux"
	}
	return runtime.GOOS
}

// pipes makes the two directions' pipes with newPipe (impair.NewPipe or
// NewDrivenPipe), seeded for reproducibility, each handing packets to
// deliver functions.
func (l *Link) pipes(newPipe func(impair.Config, *rand.Rand, func([]byte)) *impair.Pipe, toServer, toClient func([]byte)) {
	seed := l.Config.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	l.up = newPipe(l.Config, rand.New(rand.NewPCG(seed, 1)), toServer)
	l.down = newPipe(l.Config, rand.New(rand.NewPCG(seed, 2)), toClient)
	l.closers = append(l.closers, l.up.Close, l.down.Close)
}
