package stack

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"
)

// joined returns two netstacks whose NICs are wired to each other directly.
func joined(t *testing.T) (*Netstack, *Netstack) {
	t.Helper()
	a, err := NewNetstack("client", netip.MustParseAddr("198.18.0.1"), 1500, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewNetstack("server", netip.MustParseAddr("198.18.0.2"), 1500, "reno")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	wire := func(from, to *Netstack) {
		defer func() { done <- struct{}{} }()
		for {
			p, ok := from.ReadPacket(ctx)
			if !ok {
				return
			}
			to.InjectPacket(p)
		}
	}
	go wire(a, b)
	go wire(b, a)
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		a.Close()
		b.Close()
	})
	return a, b
}

func TestNetstackTCPAndUDP(t *testing.T) {
	cli, srv := joined(t)
	if _, err := NewNetstack("x", netip.MustParseAddr("::1"), 1500, ""); err == nil {
		t.Error("an IPv6 address must be refused")
	}
	if _, err := NewNetstack("x", netip.MustParseAddr("198.18.0.9"), 1500, "bbr"); err == nil {
		t.Error("bbr must be refused: gVisor has reno and cubic")
	}
	var tr Trace
	ln, err := srv.Listen(WithTrace(context.Background(), &tr), "tcp", "198.18.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !tr.HasBind {
		t.Error("listen trace not filled")
	}
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
	c, err := cli.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("TCP dial across netstacks: %v", err)
	}
	msg := make([]byte, 200000)
	go c.Write(msg)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatalf("echo: %v", err)
	}
	c.Close()
	if cli.Stats().SegmentsSent == 0 {
		t.Error("no TCP segments counted")
	}

	pc, err := srv.ListenPacket(context.Background(), "udp", "198.18.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	u, err := cli.Dial(ctx, "udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("datagram"))
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "datagram" {
		t.Fatalf("UDP across netstacks: %q %v", buf[:n], err)
	}
}

// TestNetstackDeviceDropsExact: the NIC's queue drops are counted as they
// happen: none while a reader keeps up (reading Stats meanwhile, when packets
// are in flight between the queue and the reader, used to show phantom
// drops), and exactly the overflow when nobody reads.
func TestNetstackDeviceDropsExact(t *testing.T) {
	n, err := NewNetstack("client", netip.MustParseAddr("198.18.0.1"), 1500, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, err := n.Dial(context.Background(), "udp", "198.18.0.2:9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 100)
	ctx, cancel := context.WithCancel(context.Background())
	read := make(chan int)
	go func() {
		k := 0
		for {
			if _, ok := n.ReadPacket(ctx); !ok {
				read <- k
				return
			}
			k++
		}
	}()
	const sent = 3000
	for i := 0; i < sent; i++ {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if d := n.Stats().DeviceDrops; d != 0 {
			t.Fatalf("after %d datagrams, all read or queued: %d device drops", i+1, d)
		}
	}
	for n.ep.NumQueued() > 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if k := <-read; k < sent-1 { // the reader may stop holding the last
		t.Fatalf("read %d of %d", k, sent)
	}
	// Nobody reads now: the queue (4096) fills, the rest is dropped.
	const more = 5000
	for i := 0; i < more; i++ {
		c.Write(msg)
	}
	if d, q := n.Stats().DeviceDrops, n.ep.NumQueued(); int(d) != more-q || q != 4096 {
		t.Errorf("%d device drops with %d queued of %d sent; want %d", d, q, more, more-q)
	}
}
