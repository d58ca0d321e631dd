package port

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
)

// errNotAvailable marks a feature this OS does not have.
var errNotAvailable = errors.New("not available on this OS")

// sockSpec describes one socket: its protocol, address and the options set
// before bind.
type sockSpec struct {
	proto     Proto
	addr      netip.AddrPort
	reuseAddr bool // SO_REUSEADDR
	reusePort bool // SO_REUSEPORT
	v6only    bool // IPV6_V6ONLY, for IPv6 addresses: false makes a dual-stack socket
	listen    bool // TCP: listen after bind
}

// goListenReuseAddr says whether Go's net.Listen sets SO_REUSEADDR on TCP
// listeners on this OS: everywhere but Windows, where the option lets another
// socket steal the port (and TIME_WAIT does not block a bind anyway).
var goListenReuseAddr = runtime.GOOS != "windows"

// serverSpec returns the socket a Go server makes for net.Listen("tcp4"/"tcp6")
// or net.ListenPacket("udp4"/"udp6") on addr: TCP with SO_REUSEADDR (not on
// Windows) then bind and listen; UDP bind only; IPv6 with IPV6_V6ONLY.
func serverSpec(proto Proto, addr netip.AddrPort) sockSpec {
	s := sockSpec{proto: proto, addr: addr, v6only: addr.Addr().Is6()}
	if proto == TCP {
		s.reuseAddr = goListenReuseAddr
		s.listen = true
	}
	return s
}

// BindAs names the server whose bind Check imitates.
type BindAs string

// The servers Check can bind as.
const (
	// AsGo binds as Go's net.Listen / net.ListenPacket (serverSpec).
	AsGo BindAs = "go"
	// AsC binds as a C server that sets no option: socket, bind, listen, with
	// no SO_REUSEADDR, so TCP connections left in TIME_WAIT on the port block
	// it. IPv6 sockets still get IPV6_V6ONLY, so that each result is about one
	// family.
	AsC BindAs = "c"
)

// ParseBindAs parses "go" or "c" ("" is go).
func ParseBindAs(s string) (BindAs, error) {
	switch BindAs(strings.ToLower(strings.TrimSpace(s))) {
	case AsGo, "":
		return AsGo, nil
	case AsC:
		return AsC, nil
	}
	return "", fmt.Errorf("unknown server %q: use go (Go's net.Listen: SO_REUSEADDR) or c (no SO_REUSEADDR)", s)
}

// spec returns the socket the server as names makes on addr.
func (as BindAs) spec(proto Proto, addr netip.AddrPort) sockSpec {
	s := serverSpec(proto, addr)
	if as == AsC {
		s.reuseAddr = false
	}
	return s
}

// String describes the socket for experiment steps:
// "TCP 0.0.0.0:41234 SO_REUSEADDR, listen".
func (s sockSpec) String() string {
	var opts []string
	if s.reuseAddr {
		opts = append(opts, "SO_REUSEADDR")
	}
	if s.reusePort {
		opts = append(opts, "SO_REUSEPORT")
	}
	if s.addr.Addr().Is6() {
		if s.v6only {
			opts = append(opts, "IPV6_V6ONLY")
		} else {
			opts = append(opts, "dual-stack")
		}
	}
	if s.listen {
		opts = append(opts, "listen")
	}
	str := fmt.Sprintf("%s %s", strings.ToUpper(string(s.proto)), s.addr)
	if len(opts) > 0 {
		str += " " + strings.Join(opts, ", ")
	}
	return str
}

// classify maps a bind error to a State and the error's short name
// ("EADDRINUSE"). ok is false for errors that say nothing about the port (out of
// descriptors, say): the caller reports those as failures of the check itself.
func classify(err error) (st State, name string, ok bool) {
	if err == nil {
		return StateFree, "", true
	}
	if errors.Is(err, errNotAvailable) {
		return StateUnavailable, "not available on this OS", true
	}
	return classifyErrno(err)
}
