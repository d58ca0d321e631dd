package duel

import (
	"container/list"
	"net"
	"net/netip"
	"runtime"
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
