package port

import (
	"net/netip"
	"os/user"
	"strconv"
	"sync"
)

// Socket is one socket in the OS's socket table.
type Socket struct {
	Proto Proto
	Local netip.AddrPort
	// State is the TCP state as ss names it ("LISTEN", "ESTABLISHED",
	// "TIME_WAIT"...) or, for UDP, "BOUND" (unconnected) or "CONNECTED".
	State string
	// UID is the socket's owner user id, -1 if unknown.
	UID int
	// Owner is the process holding the socket, once ResolveOwners found it; nil
	// when it cannot be seen (another user's process) or there is none (a
	// TIME_WAIT socket belongs to the kernel).
	Owner *Owner
	// id identifies the socket to ResolveOwners: the inode on Linux, the pid
	// elsewhere.
	id uint64
}

// The socket states Check treats specially.
const (
	SockListen    = "LISTEN"
	SockTimeWait  = "TIME_WAIT"
	SockBound     = "BOUND"     // UDP unconnected; TCP bound, not listening
	SockConnected = "CONNECTED" // UDP, connected
)

// SocketTable is the OS's table of sockets, for owner lookup. Check reads it
// once per run (not once per port), and resolves owners only for the sockets
// behind ports found in use. Implementations are safe for concurrent use.
type SocketTable interface {
	// Sockets returns the sockets whose protocol and local port satisfy want.
	// Owners are not resolved yet.
	Sockets(want func(proto Proto, port int) bool) ([]Socket, error)
	// ResolveOwners fills in the Owner of each socket where the OS lets this
	// process see it.
	ResolveOwners(socks []*Socket) error
}

// boundFinder is a SocketTable that can also find TCP sockets bound but not
// listening, which the OS's tables do not list, with their owners.
type boundFinder interface {
	FindBound(ports *PortSet) []Socket
}

// overlaps reports whether a socket bound to local conflicts, for a bind, with
// one bound to addr (IPv6 addresses with IPV6_V6ONLY, as Check binds them). An
// IPv6 wildcard socket is taken to be dual-stack (the table does not say), so it
// may conflict with an IPv4 address.
func overlaps(addr netip.Addr, local netip.Addr) bool {
	if addr.Is4() {
		if local.Is4In6() {
			local = local.Unmap()
		}
		if local.Is6() {
			return local.IsUnspecified()
		}
		return addr.IsUnspecified() || local.IsUnspecified() || addr == local
	}
	if !local.Is6() || local.Is4In6() {
		return false
	}
	return addr.IsUnspecified() || local.IsUnspecified() || addr == local
}

// userName returns the name of uid, or the number when there is none; "" for -1.
func userName(uid int) string {
	if uid < 0 {
		return ""
	}
	if v, ok := userNames.Load(uid); ok {
		return v.(string)
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	userNames.Store(uid, name)
	return name
}

var userNames sync.Map // uid -> name
