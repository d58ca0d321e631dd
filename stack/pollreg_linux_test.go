package stack

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestParsePollReg reads a registration out of an epoll set's fdinfo, by
// descriptor and inode, and nothing out of lines that do not match both.
func TestParsePollReg(t *testing.T) {
	t.Parallel()
	info := "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n" +
		"tfd:        3 events: 80000019 data: 7f3a1c000b10  pos:0 ino:1a2b sdev:8\n" +
		"tfd:        7 events: 80002019 data:     7f3a1c000c20  pos:0 ino:2c3d sdev:8\n" +
		"tfd:        9 events: zz data: 1  pos:0 ino:99 sdev:8\n"
	for _, tc := range []struct {
		name string
		fd   int
		ino  uint64
		want pollReg
		ok   bool
	}{
		{"first", 3, 0x1a2b, pollReg{epfd: 5, fd: 3, events: 0x80000019, data: 0x7f3a1c000b10}, true},
		{"padded data", 7, 0x2c3d, pollReg{epfd: 5, fd: 7, events: 0x80002019, data: 0x7f3a1c000c20}, true},
		{"other inode (a reused number)", 7, 0x2c3e, pollReg{}, false},
		{"malformed events", 9, 0x99, pollReg{}, false},
		{"absent", 4, 0x1a2b, pollReg{}, false},
	} {
		got, ok := parsePollReg(info, 5, tc.fd, tc.ino)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// connReg finds c's registration with the netpoller.
func connReg(t *testing.T, c any) pollReg {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var (
		r  pollReg
		ok bool
	)
	rc.Control(func(fd uintptr) { r, ok = findPollReg(int(fd)) })
	if !ok {
		t.Fatal("the socket's netpoller registration is not in /proc/self/fdinfo")
	}
	return r
}

// TestBlockingQuietsNetpoller: while a Blocking reads a socket, the
// netpoller's registration of it no longer asks for reads (nor, for a
// datagram socket, for writes), so arrivals and sends wake no thread in
// epoll_wait; Release restores the registration exactly, and a netpoller
// read afterwards is woken by the next arrival.
func TestBlockingQuietsNetpoller(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			c, peer := blockingPair(t, proto)
			before := connReg(t, c)
			if before.events&unix.EPOLLIN == 0 || before.events&unix.EPOLLOUT == 0 {
				t.Fatalf("the runtime's registration %#x should ask for reads and writes", before.events)
			}
			b, ok := NewBlocking(c)
			if !ok {
				t.Fatal("NewBlocking refused an OS socket")
			}
			during := connReg(t, c)
			if during.events&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
				t.Errorf("while a Blocking reads, the registration %#x still asks for reads", during.events)
			}
			if wantOut := proto == "tcp"; (during.events&unix.EPOLLOUT != 0) != wantOut {
				t.Errorf("while a Blocking reads, registration %#x: asks for writes %v, want %v", during.events, !wantOut, wantOut)
			}
			if during.data != before.data {
				t.Errorf("the registration's data changed: %#x, was %#x", during.data, before.data)
			}
			// The Blocking reads and sends as ever.
			if _, err := peer.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			b.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := b.Read(buf); err != nil || string(buf[:n]) != "ping" {
				t.Fatalf("Blocking read %q, %v", buf[:n], err)
			}
			if _, err := b.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := peer.Read(buf); err != nil || string(buf[:n]) != "pong" {
				t.Fatalf("peer read %q, %v", buf[:n], err)
			}
			b.Release()
			if after := connReg(t, c); after != before {
				t.Errorf("after Release the registration is %+v, want %+v as before", after, before)
			}
			// A netpoller read that parks before the data comes is woken by it.
			got := make(chan error, 1)
			go func() {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(buf)
				if err == nil && string(buf[:n]) != "again" {
					err = errors.New("read " + string(buf[:n]))
				}
				got <- err
			}()
			time.Sleep(50 * time.Millisecond)
			if _, err := peer.Write([]byte("again")); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatalf("netpoller read after Release: %v", err)
			}
		})
	}
}

// TestBlockingSendsDatagrams: a Blocking over an unconnected datagram
// socket, IPv4 or dual-stack, answers its peer with WriteToUDPAddrPort at
// the address its read returned, and refuses an address it cannot reach.
func TestBlockingSendsDatagrams(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"udp4", "udp"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			srv, err := net.ListenUDP(network, &net.UDPAddr{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			cli, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.LocalAddr().(*net.UDPAddr).Port})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			b, ok := NewBlocking(srv)
			if !ok {
				t.Fatal("NewBlocking refused an OS socket")
			}
			defer b.Release()
			if _, err := cli.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			b.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, src, err := b.ReadMsgUDP(buf, nil)
			if err != nil || string(buf[:n]) != "hello" {
				t.Fatalf("ReadMsgUDP %q, %v", buf[:n], err)
			}
			for _, to := range []netip.AddrPort{src, netip.AddrPortFrom(src.Addr().Unmap(), src.Port())} {
				if _, err := b.WriteToUDPAddrPort([]byte("reply"), to); err != nil {
					t.Fatalf("WriteToUDPAddrPort(%v): %v", to, err)
				}
				cli.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, err := cli.Read(buf); err != nil || string(buf[:n]) != "reply" {
					t.Fatalf("client read %q, %v after a reply to %v", buf[:n], err, to)
				}
			}
			if network == "udp4" {
				if _, err := b.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("[::1]:9")); err == nil {
					t.Error("an IPv4 socket sent to an IPv6 address")
				}
			}
		})
	}
}

// TestBlockingRawReads: a blocking read is a raw system call only while
// SetRawWhile's condition holds and another P is left (GOMAXPROCS > 1).
func TestBlockingRawReads(t *testing.T) { // not parallel: sets GOMAXPROCS
	for _, tc := range []struct {
		name  string
		procs int
		allow bool
		raw   bool
	}{
		{"allowed", 2, true, true},
		{"not allowed", 2, false, false},
		{"one P", 1, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.procs))
			c, peer := blockingPair(t, "udp")
			b, ok := NewBlocking(c) // reads GOMAXPROCS
			if !ok {
				t.Fatal("NewBlocking refused an OS socket")
			}
			defer b.Release()
			b.SetRawWhile(func() bool { return tc.allow })
			b.SetReadDeadline(time.Now().Add(2 * PollInterval))
			buf := make([]byte, 8)
			if _, err := b.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read with nothing to read: %v, want the deadline", err)
			}
			_ = peer
			if got := b.raws.Load() > 0; got != tc.raw {
				t.Errorf("raw reads: %d, want raw %v", b.raws.Load(), tc.raw)
			}
			if n := rawSlots.Load(); n != 0 {
				t.Errorf("%d raw slots still taken after the read", n)
			}
		})
	}
}

// TestBlockingSendsAllocateNothing: a Blocking's sends, stream or datagram,
// allocate nothing per call (they are on every round trip).
func TestBlockingSendsAllocateNothing(t *testing.T) { // not parallel: AllocsPerRun
	for _, proto := range []string{"tcp", "udp"} {
		c, peer := blockingPair(t, proto)
		b, ok := NewBlocking(c)
		if !ok {
			t.Fatal("NewBlocking refused an OS socket")
		}
		go func() { // drain
			buf := make([]byte, 64<<10)
			for {
				if _, err := peer.Read(buf); err != nil {
					return
				}
			}
		}()
		msg := make([]byte, 64)
		if n := testing.AllocsPerRun(100, func() {
			if _, err := b.Write(msg); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per Write, want 0", proto, n)
		}
		to := peer.LocalAddr().(interface{ AddrPort() netip.AddrPort })
		if proto == "udp" {
			// a connected socket may still name its peer
			if n := testing.AllocsPerRun(100, func() { _, _ = b.WriteToUDPAddrPort(msg, to.AddrPort()) }); n != 0 {
				t.Errorf("udp: %v allocations per WriteToUDPAddrPort, want 0", n)
			}
		}
		b.Release()
	}
}
