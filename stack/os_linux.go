package stack

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux, listeners are built step by step (socket, bind, listen) so each step
// can be timed on its own, then handed to the net package's poller.

func (o *OS) listen(ctx context.Context, network, address string) (net.Listener, error) {
	fd, err := o.bound(ctx, network, address, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return nil, &net.OpError{Op: "listen", Net: network, Addr: nil, Err: os.NewSyscallError("listen", err)}
	}
	if tr := TraceFrom(ctx); tr != nil {
		tr.Listen, tr.HasListen = time.Since(t0), true
	}
	f := os.NewFile(uintptr(fd), "tcp-listener")
	defer f.Close() // FileListener dups the descriptor
	return net.FileListener(f)
}

func (o *OS) listenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	fd, err := o.bound(ctx, network, address, unix.SOCK_DGRAM)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "udp-socket")
	defer f.Close()
	return net.FilePacketConn(f)
}

// bound creates a socket of the given type and binds it to address, the way the
// net package would (SO_REUSEADDR on stream sockets, IPV6_V6ONLY only for "*6"
// networks), timing socket(2) and bind(2).
func (o *OS) bound(ctx context.Context, network, address string, typ int) (int, error) {
	sa, family, err := resolve(network, address)
	if err != nil {
		return -1, err
	}
	tr := TraceFrom(ctx)
	t0 := time.Now()
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, &net.OpError{Op: "socket", Net: network, Err: os.NewSyscallError("socket", err)}
	}
	t1 := time.Now()
	fail := func(op string, err error) (int, error) {
		unix.Close(fd)
		return -1, &net.OpError{Op: op, Net: network, Addr: addrOf(network, address), Err: os.NewSyscallError(op, err)}
	}
	if family == unix.AF_INET6 {
		v6only := 0
		if network == "tcp6" || network == "udp6" {
			v6only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return fail("setsockopt", err)
		}
	}
	if typ == unix.SOCK_STREAM {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail("setsockopt", err)
		}
		if cc := o.congestion(); cc != "" {
			if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc); err != nil {
				return fail("setsockopt TCP_CONGESTION "+cc, err)
			}
		}
	} else if n := o.bufSize(); n > 0 {
		setBuffersFD(fd, n)
	}
	t2 := time.Now()
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if tr != nil {
		tr.Socket, tr.HasSocket = t1.Sub(t0), true
		tr.Bind, tr.HasBind = time.Since(t2), true
	}
	return fd, nil
}

func addrOf(network, address string) net.Addr {
	if network[:3] == "udp" {
		a, _ := net.ResolveUDPAddr(network, address)
		if a != nil {
			return a
		}
	} else if a, _ := net.ResolveTCPAddr(network, address); a != nil {
		return a
	}
	return nil
}

// resolve turns "host:port" into a sockaddr and its family. An empty host means the
// wildcard: dual-stack IPv6 for "tcp"/"udp", as with the net package.
func resolve(network, address string) (unix.Sockaddr, int, error) {
	var ip net.IP
	var port int
	var zone string
	switch network {
	case "tcp", "tcp4", "tcp6":
		a, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return nil, 0, err
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case "udp", "udp4", "udp6":
		a, err := net.ResolveUDPAddr(network, address)
		if err != nil {
			return nil, 0, err
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	default:
		return nil, 0, net.UnknownNetworkError(network)
	}
	want4 := network == "tcp4" || network == "udp4"
	if ip4 := ip.To4(); ip4 != nil || want4 || (ip == nil && network[len(network)-1] == '4') {
		sa := &unix.SockaddrInet4{Port: port}
		if ip4 != nil {
			copy(sa.Addr[:], ip4)
		} else if ip != nil {
			return nil, 0, fmt.Errorf("address %s is not IPv4", address)
		}
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: port}
	if ip != nil {
		copy(sa.Addr[:], ip.To16())
	}
	if zone != "" {
		if ifi, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, unix.AF_INET6, nil
}

// setCongestion sets TCP_CONGESTION on a socket about to connect.
func setCongestion(c syscall.RawConn, cc string) error {
	if cc == "" {
		return nil
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("congestion control %q: %w (is its module loaded? see /proc/sys/net/ipv4/tcp_available_congestion_control)", cc, serr)
	}
	return nil
}

func setBuffers(c syscall.RawConn, n int) error {
	if n <= 0 {
		return nil
	}
	return c.Control(func(fd uintptr) { setBuffersFD(int(fd), n) })
}

// setBuffersFD asks for n-byte socket buffers, beyond rmem_max/wmem_max when the
// process may (CAP_NET_ADMIN); failures leave the system default, which is only slower.
func setBuffersFD(fd, n int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n)
	}
}
