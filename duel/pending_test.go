package duel

import (
	"container/list"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/stack"
)

// TestEvictionSparesWhatSent: over the pending cap, the connection closed is
// the oldest that sent nothing, not an older one whose first bytes wait
// unread, nor one whose hello was read whole (a flood of silent connections
// evicted honest hellos and data connections by age before). With no silent
// one, an unread one goes before a framed one.
func TestEvictionSparesWhatSent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unread bytes are seen on Linux only (SIOCINQ)")
	}
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// conn returns the server's end of a new connection whose client wrote
	// data (nil: nothing).
	conn := func(data []byte) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if data != nil {
			if _, err := c.Write(data); err != nil {
				t.Fatal(err)
			}
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ip := netip.MustParseAddr("127.0.0.1")
	newServer := func() *Server {
		return &Server{cfg: ServerConfig{MaxPending: 3, MaxPendingPerIP: 3}, conns: map[net.Conn]struct{}{},
			pending: list.New(), pendingEl: map[net.Conn]*list.Element{}, pendingByIP: map[netip.Addr]int{}}
	}
	hello := []byte("a hello's first bytes")
	for _, c := range []struct {
		name  string
		kinds []string // the three pending ones, oldest first: "unread", "framed" or "silent"
		want  int      // which of them goes
	}{
		{"silent behind unread and framed", []string{"unread", "framed", "silent"}, 2},
		{"oldest silent of two", []string{"framed", "silent", "silent"}, 1},
		{"unread before framed", []string{"framed", "unread", "unread"}, 1},
		{"all framed: the oldest", []string{"framed", "framed", "framed"}, 0},
	} {
		s := newServer()
		var cs []net.Conn
		for _, k := range c.kinds {
			var sc net.Conn
			if k == "silent" {
				sc = conn(nil)
			} else {
				sc = conn(hello)
			}
			s.conns[sc] = struct{}{}
			if ev := s.addPending(sc, ip); len(ev) != 0 {
				t.Fatalf("%s: evicted under the cap", c.name)
			}
			if k == "framed" {
				s.pendingEl[sc].Value.(*pendingConn).framed = true
			}
			cs = append(cs, sc)
		}
		waitUnread(t, cs, c.kinds)
		ev := s.addPending(conn(nil), ip)
		if len(ev) != 1 || ev[0] != cs[c.want] {
			got := -1
			for i, x := range cs {
				if len(ev) == 1 && ev[0] == x {
					got = i
				}
			}
			t.Errorf("%s: evicted %d (%d closed), want %d (%s)", c.name, got, len(ev), c.want, c.kinds[c.want])
		}
		if s.pending.Len() != 3 {
			t.Errorf("%s: %d pending, want the cap of 3", c.name, s.pending.Len())
		}
	}
}

// waitUnread waits until the loopback has delivered the written bytes of
// the connections that sent some.
func waitUnread(t *testing.T, cs []net.Conn, kinds []string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for i, c := range cs {
		for kinds[i] != "silent" && !stack.HasUnread(c) {
			if time.Now().After(deadline) {
				t.Fatal("written bytes never arrived")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// TestLargeEchoRequestsBudget: sessions holding large TCP echo requests
// whole are admitted up to maxHeldFrames in all (64 of 4 MiB pinned 372 MB
// of a server before), a slot freed is usable again, and small requests and
// other tests are not counted.
func TestLargeEchoRequestsBudget(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: ServerConfig{MaxClients: 1000, MaxClientsPerIP: 1000}, sessions: map[uint64]*session{}, perIP: map[netip.Addr]int{}}
	peer := netip.MustParseAddr("127.0.0.10")
	big := TestSpec{Proto: ProtoTCP, Test: TestLatency, Size: 4 << 20}
	var held []*session
	for i := range maxHeldFrames / big.Size {
		sess := &session{peer: peer, spec: big}
		if err := s.addSession(sess); err != nil {
			t.Fatalf("session %d of 4 MiB requests refused: %v", i, err)
		}
		held = append(held, sess)
	}
	if err := s.addSession(&session{peer: peer, spec: big}); err == nil || !strings.Contains(err.Error(), "large echo requests") {
		t.Fatalf("one 4 MiB session over the budget: %v, want refused", err)
	}
	for _, spec := range []TestSpec{
		{Proto: ProtoTCP, Test: TestLatency, Size: 64},
		{Proto: ProtoTCP, Test: TestLatency, Size: 64 << 10},
		{Proto: ProtoTCP, Test: TestThroughput, Size: 4 << 20},
		{Proto: ProtoUDP, Test: TestLatency, Size: 65000},
	} {
		if err := s.addSession(&session{peer: peer, spec: spec}); err != nil {
			t.Errorf("%v over a full budget: %v, want admitted (not counted)", spec, err)
		}
	}
	s.removeSession(held[0])
	s.removeSession(held[0]) // idempotent: frees it once
	if err := s.addSession(&session{peer: peer, spec: big}); err != nil {
		t.Fatalf("after one ended: %v, want admitted", err)
	}
	if err := s.addSession(&session{peer: peer, spec: big}); err == nil {
		t.Fatal("a second after one ended: admitted, want refused")
	}
}
