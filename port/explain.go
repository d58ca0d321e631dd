package port

import (
	"fmt"
	"net/netip"
	"slices"
)

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
	blockers := blockersOf(rs, socks)
	var resolve []*Socket
	for _, s := range blockers {
		if s != nil {
			resolve = append(resolve, s)
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
			r.setOwner(blockers[i], tableErr)
		}
		k := keyOf(r, f, o.hidden)
		ws, ok := warnings[k]
		if !ok {
			ws = warningsFor(f, o, r.Proto, r.Port, r.Service, k)
			warnings[k] = ws
		}
		r.Warnings = ws
	}
}

// blockersOf returns the socket in each result's way (nil for none, or for a
// port not in use), and marks the free TCP results that have connections in
// TIME_WAIT on their port.
func blockersOf(rs []Result, socks []Socket) []*Socket {
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
	blockers := make([]*Socket, len(rs))
	for i := range rs {
		r := &rs[i]
		a, _ := netip.ParseAddr(r.Address)
		cands := byPort[key{r.Proto, r.Port}]
		switch {
		case r.State == StateInUse:
			blockers[i] = blocker(cands, a)
		case r.State == StateFree && r.Proto == TCP:
			if slices.ContainsFunc(cands, func(s *Socket) bool { return s.State == SockTimeWait && overlaps(a, s.Local.Addr()) }) {
				r.SocketState = SockTimeWait
			}
		}
	}
	return blockers
}

// setOwner fills in who holds a port in use: s, the socket in the way (nil
// when the table had none), or why it is unknown.
func (r *Result) setOwner(s *Socket, tableErr error) {
	switch {
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

// keyOf is what r's warnings depend on.
func keyOf(r *Result, f sysFacts, hidden []hiddenRange) warnKey {
	k := warnKey{proto: r.Proto, state: r.State, timeWait: r.SocketState == SockTimeWait,
		ephemeral: r.Port >= f.ephemeralLo && r.Port <= f.ephemeralHi}
	if r.Port < 1024 || r.Port < f.privilegedBelow {
		k.port = r.Port
	}
	for hi, h := range hidden {
		if h.covers(r.Proto, r.Port) {
			if hi >= 64 {
				k.port = r.Port
				break
			}
			k.hidden |= 1 << hi
		}
	}
	return k
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
