package duel

import (
	"container/list"
	"net"
	"net/netip"

	"github.com/netduel/netduel/stack"
)

// Connections that have not yet proved what they are (a control connection
// before its welcome, a data connection before its first frame) are "pending".
// They are capped in total and per source IP; when a new connection would go
// over a cap, a pending connection (of that IP, or overall) is closed to make
// room: the oldest that has sent nothing, among the evictScan oldest; failing
// that the oldest that has not sent its whole first frame; failing that the
// oldest. Honest clients send their first frame at once, so a flood of idle
// connections cannot exhaust the server's descriptors, and cannot lock out a
// client that connects during it: at thousands of silent connections a second
// the oldest pending connection was minutes old in scheduling terms but
// milliseconds in age, and evicting it by age alone closed honest hellos and
// data connections not yet read. Each pending connection is also closed after
// ServerConfig.HelloTimeout.

// evictScan bounds how many pending connections an eviction looks at (one
// SIOCINQ each, at most, under the server's lock).
const evictScan = 16

// pendingConn is one pending connection, in arrival order in Server.pending.
type pendingConn struct {
	conn   net.Conn
	ip     netip.Addr
	framed bool // its first frame was read whole (a hello waiting for its welcome)
}

// addPending registers a new connection from ip as pending and returns the
// connections evicted to make room, for the caller to close outside the lock.
// The caller holds s.mu.
func (s *Server) addPending(c net.Conn, ip netip.Addr) []net.Conn {
	var evicted []net.Conn
	evict := func(match func(*pendingConn) bool) {
		var oldest, unframed *list.Element
		seen := 0
		for e := s.pending.Front(); e != nil && seen < evictScan; e = e.Next() {
			p := e.Value.(*pendingConn)
			if !match(p) {
				continue
			}
			seen++
			if oldest == nil {
				oldest = e
			}
			if p.framed {
				continue
			}
			if unframed == nil {
				unframed = e
			}
			if !stack.HasUnread(p.conn) {
				unframed = e // silent: the one to go
				break
			}
		}
		victim := oldest
		if unframed != nil {
			victim = unframed
		}
		if victim == nil {
			return
		}
		p := victim.Value.(*pendingConn)
		evicted = append(evicted, p.conn)
		s.dropPending(victim)
		delete(s.conns, p.conn) // closed by the caller: its descriptor is free
	}
	if s.pendingByIP[ip] >= s.cfg.MaxPendingPerIP {
		evict(func(p *pendingConn) bool { return p.ip == ip })
	}
	if s.pending.Len() >= s.cfg.MaxPending {
		evict(func(*pendingConn) bool { return true })
	}
	s.pendingEl[c] = s.pending.PushBack(&pendingConn{conn: c, ip: ip})
	s.pendingByIP[ip]++
	return evicted
}

// framedPending says c's first frame was read whole: it goes after the
// connections that sent less when one must be evicted.
func (s *Server) framedPending(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.pendingEl[c]; e != nil {
		e.Value.(*pendingConn).framed = true
	}
}

// donePending says c is no longer pending (it proved what it is, or it is
// closing). It is idempotent.
func (s *Server) donePending(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.pendingEl[c]; e != nil {
		s.dropPending(e)
	}
}

// dropPending removes a pending entry. The caller holds s.mu.
func (s *Server) dropPending(e *list.Element) {
	p := s.pending.Remove(e).(*pendingConn)
	delete(s.pendingEl, p.conn)
	if s.pendingByIP[p.ip]--; s.pendingByIP[p.ip] <= 0 {
		delete(s.pendingByIP, p.ip)
	}
}

// Pending returns the number of connections that have not yet sent their hello
// (or, for a data connection, its first frame).
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending.Len()
}
