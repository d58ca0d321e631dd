package port_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/netduel/netduel/port"
)

// Check tries the bind a server would do on each port, protocol and address,
// and says why one is refused: here a TCP listener of this process holds the
// port. (Only TCP is checked: UDP's port space is separate, and any other
// process may hold the same number there.)
func ExampleCheck() {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	p := ln.Addr().(*net.TCPAddr).Port
	rs, err := port.Check(context.Background(), []int{p}, port.CheckOptions{
		Protos: []port.Proto{port.TCP},
		Addrs:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		fmt.Println(r.Proto, r.Address, r.State, r.Error, r.SocketState, r.Owner.PID == os.Getpid())
	}
	// Output:
	// tcp 127.0.0.1 in_use EADDRINUSE LISTEN true
}
