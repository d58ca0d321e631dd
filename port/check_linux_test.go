package port

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// row is the part of a Result a test states: the rest (service, warnings) is
// checked separately.
type row struct {
	proto  Proto
	addr   string
	state  State
	sock   string
	holder bool // owner is the holder: this process, or the child
}

// isMe reports whether pid is this process.
func isMe(pid int) bool { return pid == os.Getpid() }

func TestCheckOwnSockets(t *testing.T) {
	me := &Owner{PID: os.Getpid(), Name: comm(t, os.Getpid()), User: userName(os.Geteuid())}
	free := func(p Proto, a string) row { return row{proto: p, addr: a, state: StateFree} }
	held := func(p Proto, a, sock string) row { return row{p, a, StateInUse, sock, true} }
	cases := []struct {
		name    string
		network string // as for net.Listen / net.ListenPacket
		addr    string
		v6      bool
		want    []row // in the order TCP, UDP × DefaultAddrs
	}{
		{"tcp4 listener on 127.0.0.1", "tcp4", "127.0.0.1:0", false, []row{
			held(TCP, "0.0.0.0", SockListen), free(TCP, "::"), held(TCP, "127.0.0.1", SockListen), free(TCP, "::1"),
			free(UDP, "0.0.0.0"), free(UDP, "::"), free(UDP, "127.0.0.1"), free(UDP, "::1"),
		}},
		{"tcp4 listener on 0.0.0.0", "tcp4", "0.0.0.0:0", false, []row{
			held(TCP, "0.0.0.0", SockListen), free(TCP, "::"), held(TCP, "127.0.0.1", SockListen), free(TCP, "::1"),
			free(UDP, "0.0.0.0"), free(UDP, "::"), free(UDP, "127.0.0.1"), free(UDP, "::1"),
		}},
		{"udp4 socket on 0.0.0.0", "udp4", "0.0.0.0:0", false, []row{
			free(TCP, "0.0.0.0"), free(TCP, "::"), free(TCP, "127.0.0.1"), free(TCP, "::1"),
			held(UDP, "0.0.0.0", SockBound), free(UDP, "::"), held(UDP, "127.0.0.1", SockBound), free(UDP, "::1"),
		}},
		{"udp4 socket on 127.0.0.1", "udp4", "127.0.0.1:0", false, []row{
			free(TCP, "0.0.0.0"), free(TCP, "::"), free(TCP, "127.0.0.1"), free(TCP, "::1"),
			held(UDP, "0.0.0.0", SockBound), free(UDP, "::"), held(UDP, "127.0.0.1", SockBound), free(UDP, "::1"),
		}},
		{"tcp6 listener on ::1", "tcp6", "[::1]:0", true, []row{
			free(TCP, "0.0.0.0"), held(TCP, "::", SockListen), free(TCP, "127.0.0.1"), held(TCP, "::1", SockListen),
			free(UDP, "0.0.0.0"), free(UDP, "::"), free(UDP, "127.0.0.1"), free(UDP, "::1"),
		}},
		{"dual-stack udp socket on ::", "udp", "[::]:0", true, []row{
			free(TCP, "0.0.0.0"), free(TCP, "::"), free(TCP, "127.0.0.1"), free(TCP, "::1"),
			held(UDP, "0.0.0.0", SockBound), held(UDP, "::", SockBound), held(UDP, "127.0.0.1", SockBound), held(UDP, "::1", SockBound),
		}},
		{"dual-stack tcp listener on ::", "tcp", "[::]:0", true, []row{
			held(TCP, "0.0.0.0", SockListen), held(TCP, "::", SockListen), held(TCP, "127.0.0.1", SockListen), held(TCP, "::1", SockListen),
			free(UDP, "0.0.0.0"), free(UDP, "::"), free(UDP, "127.0.0.1"), free(UDP, "::1"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.v6 {
				needIPv6(t)
			}
			p, got := checkFresh(t, func() (int, func()) { return bind(t, tc.network, tc.addr) }, tc.want, CheckOptions{}, isMe)
			assertRows(t, got, p, tc.want, me)
		})
	}
}

// bind opens a socket as net.Listen or net.ListenPacket would for network and
// returns its port and its close.
func bind(t *testing.T, network, addr string) (int, func()) {
	t.Helper()
	p, closeIt, err := listenAny(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return p, closeIt
}

// listenAny is bind's socket, or the error that refused it.
func listenAny(network, addr string) (int, func(), error) {
	if strings.HasPrefix(network, "tcp") {
		l, err := net.Listen(network, addr)
		if err != nil {
			return 0, nil, err
		}
		return l.Addr().(*net.TCPAddr).Port, func() { l.Close() }, nil
	}
	c, err := net.ListenPacket(network, addr)
	if err != nil {
		return 0, nil, err
	}
	return c.LocalAddr().(*net.UDPAddr).Port, func() { c.Close() }, nil
}

// checkFresh holds a port from open (a port-0 bind, so the kernel picks it)
// and checks it. The port's other protocol and family are anybody's: another
// process may take the same number for them (an outgoing connection from an
// ephemeral port, say) between the bind and the check. When a result the test
// wants free is taken by a socket that is not ours (another process, an
// owner out of sight, a TIME_WAIT connection), the test is retried on another
// port, up to five tries; a socket of ours where none was wanted fails it.
func checkFresh(t *testing.T, open func() (int, func()), want []row, o CheckOptions, ours func(pid int) bool) (int, []Result) {
	t.Helper()
	for try := 1; ; try++ {
		p, closeIt := open()
		got, err := Check(context.Background(), []int{p}, o)
		closeIt()
		if err != nil {
			t.Fatal(err)
		}
		if !foreign(got, want, ours) || try == 5 {
			return p, got
		}
		t.Logf("try %d: another process's socket on port %d got in the way: again on another port", try, p)
	}
}

// foreign reports whether a result wanted free was found taken, or with a
// socket on its port, by a socket that is not ours.
func foreign(got []Result, want []row, ours func(pid int) bool) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if w.state != StateFree || (g.State == StateFree && g.SocketState == "") {
			continue
		}
		if g.Owner != nil && ours(g.Owner.PID) {
			return false // ours, where none should be: a bug, not a neighbour
		}
		return true
	}
	return false
}

// assertRows compares Check's results with the rows expected, exactly: state,
// error, owner, socket state, service, and the warning codes.
func assertRows(t *testing.T, got []Result, p int, want []row, owner *Owner) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	f := facts()
	for i, w := range want {
		a := netip.MustParseAddr(w.addr)
		exp := Result{Port: p, Proto: w.proto, Family: FamilyOf(a), Address: w.addr, State: w.state,
			SocketState: w.sock, Service: ServiceName(w.proto, p)}
		var codes []string
		if p < 1024 {
			codes = append(codes, WarnWellKnown)
		}
		if p < f.privilegedBelow {
			codes = append(codes, WarnPrivileged)
		}
		if p >= f.ephemeralLo && p <= f.ephemeralHi {
			codes = append(codes, WarnEphemeral)
		}
		if w.state == StateFree {
			codes = append(codes, WarnRace)
		} else {
			exp.Error = "EADDRINUSE"
		}
		if w.holder {
			exp.Owner = owner
		}
		g := got[i]
		var gotCodes []string
		for _, wn := range g.Warnings {
			gotCodes = append(gotCodes, wn.Code)
			if wn.Message == "" || wn.Advice == "" {
				t.Errorf("%s %s: warning %s without message or advice", w.proto, w.addr, wn.Code)
			}
		}
		g.Warnings = nil
		if !reflect.DeepEqual(g, exp) {
			t.Errorf("result %d:\n got %s\nwant %s", i, show(g), show(exp))
		}
		if !slices.Equal(gotCodes, codes) {
			t.Errorf("%s %s: warnings %v, want %v", w.proto, w.addr, gotCodes, codes)
		}
	}
}

func show(r Result) string {
	o := "null"
	if r.Owner != nil {
		o = fmt.Sprintf("%+v", *r.Owner)
	}
	return fmt.Sprintf("%d %s %s %s err=%q owner=%s note=%q sock=%q svc=%q inferred=%v",
		r.Port, r.Proto, r.Address, r.State, r.Error, o, r.OwnerNote, r.SocketState, r.Service, r.Inferred)
}

func TestCheckOtherProcess(t *testing.T) {
	for _, network := range []string{"tcp4", "udp4"} {
		t.Run(network, func(t *testing.T) {
			want := []row{{TCP, "127.0.0.1", StateInUse, SockListen, true}, {UDP, "127.0.0.1", StateFree, "", false}}
			if network == "udp4" {
				want = []row{{TCP, "127.0.0.1", StateFree, "", false}, {UDP, "127.0.0.1", StateInUse, SockBound, true}}
			}
			var h *holder
			open := func() (int, func()) { h = startHolder(t, network); return h.port, func() {} }
			child := func(pid int) bool { return pid == h.cmd.Process.Pid }
			_, rs := checkFresh(t, open, want, CheckOptions{Addrs: []netip.Addr{loop4}}, child)
			owner := &Owner{PID: h.cmd.Process.Pid, Name: comm(t, h.cmd.Process.Pid), User: userName(os.Geteuid())}
			assertRows(t, rs, h.port, want, owner)
			// Once the child is gone, the port is free again.
			h.done()
			waitGone(h.port)
			rs, err := Check(context.Background(), []int{h.port}, CheckOptions{Addrs: []netip.Addr{loop4}})
			if err != nil {
				t.Fatal(err)
			}
			if !AllFree(rs) {
				t.Errorf("after the holder exited: %s", show(rs[0]))
			}
		})
	}
}

func TestCheckOwnerNotes(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := l.Addr().(*net.TCPAddr).Port
	ap := netip.AddrPortFrom(loop4, uint16(p))
	cases := []struct {
		name  string
		table SocketTable
		note  string
		sock  string
	}{
		{"owner hidden", fakeTable{socks: []Socket{{Proto: TCP, Local: ap, State: SockListen, UID: 1000, id: 7}}}, ownerNote(), SockListen},
		{"socket gone", fakeTable{}, NoteGone, ""},
		{"no table", fakeTable{err: os.ErrNotExist}, NoteNoTable, ""},
		{"procfs without processes", procTable{root: fakeProc(t, p)}, ownerNote(), SockListen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Check(context.Background(), []int{p}, CheckOptions{Protos: []Proto{TCP}, Addrs: []netip.Addr{loop4}, Table: tc.table})
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.State != StateInUse || r.Owner != nil || r.OwnerNote != tc.note || r.SocketState != tc.sock {
				t.Errorf("got %s", show(r))
			}
		})
	}
}

// fakeProc makes a procfs whose net/tcp lists a listener on 127.0.0.1:p that
// no visible process holds.
func fakeProc(t *testing.T, p int) string {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/net", 0o755); err != nil {
		t.Fatal(err)
	}
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		fmt.Sprintf("   0: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 100 0 0 10 0\n", p)
	if err := os.WriteFile(root+"/net/tcp", []byte(tcp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root+"/4242/fd", 0o755); err != nil { // a process with no sockets
		t.Fatal(err)
	}
	return root
}

// TestCheckTimeWait leaves a connection in TIME_WAIT on the server's side of
// a port, as the experiment does, then checks it as each server would bind:
// free for Go (SO_REUSEADDR), in use for a C server without it, each with the
// TIME_WAIT advice that fits what its bind got.
func TestCheckTimeWait(t *testing.T) {
	res, err := Free(context.Background(), FreeOptions{})
	if err != nil || len(res.Ports) == 0 {
		t.Fatalf("no free port: %v", err)
	}
	e := experimentNamed(t, "tcp_time_wait_with_reuseaddr").do(res.Ports[0])
	if e.Outcome != OutcomeBothBind {
		t.Fatalf("setup: %+v", e)
	}
	for _, tc := range []struct {
		as     BindAs
		state  State
		advice string
	}{
		{AsGo, StateFree, "a Go server binds anyway"},
		{AsC, StateInUse, "set SO_REUSEADDR before bind"},
	} {
		rs, err := Check(context.Background(), res.Ports, CheckOptions{Protos: []Proto{TCP}, Addrs: []netip.Addr{loop4}, As: tc.as})
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		if r.State != tc.state || r.SocketState != SockTimeWait || !hasWarning(r, WarnTimeWait) {
			t.Errorf("--as %s: got %s %+v", tc.as, show(r), r.Warnings)
		}
		for _, w := range r.Warnings {
			if w.Code == WarnTimeWait && !strings.Contains(w.Advice, tc.advice) {
				t.Errorf("--as %s: TIME_WAIT advice %q, want %q", tc.as, w.Advice, tc.advice)
			}
		}
	}
}

// TestTimeWaitAdvice: the advice never says a Go server binds beside a bind
// that failed.
func TestTimeWaitAdvice(t *testing.T) {
	for _, as := range []BindAs{AsGo, AsC} {
		for _, st := range []State{StateFree, StateInUse} {
			w := timeWaitWarning(as, st)
			if says := strings.Contains(w.Advice, "binds anyway"); says != (as == AsGo && st == StateFree) {
				t.Errorf("--as %s, %s: %q", as, st, w.Advice)
			}
		}
	}
}

// TestCheckBoundNotListening: a TCP socket bound (without SO_REUSEADDR) but
// not listening is in no /proc/net table; the check still finds it and names
// its owner, this process. (With SO_REUSEADDR on both sides Linux lets a Go
// listener share the port with it: the port is free for Go then.)
func TestCheckBoundNotListening(t *testing.T) {
	t.Parallel()
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Skipf("no pidfd_open on this kernel: %v", err)
	}
	unix.Close(pidfd)
	s, err := openSocket(sockSpec{proto: TCP, addr: netip.AddrPortFrom(loop4, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	p := s.port()
	rs, err := Check(context.Background(), []int{p}, CheckOptions{Protos: []Proto{TCP}, Addrs: []netip.Addr{loop4, netip.IPv4Unspecified()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.State != StateInUse || r.Owner == nil || r.Owner.PID != os.Getpid() || r.SocketState != SockBound {
			t.Errorf("got %s", show(r))
		}
	}
}
func hasWarning(r Result, code string) bool {
	for _, w := range r.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}

func experimentNamed(t testing.TB, name string) experiment {
	for _, x := range experiments {
		if x.name == name {
			return x
		}
	}
	t.Fatalf("no experiment %s", name)
	return experiment{}
}

// TestInferredMatchesExact checks that a large check, which infers the
// wildcard and loopback results from one dual-stack bind, reports what the
// exact binds of a small check report, around sockets of every kind.
func TestInferredMatchesExact(t *testing.T) {
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	hold := func(network, addr string) int {
		p, closeIt, err := listenAny(network, addr)
		if err != nil {
			t.Skipf("%s %s: %v", network, addr, err)
		}
		closers = append(closers, closeIt)
		return p
	}
	held := []int{hold("tcp4", "127.0.0.1:0"), hold("udp4", "0.0.0.0:0"), hold("tcp4", "127.0.0.2:0")}
	if !ipv6Disabled() {
		held = append(held, hold("tcp6", "[::1]:0"), hold("udp", "[::]:0"), hold("udp6", "[::1]:0"))
	}
	ports := slices.Clone(held)
	for p := 40000; len(ports) < inferAbove+10; p++ {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	addrs := append(slices.Clone(DefaultAddrs), netip.MustParseAddr("127.0.0.2"))
	big, err := Check(context.Background(), ports, CheckOptions{Addrs: addrs})
	if err != nil {
		t.Fatal(err)
	}
	inferred := 0
	for _, r := range big {
		if r.Inferred {
			inferred++
		}
	}
	if inferred == 0 {
		t.Fatal("nothing was inferred")
	}
	small, err := Check(context.Background(), held, CheckOptions{Addrs: addrs})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range small {
		i := slices.Index(ports, s.Port)*len(Protos)*len(addrs) + slices.Index(Protos, s.Proto)*len(addrs) + slices.Index(addrs, netip.MustParseAddr(s.Address))
		b := big[i]
		if b.Port != s.Port || b.Proto != s.Proto || b.Address != s.Address || b.State != s.State || b.Error != s.Error {
			t.Errorf("large check: %s\nsmall check: %s", show(b), show(s))
		}
		if s.State == StateInUse && b.Inferred {
			t.Errorf("in use but inferred: %s", show(b))
		}
	}
}

// TestCheckFreshAroundAForeignSocket: another process's UDP socket on the
// port a TCP listener of ours got (the race TestCheckOwnSockets used to lose)
// sends the check to another port, where it passes; without the retry the
// UDP rows wanted free are in use.
func TestCheckFreshAroundAForeignSocket(t *testing.T) {
	h := startHolder(t, "udp4")
	me := &Owner{PID: os.Getpid(), Name: comm(t, os.Getpid()), User: userName(os.Geteuid())}
	free := func(p Proto, a string) row { return row{proto: p, addr: a, state: StateFree} }
	want := []row{
		{TCP, "0.0.0.0", StateInUse, SockListen, true}, free(TCP, "::"), {TCP, "127.0.0.1", StateInUse, SockListen, true}, free(TCP, "::1"),
		free(UDP, "0.0.0.0"), free(UDP, "::"), free(UDP, "127.0.0.1"), free(UDP, "::1"),
	}
	tries := 0
	open := func() (int, func()) {
		tries++
		if tries == 1 { // the child's UDP port number, for TCP
			p, closeIt, err := listenAny("tcp4", net.JoinHostPort("127.0.0.1", fmt.Sprint(h.port)))
			if err != nil {
				t.Skipf("TCP port %d is taken too: %v", h.port, err)
			}
			return p, closeIt
		}
		return bind(t, "tcp4", "127.0.0.1:0")
	}
	p, got := checkFresh(t, open, want, CheckOptions{}, isMe)
	if tries < 2 || p == h.port {
		t.Fatalf("%d tries, port %d (the child's %d): want a second try on another port", tries, p, h.port)
	}
	assertRows(t, got, p, want, me)
}
