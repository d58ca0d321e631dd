package stack

import (
	"context"
	"net"
	"runtime"
	"testing"
)

// loopbacks returns the loopback addresses this host has, skipping IPv6 with a
// reason when it is missing.
func loopbacks(t *testing.T) []string {
	t.Helper()
	out := []string{"127.0.0.1"}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		out = append(out, "::1")
	} else {
		t.Logf("IPv6 loopback unavailable, IPv6 cases skipped: %v", err)
	}
	return out
}

// TestOSTrace: the OS stack times each step of a socket's set-up it can
// separate: socket and bind for every listener, listen for a TCP one on Linux
// (a datagram socket has no listen step), socket and connect for a dial. (The
// sockets' traffic is tested over every Network in internal/suite.)
func TestOSTrace(t *testing.T) {
	t.Parallel()
	nw := &OS{}
	for _, host := range loopbacks(t) {
		for _, proto := range []string{"tcp", "udp"} {
			t.Run(proto+"/"+host, func(t *testing.T) {
				t.Parallel()
				var ltr, dtr Trace
				ctx := WithTrace(context.Background(), &ltr)
				addr := net.JoinHostPort(host, "0")
				var local net.Addr
				if proto == "tcp" {
					ln, err := nw.Listen(ctx, proto, addr)
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					local = ln.Addr()
				} else {
					pc, err := nw.ListenPacket(ctx, proto, addr)
					if err != nil {
						t.Fatal(err)
					}
					defer pc.Close()
					local = pc.LocalAddr()
				}
				wantListen := runtime.GOOS == "linux" && proto == "tcp"
				if !ltr.HasSocket || !ltr.HasBind || (wantListen && !ltr.HasListen) || (proto == "udp" && ltr.HasListen) {
					t.Errorf("listen trace %+v: want socket and bind timed, listen %v", ltr, wantListen)
				}
				c, err := nw.Dial(WithTrace(context.Background(), &dtr), proto, local.String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if !dtr.HasSocket || !dtr.HasConnect {
					t.Errorf("dial trace %+v: want socket and connect timed", dtr)
				}
			})
		}
	}
}

func TestOSErrors(t *testing.T) {
	t.Parallel()
	nw := &OS{}
	ln, err := nw.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cases := []struct{ name, network, addr string }{
		{"port taken", "tcp", ln.Addr().String()},
		{"unknown network", "sctp", "127.0.0.1:0"},
		{"bad address", "tcp", "no-port"},
		{"v6 address on tcp4", "tcp4", "[::1]:0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := nw.Listen(context.Background(), tc.network, tc.addr)
			if err == nil {
				l.Close()
				t.Fatal("want an error")
			}
		})
	}
}

func TestTraceFromEmptyContext(t *testing.T) {
	t.Parallel()
	if TraceFrom(context.Background()) != nil {
		t.Fatal("want nil")
	}
}
