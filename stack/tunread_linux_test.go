package stack

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// tunPair opens two TUN devices (offloading where the kernel can) in two
// namespaces, for tests; everything closes with the test.
func tunPair(t *testing.T) (tc, ts *TUN) {
	t.Helper()
	needRoot(t)
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun: skipped")
	}
	cli, srv := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")
	for i, addr := range [][2]netip.Addr{{cli, srv}, {srv, cli}} {
		ns, err := NewNamespace("r")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns.Close() })
		dev, err := OpenTUNOffload(ns, "nd0", addr[0], addr[1], 1500)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dev.Close() })
		if i == 0 {
			tc = dev
		} else {
			ts = dev
		}
	}
	return tc, ts
}

// TestTUNReader reads, through a TUNReader, a packet written into the peer
// device's namespace, and returns ErrReaderStopped once stopped, both while
// blocked in a read and when called afterwards.
func TestTUNReader(t *testing.T) {
	tc, ts := tunPair(t)
	r, err := tc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Any packet the client's stack sends to the server's address comes out
	// of the client's device: a UDP datagram from inside its namespace.
	client := &OS{NS: tc.ns}
	c, err := client.Dial(t.Context(), "udp4", ts.Local.String()+":9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, VnetHdrLen+1<<16)
		for {
			n, err := r.Read(buf)
			if err != nil {
				got <- err
				return
			}
			// An IPv4 UDP datagram with our 5-byte payload (after the
			// virtio_net_hdr if the device offloads).
			p := buf[:n]
			if tc.Offload {
				p = p[VnetHdrLen:]
			}
			if len(p) == 20+8+5 && p[0]>>4 == 4 && p[9] == 17 && string(p[28:]) == "hello" {
				got <- nil
			}
		}
	}()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the datagram never came out of the device")
	}
	// Now blocked in Read with nothing to come: Stop ends it.
	go func() {
		buf := make([]byte, VnetHdrLen+1<<16)
		_, err := r.Read(buf)
		got <- err
	}()
	r.Stop()
	if err := <-got; !errors.Is(err, ErrReaderStopped) {
		t.Fatalf("Read after Stop: %v, want ErrReaderStopped", err)
	}
	if _, err := r.Read(make([]byte, 100)); !errors.Is(err, ErrReaderStopped) {
		t.Fatalf("a second Read after Stop: %v, want ErrReaderStopped", err)
	}
}

// TestTUNReaderWait: TryRead never blocks and says when nothing was waiting;
// Wait returns not ready once its time is up, ready when a packet comes, and
// ErrReaderStopped once Stop was called, whatever its time.
func TestTUNReaderWait(t *testing.T) {
	tc, ts := tunPair(t)
	r, err := tc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, VnetHdrLen+1<<16)
	drain := func() {
		for {
			_, ok, err := r.TryRead(buf)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return
			}
		}
	}
	// The kernel may send a packet of its own now and then: a wait it
	// ends is tried again.
	timedOut := false
	for range 100 {
		drain()
		ready, err := r.Wait(time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !ready {
			timedOut = true
			break
		}
	}
	if !timedOut {
		t.Fatal("Wait(1ms) on a quiet device never timed out")
	}
	client := &OS{NS: tc.ns}
	c, err := client.Dial(t.Context(), "udp4", ts.Local.String()+":9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	for found := false; !found; {
		if ready, err := r.Wait(-1); err != nil || !ready {
			t.Fatalf("Wait with a packet to come: ready %v, %v", ready, err)
		}
		for {
			n, ok, err := r.TryRead(buf)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			found = found || strings.HasSuffix(string(buf[:n]), "hello")
		}
	}
	r.Stop()
	for _, d := range []time.Duration{-1, time.Hour, 0} {
		if _, err := r.Wait(d); !errors.Is(err, ErrReaderStopped) {
			t.Errorf("Wait(%v) after Stop: %v, want ErrReaderStopped", d, err)
		}
	}
}

// TestWritePacketAllocatesNothing: the forwarder writes every packet through
// WritePacket, and a collection every few seconds is a stall.
func TestWritePacketAllocatesNothing(t *testing.T) {
	tc, _ := tunPair(t)
	if !tc.Offload {
		t.Skip("no TUN offloads here: WritePacket is a plain write")
	}
	hdr := make([]byte, VnetHdrLen)
	// An IPv4 packet for the peer address, so the kernel takes it in.
	pkt := make([]byte, 28)
	pkt[0], pkt[3], pkt[8], pkt[9] = 0x45, 28, 64, 17
	copy(pkt[12:16], tc.Peer.AsSlice())
	copy(pkt[16:20], tc.Local.AsSlice())
	if err := tc.WritePacket(hdr, pkt); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = tc.WritePacket(hdr, pkt) }); n != 0 {
		t.Errorf("WritePacket: %v allocations a packet, want 0", n)
	}
}

// TestTUNReaderWritePacket forwards a datagram as the delay line does: read
// from the client's device by its reader, written into the server's device
// by the server device's reader; the server's socket gets it. The write
// allocates nothing.
func TestTUNReaderWritePacket(t *testing.T) {
	tc, ts := tunPair(t)
	rc, err := tc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rs, err := ts.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	srv, err := (&OS{NS: ts.ns}).ListenPacket(t.Context(), "udp4", ts.Local.String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := (&OS{NS: tc.ns}).Dial(t.Context(), "udp4", srv.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, VnetHdrLen+1<<16)
	var hdr, pkt []byte
	for pkt == nil {
		n, err := rc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		p := buf[:n]
		if tc.Offload {
			hdr, p = p[:VnetHdrLen], p[VnetHdrLen:]
		}
		if len(p) == 20+8+5 && p[0]>>4 == 4 && p[9] == 17 && string(p[28:]) == "hello" {
			pkt = p
		}
	}
	if err := rs.WritePacket(hdr, pkt); err != nil {
		t.Fatal(err)
	}
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 100)
	n, _, err := srv.ReadFrom(got)
	if err != nil {
		t.Fatalf("the datagram written into the server's device never reached its socket: %v", err)
	}
	if string(got[:n]) != "hello" {
		t.Fatalf("server got %q, want hello", got[:n])
	}
	if n := testing.AllocsPerRun(100, func() { _ = rs.WritePacket(hdr, pkt) }); n != 0 {
		t.Errorf("WritePacket: %v allocations a packet, want 0", n)
	}
}
