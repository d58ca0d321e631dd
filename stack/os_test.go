package stack

import (
	"context"
	"io"
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

func TestOSStreamAndDatagram(t *testing.T) {
	nw := &OS{}
	for _, host := range loopbacks(t) {
		for _, proto := range []string{"tcp", "udp"} {
			t.Run(proto+"/"+host, func(t *testing.T) {
				var ltr, dtr Trace
				ctx := WithTrace(context.Background(), &ltr)
				addr := net.JoinHostPort(host, "0")
				var local net.Addr
				var accept func() (net.Conn, error)
				var readFrom func([]byte) (int, error)
				if proto == "tcp" {
					ln, err := nw.Listen(ctx, proto, addr)
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					local, accept = ln.Addr(), ln.Accept
				} else {
					pc, err := nw.ListenPacket(ctx, proto, addr)
					if err != nil {
						t.Fatal(err)
					}
					defer pc.Close()
					local = pc.LocalAddr()
					readFrom = func(b []byte) (int, error) { n, _, err := pc.ReadFrom(b); return n, err }
				}
				if !ltr.HasSocket || !ltr.HasBind {
					t.Errorf("listen trace %+v: want socket and bind timed", ltr)
				}
				if runtime.GOOS == "linux" && proto == "tcp" && !ltr.HasListen {
					t.Errorf("listen trace %+v: want listen timed on Linux", ltr)
				}
				if proto == "udp" && ltr.HasListen {
					t.Errorf("a datagram socket has no listen step, trace %+v", ltr)
				}
				c, err := nw.Dial(WithTrace(context.Background(), &dtr), proto, local.String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if !dtr.HasSocket || !dtr.HasConnect {
					t.Errorf("dial trace %+v: want socket and connect timed", dtr)
				}
				if _, err := c.Write([]byte("ping")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 16)
				var n int
				if proto == "tcp" {
					sc, err := accept()
					if err != nil {
						t.Fatal(err)
					}
					defer sc.Close()
					n, err = io.ReadAtLeast(sc, buf, 4)
					if err != nil {
						t.Fatal(err)
					}
				} else if n, err = readFrom(buf); err != nil {
					t.Fatal(err)
				}
				if string(buf[:n]) != "ping" {
					t.Fatalf("read %q, want ping", buf[:n])
				}
			})
		}
	}
}

func TestOSErrors(t *testing.T) {
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
	if TraceFrom(context.Background()) != nil {
		t.Fatal("want nil")
	}
}
