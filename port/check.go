package port

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Schema names the JSON documents the port commands write.
const Schema = "netduel.port/v1"

// Result is the outcome of one bind attempt: one port, protocol and address.
type Result struct {
	Port    int    `json:"port"`
	Proto   Proto  `json:"proto"`
	Family  Family `json:"family"`
	Address string `json:"address"`
	State   State  `json:"state"`
	// Error is the short name of the error the bind got ("EADDRINUSE"), or why
	// it was not tried; "" when the bind succeeded.
	Error string `json:"error"`
	// Inferred is true when the bind was not tried because the wildcard bind of
	// the same family succeeded (large checks on Linux, see Check).
	Inferred bool `json:"inferred"`
	// Owner is the process holding the port, when it is in use and the OS lets
	// us see it; OwnerNote says why not otherwise.
	Owner     *Owner `json:"owner"`
	OwnerNote string `json:"owner_note"`
	// SocketState is the state of the socket in the way ("LISTEN", "BOUND",
	// "TIME_WAIT"...), or of a TIME_WAIT socket on a free TCP port; "" if none.
	SocketState string    `json:"socket_state"`
	Service     string    `json:"service"`
	Warnings    []Warning `json:"warnings"`
}

// Owner notes.
const (
	NoteRunAsRoot = "unknown (run as root to see)"
	NoteKernel    = "none (the kernel holds TIME_WAIT sockets)"
	NoteGone      = "unknown (the socket was gone when the socket table was read)"
	NoteNoTable   = "unknown (no socket table on this OS)"
	NoteHidden    = "unknown (no process this one can see holds it: another PID namespace or container)"
)

// ownerNote says why a socket's owner is unknown: without root, another
// user's process; as root, a process out of sight.
func ownerNote() string {
	if os.Geteuid() == 0 {
		return NoteHidden
	}
	return NoteRunAsRoot
}

// CheckOptions says what Check tries. Zero values mean the defaults.
type CheckOptions struct {
	// Protos to try: default both.
	Protos []Proto
	// Addrs to bind: default DefaultAddrs.
	Addrs []netip.Addr
	// Table is the socket table owners and TIME_WAIT sockets come from:
	// default OSSockets().
	Table SocketTable
	// Workers bind ports in parallel: default twice GOMAXPROCS.
	Workers int
	// As is the server whose bind to imitate: default AsGo.
	As BindAs
	// hidden overrides hiddenRanges() (tests).
	hidden []hiddenRange
}

func (o CheckOptions) withDefaults() CheckOptions {
	if len(o.Protos) == 0 {
		o.Protos = Protos
	}
	if len(o.Addrs) == 0 {
		o.Addrs = DefaultAddrs
	}
	if o.Table == nil {
		o.Table = OSSockets()
	}
	if o.Workers <= 0 {
		o.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if o.As == "" {
		o.As = AsGo
	}
	return o
}

// inferAbove is the number of ports above which Check, on Linux, first tries
// one dual-stack bind on [::] per protocol, and when it succeeds reports the
// wildcard and loopback addresses free without binding them one by one
// (Result.Inferred). The probe is a bare bind (see probeSpec): a dual-stack
// wildcard socket without SO_REUSEADDR collides with every socket that holds
// the port, IPv4 or IPv6, in any state (TIME_WAIT included), so when it binds,
// nothing holds the port and every server's bind and listen would succeed too.
// That halves the cost of a full-range check. Ports where it fails get every
// bind tried. (Not on the BSDs: with SO_REUSEADDR they let a wildcard bind
// share a port with a specific one.)
const inferAbove = 1024

var inferOS = runtime.GOOS == "linux"

// Check tries, for each port, protocol and address, the bind a server would do
// (see serverSpec), releases it, and reports the state, one Result per port,
// protocol and address, in that order. Ports in use get their owner and socket
// state from the socket table, read once after all binds; every result gets its
// warnings. The error is for failures of the check itself (out of file
// descriptors, say), not for ports found taken. When ctx ends the check
// early, the results of the ports checked so far come with ctx's error.
func Check(ctx context.Context, ports []int, o CheckOptions) ([]Result, error) {
	o = o.withDefaults()
	for _, p := range ports {
		if p < 1 || p > MaxPort {
			return nil, fmt.Errorf("port %d is out of range: ports run from 1 to %d", p, MaxPort)
		}
	}
	per := len(o.Protos) * len(o.Addrs)
	out := make([]Result, len(ports)*per)
	done := make([]bool, len(ports)) // each written by the one worker that checked it
	pl := newPlan(o, inferOS && len(ports) > inferAbove)

	var (
		next     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	workers := min(o.Workers, max(1, len(ports)/8))
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ports) || ctx.Err() != nil {
					return
				}
				if err := checkPort(out[i*per:(i+1)*per], ports[i], pl); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done[i] = true
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		// What was checked before the end, in order, explained as usual.
		var part []Result
		var partPorts []int
		for i, ok := range done {
			if ok {
				part = append(part, out[i*per:(i+1)*per]...)
				partPorts = append(partPorts, ports[i])
			}
		}
		explain(part, partPorts, o)
		return part, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	explain(out, ports, o)
	return out, nil
}

// plan is what checkPort does for every port, worked out once.
type plan struct {
	as     BindAs
	protos []Proto
	addrs  []netip.Addr
	strs   []string // addrs as strings
	v6off  bool
	infer  bool
	// inferable[i]: addrs[i] may be inferred free (a wildcard or a loopback).
	inferable []bool
}

func newPlan(o CheckOptions, infer bool) *plan {
	pl := &plan{as: o.As, protos: o.Protos, addrs: o.Addrs, v6off: ipv6Disabled()}
	pl.infer = infer && !pl.v6off
	for _, a := range o.Addrs {
		pl.strs = append(pl.strs, a.String())
		pl.inferable = append(pl.inferable, a.IsUnspecified() || a.IsLoopback())
	}
	return pl
}

// probeSpec is the socket whose bind tells that nothing holds port p for
// proto: [::] dual-stack, no option, no listen; three system calls where a
// Go server's TCP bind takes five (socket, setsockopt, bind, listen, close).
// Being stricter than any server's bind, it can only send a port to the
// exact binds, never report a taken one free.
func probeSpec(proto Proto, p int) sockSpec {
	return sockSpec{proto: proto, addr: netip.AddrPortFrom(any6, uint16(p))}
}

// checkPort fills rs with the binds of one port: for each protocol, each
// address, in the order of addrs.
func checkPort(rs []Result, p int, pl *plan) error {
	n := len(pl.addrs)
	for pi, proto := range pl.protos {
		dualFree := false
		if pl.infer {
			st, name, ok := classify(tryBind(probeSpec(proto, p)))
			if !ok {
				return fmt.Errorf("binding %s [::] (dual-stack) port %d: %s", proto, p, name)
			}
			dualFree = st == StateFree
		}
		for ai, a := range pl.addrs {
			r := &rs[pi*n+ai]
			*r = Result{Port: p, Proto: proto, Family: FamilyOf(a), Address: pl.strs[ai]}
			switch {
			case r.Family == IPv6 && pl.v6off:
				r.State, r.Error = StateUnavailable, "IPv6 is disabled on this host"
			case dualFree && pl.inferable[ai]:
				r.State, r.Inferred = StateFree, true
			default:
				st, name, ok := classify(tryBind(pl.as.spec(proto, netip.AddrPortFrom(a, uint16(p)))))
				if !ok {
					return fmt.Errorf("binding %s %s port %d: %s", proto, a, p, name)
				}
				r.State, r.Error = st, name
			}
		}
	}
	return nil
}

// AllFree reports whether every result is free.
func AllFree(rs []Result) bool {
	for _, r := range rs {
		if r.State != StateFree {
			return false
		}
	}
	return true
}
