package suite

import (
	"context"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
	"github.com/netduel/netduel/stack"
)

// network is one stack.Network implementation under test: where the client's
// and the server's sockets come from, and the host the server binds.
type network struct {
	name           string
	client, server stack.Network
	host           string
}

// networks returns every Network implementation, each opened by a function
// that skips its test with a reason where it cannot exist and closes what it
// made when the test ends.
func networks() []struct {
	name string
	open func(t *testing.T) network
} {
	return []struct {
		name string
		open func(t *testing.T) network
	}{
		{"os", openOS},
		{"os6", openOS6},
		{"namespace", openNamespace},
		{"netstack", openNetstack},
		{"link-tun", openLink(link.Tun)},
		{"link-netstack", openLink(link.Netstack)},
	}
}

func openOS(*testing.T) network {
	return network{name: "os", client: &stack.OS{}, server: &stack.OS{}, host: "127.0.0.1"}
}

func openOS6(t *testing.T) network {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
	return network{name: "os6", client: &stack.OS{}, server: &stack.OS{}, host: "::1"}
}

// openNamespace puts both ends in one new network namespace, on its own
// loopback: the sockets are made on a thread inside it.
func openNamespace(t *testing.T) network {
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces are Linux-only")
	}
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace needs root: skipped (CI runs as root)")
	}
	ns, err := stack.NewNamespace("suite")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	in := &stack.OS{NS: ns}
	return network{name: "namespace", client: in, server: in, host: "127.0.0.1"}
}

// openNetstack joins two gVisor stacks NIC to NIC, with addresses from
// 198.18.0.0/15 that exist only inside them.
func openNetstack(t *testing.T) network {
	srvAddr := netip.MustParseAddr("198.18.0.2")
	cli, err := stack.NewNetstack("client", netip.MustParseAddr("198.18.0.1"), 1500, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := stack.NewNetstack("server", srvAddr, 1500, "cubic")
	if err != nil {
		cli.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	wire := func(from, to *stack.Netstack) {
		defer func() { done <- struct{}{} }()
		for {
			p, ok := from.ReadPacket(ctx)
			if !ok {
				return
			}
			to.InjectPacket(p)
		}
	}
	go wire(cli, srv)
	go wire(srv, cli)
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		cli.Close()
		srv.Close()
	})
	return network{name: "netstack", client: cli, server: srv, host: srvAddr.String()}
}

// openLink opens an emulated link that impairs nothing, as netduel's runs
// use it: the client's and the server's Networks at its two ends (tun: the OS
// stack in two namespaces joined by TUN devices and the forwarder).
func openLink(backend string) func(t *testing.T) network {
	return func(t *testing.T) network {
		if backend == link.Tun {
			if err := link.TunAvailable(); err != nil {
				t.Skipf("the tun backend is unavailable here: %v", err)
			}
		}
		l, err := link.Open(backend, impair.Config{}, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return network{name: "link-" + backend, client: l.Client, server: l.Server, host: l.ServerHost}
	}
}

// forEach runs test over every network and both transports, in parallel.
func forEach(t *testing.T, test func(t *testing.T, n network, proto string)) {
	t.Helper()
	for _, nw := range networks() {
		t.Run(nw.name, func(t *testing.T) {
			t.Parallel()
			n := nw.open(t)
			for _, proto := range []string{"tcp", "udp"} {
				t.Run(proto, func(t *testing.T) {
					t.Parallel()
					test(t, n, proto)
				})
			}
		})
	}
}

// addr is the server's address on port 0 (the kernel's or the stack's pick).
func (n network) addr() string { return net.JoinHostPort(n.host, "0") }
