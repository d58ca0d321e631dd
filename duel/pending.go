package duel

import (
	"container/list"
	"net"
	"net/netip"
)

// Connections that have not yet proved what they are (a control connection
// before its welcome, a data connection before its first frame) are "pending".
// They are capped in total and per source IP; when a new connection would go
// over a cap, the oldest pending connection (of that IP, or overall) is closed
// to make room. Honest clients send their first frame at once, so the oldest
// are the idle ones: a flood of idle connections cannot exhaust the server's
// descriptors, and cannot lock out a client that connects during it. Each
// pending connection is also closed after ServerConfig.HelloTimeout.

// pendingConn is one pending connection, in arrival order in Server.pending.
type pendingConn struct {
	conn net.Conn
	ip   netip.Addr
}

// addPending registers a new connection from ip as pending and returns the
// connections evicted to make room, for the caller to close outside the lock.
// The caller holds s.mu.
func (s *Server) addPending(c net.Conn, ip netip.Addr) []net.Conn {
	var evicted []net.Conn
	evict := func(match func(*pendingConn) bool) {
		for e := s.pending.Front(); e != nil; e = e.Next() {
			if p := e.Value.(*pendingConn); match(p) {
				evicted = append(evicted, p.conn)
				s.dropPending(e)
				delete(s.conns, p.conn) // closed by the caller: its descriptor is free
				return
			}
		}
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
