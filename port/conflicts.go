package port

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Step is one thing an experiment did: a socket it made, and what the OS said.
type Step struct {
	// Socket describes the socket: "TCP 127.0.0.1:41234 SO_REUSEADDR, listen".
	Socket string `json:"socket"`
	// Result is "ok", the error's short name ("EADDRINUSE"), or what happened
	// ("42 connections accepted").
	Result string `json:"result"`
}

// Traffic counts which socket got what in a traffic experiment.
type Traffic struct {
	// Unit is "connections" or "datagrams".
	Unit string `json:"unit"`
	// Sent is how many the experiment sent to the shared port.
	Sent int `json:"sent"`
	// Received is how many each socket got, in the order they were bound.
	Received []int `json:"received"`
}

// Experiment is one bind experiment run on this OS, with what the documentation
// says the OSes do.
type Experiment struct {
	// Name identifies the experiment: "tcp_udp_same_port".
	Name string `json:"name"`
	// Title says what it tries, in a few words.
	Title string `json:"title"`
	Port  int    `json:"port"`
	Steps []Step `json:"steps"`
	// Outcome is what happened, machine-readable: one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Observed says what happened, in words.
	Observed string `json:"observed"`
	// Expected says what the documentation says happens on each OS: keys
	// "linux", "darwin" and "windows".
	Expected map[string]string `json:"expected"`
	// AsExpected says whether Outcome is what Expected says for this OS; null
	// on an OS with no expectation here, or when the experiment could not run.
	AsExpected  *bool    `json:"as_expected"`
	Explanation string   `json:"explanation"`
	Traffic     *Traffic `json:"traffic,omitempty"`
}

// Experiment outcomes.
const (
	OutcomeBothBind    = "both_bind"     // the second bind succeeded
	OutcomeSecondFails = "second_fails"  // the second bind failed
	OutcomeSplit       = "split"         // both bound; traffic reached both
	OutcomeOneGetsAll  = "one_gets_all"  // both bound; one socket got all the traffic
	OutcomeNotAvail    = "not_available" // the OS lacks the option or family
	OutcomeSetupFailed = "setup_failed"  // the first socket could not be made (port taken?)
)

// OSes whose behaviour the experiments document.
var OSes = []string{"linux", "darwin", "windows"}

// expect is what one OS does.
type expect struct{ outcome, text string }

// experiment is an experiment's fixed part and how to run it.
type experiment struct {
	name, title, explanation string
	expected                 map[string]expect
	run                      func(e *Experiment, port int)
}

// loop4 and loop6 are the only addresses the experiments use (besides the
// wildcards, which only ever receive from loopback).
var (
	loop4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loop6 = netip.IPv6Loopback()
	any4  = netip.IPv4Unspecified()
	any6  = netip.IPv6Unspecified()
)

// trafficN is how many connections or datagrams the SO_REUSEPORT experiments
// send.
const trafficN = 64

// ConflictsOptions says how Conflicts runs.
type ConflictsOptions struct {
	// Port to experiment on; 0 finds a fresh free one for each experiment. The
	// TIME_WAIT experiments leave the port in TIME_WAIT for a minute.
	Port int
	// Table finds free ports (see Free): default OSSockets().
	Table SocketTable
}

// Conflicts runs every bind experiment on this OS, one after the other, and
// returns them in a fixed order (the TIME_WAIT ones last, as they leave the
// port in TIME_WAIT). The error is for failures to find a free port.
func Conflicts(ctx context.Context, o ConflictsOptions) ([]Experiment, error) {
	var out []Experiment
	for _, x := range experiments {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		p := o.Port
		if p == 0 {
			res, err := Free(ctx, FreeOptions{Table: o.Table})
			if err != nil {
				return out, err
			}
			if len(res.Ports) == 0 {
				return out, errors.New("no free port for the experiments in " + fmt.Sprintf("%d-%d", res.Lo, res.Hi))
			}
			p = res.Ports[0]
		}
		out = append(out, x.do(p))
	}
	return out, nil
}

// HeldPortExperiments shows what the sockets of a server holding port (TCP and
// UDP bound side by side on 127.0.0.1, as netduel's server does) mean for other
// binds: the two protocols share the number, and a second bind of each is
// refused. It runs the same experiments as Conflicts on that port, so call it
// after the server has released the port; if the port is still held, the
// experiments' first binds fail and say so (OutcomeSetupFailed).
func HeldPortExperiments(port uint16) []Experiment {
	var out []Experiment
	for _, x := range experiments {
		switch x.name {
		case "tcp_udp_same_port", "two_tcp_listeners", "udp_double_bind":
			out = append(out, x.do(int(port)))
		}
	}
	return out
}

func (x experiment) do(port int) Experiment {
	e := Experiment{Name: x.name, Title: x.title, Port: port, Steps: []Step{}, Explanation: x.explanation,
		Expected: make(map[string]string, len(x.expected))}
	for os, ex := range x.expected {
		e.Expected[os] = ex.text
	}
	x.run(&e, port)
	if ex, ok := x.expected[runtime.GOOS]; ok && e.Outcome != OutcomeNotAvail && e.Outcome != OutcomeSetupFailed {
		same := ex.outcome == e.Outcome
		e.AsExpected = &same
	}
	return e
}

// open makes a socket and records the step; on failure it sets the outcome
// when setup is true (a first socket) and returns nil.
func (e *Experiment) open(s sockSpec, setup bool) (*socket, error) {
	sock, err := openSocket(s)
	e.Steps = append(e.Steps, Step{Socket: s.String(), Result: errName(err)})
	if err != nil && setup {
		e.setupFailed(err)
	}
	return sock, err
}

func (e *Experiment) setupFailed(err error) {
	if errors.Is(err, errNotAvailable) {
		e.Outcome, e.Observed = OutcomeNotAvail, "not available on this OS"
		return
	}
	st, name, _ := classify(err)
	if st == StateUnavailable {
		e.Outcome, e.Observed = OutcomeNotAvail, "the address family or address is not available here ("+name+")"
		return
	}
	e.Outcome, e.Observed = OutcomeSetupFailed, fmt.Sprintf("the first socket could not be made (%s): is port %d taken?", name, e.Port)
}

// second records the second bind's outcome.
func (e *Experiment) second(err error) {
	if err == nil {
		e.Outcome, e.Observed = OutcomeBothBind, "both bind"
		return
	}
	if errors.Is(err, errNotAvailable) {
		e.Outcome, e.Observed = OutcomeNotAvail, "not available on this OS"
		return
	}
	e.Outcome, e.Observed = OutcomeSecondFails, "second bind fails: "+errName(err)
}

// errName is "ok" for nil, else the error's short name.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	if errors.Is(err, errNotAvailable) {
		return "not available on this OS"
	}
	_, name, _ := classify(err)
	return name
}

// pair makes the first socket, then the second while the first is held.
// Each run sets the port on copies of the specs: runs may be concurrent.
func pair(firstSpec, secondSpec sockSpec) func(e *Experiment, port int) {
	return func(e *Experiment, port int) {
		first, second := firstSpec, secondSpec
		first.addr = netip.AddrPortFrom(first.addr.Addr(), uint16(port))
		second.addr = netip.AddrPortFrom(second.addr.Addr(), uint16(port))
		a, _ := e.open(first, true)
		if a == nil {
			return
		}
		defer a.close()
		b, err := e.open(second, false)
		if b != nil {
			b.close()
		}
		e.second(err)
	}
}

// spec builds a sockSpec on port 0 (pair and the runners set the port).
func spec(proto Proto, a netip.Addr, opts ...string) sockSpec {
	s := sockSpec{proto: proto, addr: netip.AddrPortFrom(a, 0), v6only: a.Is6()}
	for _, o := range opts {
		switch o {
		case "go": // what Go's net.Listen / net.ListenPacket do
			s = serverSpec(proto, s.addr)
		case "reuseaddr":
			s.reuseAddr = true
		case "reuseport":
			s.reusePort = true
		case "dualstack":
			s.v6only = false
		case "listen":
			s.listen = true
		}
	}
	return s
}

const reuseAddrTCPNote = "Go sets SO_REUSEADDR on TCP listeners (not on Windows); "

var experiments = []experiment{
	{
		name: "tcp_udp_same_port", title: "TCP and UDP on the same port",
		run: pair(spec(TCP, loop4, "go"), spec(UDP, loop4, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeBothBind, "both bind"},
			"darwin":  {OutcomeBothBind, "both bind"},
			"windows": {OutcomeBothBind, "both bind"},
		},
		explanation: "TCP and UDP have separate port spaces: port 8080/tcp and 8080/udp are different ports, so one server can listen on both and two servers can hold one each.",
	},
	{
		name: "two_tcp_listeners", title: "two TCP listeners, same address",
		run: pair(spec(TCP, loop4, "go"), spec(TCP, loop4, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"darwin":  {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"windows": {OutcomeSecondFails, "second bind fails: WSAEADDRINUSE"},
		},
		explanation: reuseAddrTCPNote + "SO_REUSEADDR never lets a second listener share an active listener's address and port. This is the usual \"address already in use\".",
	},
	{
		name: "udp_double_bind", title: "two UDP sockets, same address",
		run: pair(spec(UDP, loop4, "go"), spec(UDP, loop4, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"darwin":  {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"windows": {OutcomeSecondFails, "second bind fails: WSAEADDRINUSE"},
		},
		explanation: "Without options a UDP port has one owner per address, as for TCP.",
	},
	{
		name: "udp_double_bind_reuseaddr", title: "two UDP sockets, same address, both with SO_REUSEADDR",
		run: reuseTraffic(UDP, "reuseaddr"),
		expected: map[string]expect{
			"linux":   {OutcomeOneGetsAll, "both bind; unicast datagrams all go to one socket (the last bound)"},
			"darwin":  {OutcomeSecondFails, "second bind fails: EADDRINUSE (for unicast, BSD shares a UDP port only with SO_REUSEPORT)"},
			"windows": {OutcomeBothBind, "both bind; which socket gets a unicast datagram is undefined"},
		},
		explanation: "SO_REUSEADDR on UDP is for multicast receivers. On Linux it also lets two unicast sockets share a port, but only one of them receives: the other is silently deaf. A server started twice looks healthy twice.",
	},
	{
		name: "tcp_wildcard_then_specific", title: "TCP listener on 0.0.0.0, then on 127.0.0.1",
		run: pair(spec(TCP, any4, "go"), spec(TCP, loop4, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"darwin":  {OutcomeBothBind, "both bind (SO_REUSEADDR lets a specific address share the port with the wildcard)"},
			"windows": {OutcomeBothBind, "both bind when both sockets belong to the same user (WSAEACCES otherwise)"},
		},
		explanation: reuseAddrTCPNote + "the wildcard covers every address, so Linux refuses the specific bind while the wildcard listens. BSD and Windows let the more specific socket coexist and give it the connections to its address.",
	},
	{
		name: "tcp_specific_then_wildcard", title: "TCP listener on 127.0.0.1, then on 0.0.0.0",
		run: pair(spec(TCP, loop4, "go"), spec(TCP, any4, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"darwin":  {OutcomeBothBind, "both bind (with SO_REUSEADDR)"},
			"windows": {OutcomeBothBind, "both bind"},
		},
		explanation: "The reverse order: Linux still refuses, since the wildcard would overlap the listening 127.0.0.1 socket. Elsewhere the wildcard gets the connections to every other address.",
	},
	{
		name: "dual_stack_v6only_off", title: "TCP on 0.0.0.0, then on [::] dual-stack (IPV6_V6ONLY off)",
		run: pair(spec(TCP, any4, "go"), spec(TCP, any6, "go", "dualstack")),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"darwin":  {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"windows": {OutcomeSecondFails, "second bind fails: WSAEADDRINUSE"},
		},
		explanation: "A dual-stack IPv6 socket also takes the port's IPv4 addresses (as ::ffff:0.0.0.0), so it collides with an IPv4 wildcard. Go's \"tcp\" on \":8080\" is such a socket; Linux's default is net.ipv6.bindv6only=0.",
	},
	{
		name: "dual_stack_v6only_on", title: "TCP on 0.0.0.0, then on [::] with IPV6_V6ONLY",
		run: pair(spec(TCP, any4, "go"), spec(TCP, any6, "go")),
		expected: map[string]expect{
			"linux":   {OutcomeBothBind, "both bind"},
			"darwin":  {OutcomeBothBind, "both bind"},
			"windows": {OutcomeBothBind, "both bind"},
		},
		explanation: "With IPV6_V6ONLY (Go's \"tcp6\") the IPv6 socket keeps to IPv6, and two servers can hold the same port number, one per family.",
	},
	{
		name: "tcp_reuseport_split", title: "two TCP listeners with SO_REUSEPORT: who gets the connections",
		run: reuseTraffic(TCP, "reuseport"),
		expected: map[string]expect{
			"linux":   {OutcomeSplit, "both bind; the kernel spreads connections over both (hash of the addresses)"},
			"darwin":  {OutcomeOneGetsAll, "both bind; one listener gets all the connections (no load balancing)"},
			"windows": {OutcomeNotAvail, "no SO_REUSEPORT"},
		},
		explanation: "SO_REUSEPORT on both sockets lets a second process (of the same user, on Linux) bind a port in use, and then it silently takes part of the traffic: a stale or rogue copy of a server answers some clients. Every socket must opt in; one without it gets EADDRINUSE.",
	},
	{
		name: "udp_reuseport_split", title: "two UDP sockets with SO_REUSEPORT: who gets the datagrams",
		run: reuseTraffic(UDP, "reuseport"),
		expected: map[string]expect{
			"linux":   {OutcomeSplit, "both bind; datagrams are spread by a hash of the source, so each client sticks to one socket"},
			"darwin":  {OutcomeOneGetsAll, "both bind; unicast datagrams all go to one socket"},
			"windows": {OutcomeNotAvail, "no SO_REUSEPORT"},
		},
		explanation: "As for TCP: a second UDP socket with SO_REUSEPORT receives part of the port's datagrams, with no error anywhere.",
	},
	{
		name: "tcp_time_wait_without_reuseaddr", title: "TCP listener on a port in TIME_WAIT, without SO_REUSEADDR",
		run: timeWait(false),
		expected: map[string]expect{
			"linux":   {OutcomeSecondFails, "second bind fails: EADDRINUSE (for 60 s)"},
			"darwin":  {OutcomeSecondFails, "second bind fails: EADDRINUSE"},
			"windows": {OutcomeNotAvail, "TIME_WAIT does not block a bind on Windows (not run here)"},
		},
		explanation: "The server closed a connection first, so the connection waits in TIME_WAIT on the server's port. A restarted server without SO_REUSEADDR (many C servers) cannot bind until it expires.",
	},
	{
		name: "tcp_time_wait_with_reuseaddr", title: "TCP listener on a port in TIME_WAIT, with SO_REUSEADDR",
		run: timeWait(true),
		expected: map[string]expect{
			"linux":   {OutcomeBothBind, "binds over TIME_WAIT"},
			"darwin":  {OutcomeBothBind, "binds over TIME_WAIT"},
			"windows": {OutcomeNotAvail, "TIME_WAIT does not block a bind on Windows (not run here)"},
		},
		explanation: "SO_REUSEADDR is exactly for this: rebinding while old connections linger. Go sets it on every TCP listener, so a Go server restarts at once where a C server may not.",
	},
}

// reuseTraffic binds two sockets on 127.0.0.1 with an option (both), sends
// trafficN connections or datagrams from as many source ports, and counts
// which socket got what.
func reuseTraffic(proto Proto, opt string) func(e *Experiment, port int) {
	return func(e *Experiment, port int) {
		opts := []string{opt}
		if proto == TCP {
			opts = append(opts, "listen")
		}
		s := spec(proto, loop4, opts...)
		s.addr = netip.AddrPortFrom(loop4, uint16(port))
		a, _ := e.open(s, true)
		if a == nil {
			return
		}
		defer a.close()
		b, err := e.open(s, false)
		if b == nil {
			e.second(err)
			return
		}
		defer b.close()
		unit := "datagrams"
		if proto == TCP {
			unit = "connections"
		}
		t := &Traffic{Unit: unit, Received: []int{0, 0}}
		e.Traffic = t
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				c.Close()
			}
		}()
		dst := net.JoinHostPort(loop4.String(), strconv.Itoa(port))
		for range trafficN {
			c, err := net.DialTimeout(string(proto)+"4", dst, time.Second)
			if err != nil {
				e.Steps = append(e.Steps, Step{Socket: fmt.Sprintf("%s client to %s", strings.ToUpper(string(proto)), dst), Result: errName(err)})
				break
			}
			conns = append(conns, c)
			if proto == UDP {
				if _, err := c.Write([]byte("netduel port conflicts")); err != nil {
					break
				}
			}
			t.Sent++
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			for i, sock := range []*socket{a, b} {
				n, err := sock.drain(true)
				if err != nil {
					e.setupFailed(err)
					return
				}
				t.Received[i] += n
			}
			if t.Received[0]+t.Received[1] >= t.Sent || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		e.Steps = append(e.Steps, Step{
			Socket: fmt.Sprintf("%d %s clients to %s, one %s each", t.Sent, strings.ToUpper(string(proto)), dst, strings.TrimSuffix(unit, "s")),
			Result: fmt.Sprintf("first socket got %d, second %d", t.Received[0], t.Received[1]),
		})
		switch got := t.Received[0] + t.Received[1]; {
		case t.Received[0] > 0 && t.Received[1] > 0:
			e.Outcome = OutcomeSplit
			e.Observed = fmt.Sprintf("both bind; %s split %d / %d", unit, t.Received[0], t.Received[1])
		case got > 0:
			e.Outcome = OutcomeOneGetsAll
			which := "first"
			if t.Received[1] > 0 {
				which = "second"
			}
			e.Observed = fmt.Sprintf("both bind; the %s socket got all %d %s", which, got, unit)
		default:
			e.Outcome, e.Observed = OutcomeBothBind, fmt.Sprintf("both bind; neither socket got any of %d %s", t.Sent, unit)
		}
	}
}

// timeWait leaves a connection in TIME_WAIT on the server's side of port, then
// binds a listener there, with or without SO_REUSEADDR.
func timeWait(reuseAddr bool) func(e *Experiment, port int) {
	return func(e *Experiment, port int) {
		if runtime.GOOS == "windows" {
			e.Outcome, e.Observed = OutcomeNotAvail, "not run on Windows"
			return
		}
		ap := netip.AddrPortFrom(loop4, uint16(port))
		ls := sockSpec{proto: TCP, addr: ap, reuseAddr: true, listen: true}
		l, _ := e.open(ls, true)
		if l == nil {
			return
		}
		c, err := net.DialTimeout("tcp4", ap.String(), time.Second)
		if err != nil {
			l.close()
			e.Steps = append(e.Steps, Step{Socket: "TCP client to " + ap.String(), Result: errName(err)})
			e.setupFailed(err)
			return
		}
		// The server closes first: its side goes to TIME_WAIT once the client closes.
		accepted := 0
		for deadline := time.Now().Add(time.Second); accepted == 0 && time.Now().Before(deadline); {
			n, err := l.drain(false)
			if err != nil {
				break
			}
			accepted += n
			if accepted == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = c.Read(make([]byte, 1)) // EOF: the server's FIN arrived
		c.Close()
		l.close()
		time.Sleep(20 * time.Millisecond) // the last ACK
		e.Steps = append(e.Steps, Step{Socket: "a connection to " + ap.String() + ", closed by the server first", Result: "TIME_WAIT on the server's side"})
		s := sockSpec{proto: TCP, addr: ap, reuseAddr: reuseAddr, listen: true}
		sock, err := e.open(s, false)
		if sock != nil {
			sock.close()
			e.Outcome, e.Observed = OutcomeBothBind, "binds over TIME_WAIT"
			return
		}
		e.second(err)
	}
}
