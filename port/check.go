package port

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
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
// descriptors, say), not for ports found taken.
func Check(ctx context.Context, ports []int, o CheckOptions) ([]Result, error) {
	o = o.withDefaults()
	for _, p := range ports {
		if p < 1 || p > MaxPort {
			return nil, fmt.Errorf("port %d is out of range: ports run from 1 to %d", p, MaxPort)
		}
	}
	per := len(o.Protos) * len(o.Addrs)
	out := make([]Result, len(ports)*per)
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
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
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

// explain adds owners, socket states, services and warnings to the results.
func explain(rs []Result, ports []int, o CheckOptions) {
	var want PortSet
	for _, p := range ports {
		want.Add(p)
	}
	if o.hidden == nil {
		o.hidden = hiddenRanges(&want)
	}
	socks, tableErr := o.Table.Sockets(func(_ Proto, p int) bool { return want.Has(p) })
	type key struct {
		proto Proto
		port  int
	}
	byPort := make(map[key][]*Socket)
	for i := range socks {
		s := &socks[i]
		k := key{s.Proto, int(s.Local.Port())}
		byPort[k] = append(byPort[k], s)
	}

	// The socket in each result's way; owners resolved for those only.
	blockers := make([]*Socket, len(rs))
	var resolve []*Socket
	for i := range rs {
		r := &rs[i]
		a, _ := netip.ParseAddr(r.Address)
		cands := byPort[key{r.Proto, r.Port}]
		switch r.State {
		case StateInUse:
			if s := blocker(cands, a); s != nil {
				blockers[i] = s
				resolve = append(resolve, s)
			}
		case StateFree:
			if r.Proto == TCP {
				for _, s := range cands {
					if s.State == SockTimeWait && overlaps(a, s.Local.Addr()) {
						r.SocketState = SockTimeWait
						break
					}
				}
			}
		}
	}
	if len(resolve) > 0 {
		_ = o.Table.ResolveOwners(resolve)
	}
	findBound(rs, blockers, o.Table)

	f := facts()
	// Results alike share one warnings slice: a full-range check has half a
	// million results but a handful of distinct warning lists.
	warnings := make(map[warnKey][]Warning)
	lastProto, lastPort, lastService := Proto(""), 0, ""
	for i := range rs {
		r := &rs[i]
		if r.Proto != lastProto || r.Port != lastPort {
			lastProto, lastPort, lastService = r.Proto, r.Port, ServiceName(r.Proto, r.Port)
		}
		r.Service = lastService
		if r.State == StateInUse {
			switch s := blockers[i]; {
			case tableErr != nil:
				r.OwnerNote = NoteNoTable
			case s == nil:
				r.OwnerNote = NoteGone
			default:
				r.SocketState = s.State
				r.Owner = s.Owner
				if s.Owner == nil {
					r.OwnerNote = ownerNote()
					if s.State == SockTimeWait {
						r.OwnerNote = NoteKernel
					}
				}
			}
		}
		k := warnKey{proto: r.Proto, state: r.State, timeWait: r.SocketState == SockTimeWait,
			ephemeral: r.Port >= f.ephemeralLo && r.Port <= f.ephemeralHi}
		if r.Port < 1024 || r.Port < f.privilegedBelow {
			k.port = r.Port
		}
		for hi, h := range o.hidden {
			if h.covers(r.Proto, r.Port) {
				if hi >= 64 {
					k.port = r.Port
					break
				}
				k.hidden |= 1 << hi
			}
		}
		ws, ok := warnings[k]
		if !ok {
			ws = warningsFor(f, o, r.Proto, r.Port, r.Service, k)
			warnings[k] = ws
		}
		r.Warnings = ws
	}
}

// warnKey is what the warnings of a result depend on.
type warnKey struct {
	proto Proto
	// port is the port when a warning's text depends on it (well-known and
	// privileged ports, more than 64 hidden ranges), else 0.
	port      int
	state     State
	timeWait  bool
	ephemeral bool
	// hidden has bit i set when o.hidden[i] covers the port.
	hidden uint64
}

// findBound looks for the TCP sockets, bound but not listening, behind the
// results in use that no socket in the table explains, when the table can.
func findBound(rs []Result, blockers []*Socket, t SocketTable) {
	bf, ok := t.(boundFinder)
	if !ok {
		return
	}
	var ports PortSet
	n := 0
	for i := range rs {
		if rs[i].State == StateInUse && rs[i].Proto == TCP && blockers[i] == nil {
			ports.Add(rs[i].Port)
			n++
		}
	}
	if n == 0 {
		return
	}
	bound := bf.FindBound(&ports)
	for i := range rs {
		r := &rs[i]
		if r.State != StateInUse || r.Proto != TCP || blockers[i] != nil {
			continue
		}
		a, _ := netip.ParseAddr(r.Address)
		for j := range bound {
			if s := &bound[j]; int(s.Local.Port()) == r.Port && overlaps(a, s.Local.Addr()) {
				blockers[i] = s
				break
			}
		}
	}
}

// blocker picks, among the sockets on a port, the one most likely in the way of
// a bind to a: a listener or bound UDP socket before a connection, before a
// TIME_WAIT socket.
func blocker(cands []*Socket, a netip.Addr) *Socket {
	rank := func(s *Socket) int {
		switch s.State {
		case SockListen, SockBound:
			return 0
		case SockTimeWait:
			return 2
		}
		return 1
	}
	var best *Socket
	for _, s := range cands {
		if !overlaps(a, s.Local.Addr()) {
			continue
		}
		if best == nil || rank(s) < rank(best) {
			best = s
		}
	}
	return best
}

// warningsFor lists what to know about a port of one protocol. Messages do not
// repeat the port number (the result has it), so that tables can group them.
func warningsFor(f sysFacts, o CheckOptions, proto Proto, p int, service string, k warnKey) []Warning {
	ws := []Warning{}
	if p < 1024 {
		name := service
		if name == "" {
			name = "no name in the services database"
		}
		ws = append(ws, Warning{Code: WarnWellKnown,
			Message: "a well-known port (" + name + ")",
			Advice:  "clients and firewalls may expect that service there: use a port above 1023 unless you serve it"})
	}
	if p < f.privilegedBelow {
		w := Warning{Code: WarnPrivileged}
		if f.canBindPrivileged {
			w.Message = fmt.Sprintf("a privileged port (below %d, from %s): this process may bind it, an ordinary user's may not", f.privilegedBelow, f.privilegedSource)
			w.Advice = "a server run by another user fails with EACCES: give it CAP_NET_BIND_SERVICE or use a port at or above " + fmt.Sprint(f.privilegedBelow)
		} else {
			w.Message = fmt.Sprintf("a privileged port for this user (below %d, from %s)", f.privilegedBelow, f.privilegedSource)
			w.Advice = "run the server as root or with CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep BINARY), or use a port at or above " + fmt.Sprint(f.privilegedBelow)
		}
		ws = append(ws, w)
	}
	reserved := false
	for i, h := range o.hidden {
		if (i < 64 && k.hidden&(1<<i) != 0) || (i >= 64 && h.covers(proto, p)) {
			if slices.ContainsFunc(ws, func(w Warning) bool { return w.Code == h.code }) {
				continue // overlapping ranges: each code once per result
			}
			ws = append(ws, Warning{Code: h.code, Message: h.message, Advice: h.advice})
			reserved = reserved || h.code == WarnReserved
		}
	}
	if k.ephemeral && !reserved { // a reserved port is never given to outgoing connections
		ws = append(ws, Warning{Code: WarnEphemeral,
			Message: fmt.Sprintf("inside the ephemeral range %d-%d (from %s)", f.ephemeralLo, f.ephemeralHi, f.ephemeralSource),
			Advice:  "outgoing connections may take it at any time: use a port outside the range, or reserve it (Linux: net.ipv4.ip_local_reserved_ports)"})
	}
	if k.timeWait && proto == TCP {
		ws = append(ws, timeWaitWarning(o.As, k.state))
	}
	if k.state == StateFree {
		ws = append(ws, Warning{Code: WarnRace,
			Message: "free now, but another process may bind it between this check and your server's bind",
			Advice:  "bind port 0 and report the port the OS chose, or let netduel hold it for your server: netduel port hold PORT --exec -- SERVER"})
	}
	return ws
}

// timeWaitWarning explains TCP connections in TIME_WAIT on a port, for the
// server Check bound as and what its bind got.
func timeWaitWarning(as BindAs, st State) Warning {
	w := Warning{Code: WarnTimeWait, Message: "TCP connections on this port are in TIME_WAIT"}
	switch {
	case st == StateFree && as == AsGo:
		w.Advice = "a Go server binds anyway (Go sets SO_REUSEADDR); a server without SO_REUSEADDR fails with EADDRINUSE until they expire (60 s on Linux): see --as c"
	case st == StateFree:
		w.Advice = "they did not block this bind; a server without SO_REUSEADDR elsewhere may still fail until they expire (60 s on Linux)"
	case as == AsC:
		w.Message += ", and a bind without SO_REUSEADDR fails on them"
		w.Advice = "set SO_REUSEADDR before bind (Go does: see --as go), or wait until they expire (60 s on Linux)"
	default:
		w.Message += ", and even a bind with SO_REUSEADDR fails on them"
		w.Advice = "they were left by sockets without SO_REUSEADDR (outgoing connections from this port, say): wait until they expire (60 s on Linux) or use another port"
	}
	return w
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
