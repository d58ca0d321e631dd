package stack

import (
	"context"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"
)

// TestTUNPair joins two namespaces with two TUN devices and a plain copy loop,
// and talks TCP and UDP across: the plumbing the emulated link is built on.
func TestTUNPair(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun: skipped")
	}
	cli, srv := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")
	nsC, err := NewNamespace("c")
	if err != nil {
		t.Fatal(err)
	}
	defer nsC.Close()
	nsS, err := NewNamespace("s")
	if err != nil {
		t.Fatal(err)
	}
	defer nsS.Close()
	tc, err := OpenTUN(nsC, "nd0", cli, srv, 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	ts, err := OpenTUN(nsS, "nd0", srv, cli, 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	pump := func(dst, src *TUN) {
		buf := make([]byte, 65536)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			dst.Write(buf[:n])
		}
	}
	go pump(ts, tc)
	go pump(tc, ts)

	client, server := &OS{NS: nsC}, &OS{NS: nsS}
	ln, err := server.Listen(context.Background(), "tcp", "198.18.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("TCP across the TUN pair: %v", err)
	}
	msg := make([]byte, 100000)
	go c.Write(msg)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatalf("echo across the TUN pair: %v", err)
	}
	c.Close()

	pc, err := server.ListenPacket(context.Background(), "udp", "198.18.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	u, err := client.Dial(ctx, "udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("datagram"))
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "datagram" {
		t.Fatalf("UDP across the TUN pair: %q %v", buf[:n], err)
	}
	if got := from.String(); got[:10] != "198.18.0.1" {
		t.Fatalf("datagram from %s, want the client's 198.18.0.1", got)
	}
}
