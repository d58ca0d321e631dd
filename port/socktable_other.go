//go:build !linux

package port

import (
	"context"
	"net/netip"
	"strings"
	"time"

	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// OSSockets returns this OS's socket table, from gopsutil (lsof on macOS,
// sysctl on the BSDs, GetExtendedTcpTable on Windows). Sockets of other users'
// processes may come without a pid, and then without an owner.
func OSSockets() SocketTable { return psTable{} }

type psTable struct{}

// psTimeout bounds a socket table read (lsof can be slow).
const psTimeout = 10 * time.Second

// Sockets implements SocketTable.
func (psTable) Sockets(want func(Proto, int) bool) ([]Socket, error) {
	ctx, cancel := context.WithTimeout(context.Background(), psTimeout)
	defer cancel()
	conns, err := psnet.ConnectionsWithContext(ctx, "inet")
	if err != nil {
		return nil, err
	}
	var out []Socket
	for _, c := range conns {
		proto := TCP
		switch c.Type {
		case 1: // SOCK_STREAM
		case 2: // SOCK_DGRAM
			proto = UDP
		default:
			continue
		}
		if c.Laddr.Port == 0 || c.Laddr.Port > MaxPort || !want(proto, int(c.Laddr.Port)) {
			continue
		}
		ip := c.Laddr.IP
		if ip == "" || ip == "*" {
			ip = "0.0.0.0"
			if c.Family == 23 || c.Family == 30 || c.Family == 10 { // AF_INET6 on Windows, darwin, linux
				ip = "::"
			}
		}
		a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
		if err != nil {
			continue
		}
		s := Socket{Proto: proto, Local: netip.AddrPortFrom(a.WithZone(""), uint16(c.Laddr.Port)), UID: -1, id: uint64(c.Pid)}
		if len(c.Uids) > 0 {
			s.UID = int(c.Uids[0])
		}
		switch {
		case proto == UDP && c.Raddr.Port != 0:
			s.State = SockConnected
		case proto == UDP:
			s.State = SockBound
		case c.Status == "":
			s.State = "UNKNOWN"
		default:
			s.State = strings.ToUpper(strings.ReplaceAll(c.Status, "-", "_"))
		}
		out = append(out, s)
	}
	return out, nil
}

// ResolveOwners implements SocketTable: the process behind each socket's pid.
func (psTable) ResolveOwners(socks []*Socket) error {
	cache := map[uint64]*Owner{}
	for _, s := range socks {
		if s.id == 0 || s.Owner != nil {
			continue
		}
		if o, ok := cache[s.id]; ok {
			s.Owner = o
			continue
		}
		o := &Owner{PID: int(s.id)}
		if p, err := process.NewProcess(int32(s.id)); err == nil {
			o.Name, _ = p.Name()
			o.User, _ = p.Username()
		}
		if o.User == "" {
			o.User = userName(s.UID)
		}
		cache[s.id] = o
		s.Owner = o
	}
	return nil
}
