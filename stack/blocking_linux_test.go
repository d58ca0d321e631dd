package stack

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/netduel/netduel/internal/gstate"
	"golang.org/x/sys/unix"
)

// blockingPair returns a connected pair over loopback for proto: the end a
// Blocking reads (an OS socket) and its peer.
func blockingPair(t testing.TB, proto string) (net.Conn, net.Conn) {
	t.Helper()
	if proto == "udp" {
		a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := net.DialUDP("udp4", nil, a.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		// Connect a to b too, so that a reads only b's datagrams and writes go to b.
		a.Close()
		c, err := net.DialUDP("udp4", a.LocalAddr().(*net.UDPAddr), b.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); b.Close() })
		return c, b
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); b.Close() })
	return c, b
}

// isNonblock reads the descriptor's O_NONBLOCK flag.
func isNonblock(t *testing.T, c any) bool {
	t.Helper()
	sc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	sc.Control(func(fd uintptr) { flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	return flags&unix.O_NONBLOCK != 0
}

// TestBlocking: reads through a Blocking get the peer's bytes, blocked or
// spinning; a deadline ends a wait with os.ErrDeadlineExceeded, and so does the
// net.Conn's own deadline set from another goroutine (how a test is
// cancelled); a TCP peer's close is io.EOF; Release hands the socket back to
// the netpoller in non-blocking mode.
func TestBlocking(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"udp", "tcp"} {
		for _, busy := range []bool{false, true} {
			name := proto + "/" + map[bool]string{false: WaitBlocking, true: WaitBusyPoll}[busy]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c, peer := blockingPair(t, proto)
				done := make(chan error, 1)
				go func() { done <- blockingSession(c, peer, busy) }()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if !isNonblock(t, c) {
					t.Fatal("after Release the socket is still in blocking mode")
				}
				// The netpoller reads it again, deadlines and all.
				peer.Write([]byte("again"))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 16)
				if n, err := c.Read(buf); err != nil || string(buf[:n]) != "again" {
					t.Fatalf("netpoller read after Release: %q, %v", buf[:n], err)
				}
				if proto == "tcp" {
					b, _ := NewBlocking(c)
					defer b.Release()
					peer.Close()
					if _, err := b.Read(buf); !errors.Is(err, io.EOF) {
						t.Fatalf("read after the peer closed: %v, want io.EOF", err)
					}
				}
			})
		}
	}
}

func blockingSession(c, peer net.Conn, busy bool) error {
	b, ok := NewBlocking(c)
	if !ok {
		return errors.New("NewBlocking refused an OS socket")
	}
	defer b.Release()
	b.SetBusy(busy)
	want := map[bool]string{false: WaitBlocking, true: WaitBusyPoll}[busy]
	if b.Wait() != want {
		return errors.New("Wait() = " + b.Wait() + ", want " + want)
	}
	buf := make([]byte, 64)
	for _, msg := range []string{"one", "two"} {
		go peer.Write([]byte(msg))
		b.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := b.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			return errors.New("read " + string(buf[:n]) + ", want " + msg)
		}
	}
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := b.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.New("a read past its deadline did not time out")
	}
	b.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.SetReadDeadline(time.Unix(1, 0))
	}()
	if _, err := b.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.New("the net.Conn's deadline did not end a blocked read")
	}
	c.SetReadDeadline(time.Time{})
	return nil
}

// TestBlockingOnlyOSSockets: a connection that is not the OS's own socket is
// refused and left alone.
func TestBlockingOnlyOSSockets(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := NewBlocking(a); ok {
		t.Fatal("NewBlocking took a net.Pipe")
	}
	r, wait, release := Receiver(a, WaitBlocking)
	defer release()
	if r != DeadlineReader(a) || wait != WaitNetpoller {
		t.Fatalf("Receiver of a pipe: %T, %q; want the pipe itself and the netpoller", r, wait)
	}
}

// TestBlockingServerSocket: an unconnected UDP socket read with ReadMsgUDP
// names each datagram's source, allocates nothing per read, and Interrupt
// wakes a blocked read at once so the socket can be closed.
func TestBlockingServerSocket(t *testing.T) { // not parallel: AllocsPerRun
	reads := []struct {
		name string
		read func(b *Blocking, buf []byte) (int, netip.AddrPort, error)
	}{
		{"ReadMsgUDP", func(b *Blocking, buf []byte) (int, netip.AddrPort, error) {
			n, _, src, err := b.ReadMsgUDP(buf, nil)
			return n, src, err
		}},
		{"ReadFromUDP", (*Blocking).ReadFromUDP},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) { blockingServerSocket(t, r.read) })
	}
}

func blockingServerSocket(t *testing.T, read func(b *Blocking, buf []byte) (int, netip.AddrPort, error)) {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := net.DialUDP("udp4", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := make(chan error, 1)
	go func() {
		b, ok := NewBlocking(pc)
		if !ok {
			got <- errors.New("NewBlocking refused a UDP socket")
			return
		}
		defer b.Release()
		buf := make([]byte, 2048)
		n, src, err := read(b, buf)
		if err != nil || string(buf[:n]) != "hello" || src.String() != cl.LocalAddr().String() {
			got <- errors.New("first datagram: " + string(buf[:n]) + " from " + src.String())
			return
		}
		x := []byte("x")
		allocs := testing.AllocsPerRun(50, func() {
			cl.Write(x)
			read(b, buf)
		})
		if allocs > 0 {
			got <- errors.New("the read allocates")
			return
		}
		got <- nil
		// Blocked until Interrupt, which ends the wait at once with no
		// datagram (without it, the read would wait out its deadline).
		b.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err = read(b, buf)
		if n != 0 || err != nil {
			got <- fmt.Errorf("a read blocked at Interrupt returned %d bytes, %v; want 0, nil at once", n, err)
			return
		}
		got <- nil
	}()
	cl.Write([]byte("hello"))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let it block
	Interrupt(pc)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	pc.Close()
}

// TestBlockingStopsSpinning: a read that spins while SetBusyWhile's condition
// holds goes back to sleeping in the kernel once it turns false, although no
// datagram arrives (a server whose last busy-polling session has ended must
// not spin on: it spun until the next datagram, for ever on a quiet server).
func TestBlockingStopsSpinning(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var busy atomic.Bool
	busy.Store(true)
	ready := make(chan *Blocking)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, ok := NewBlocking(pc)
		if !ok {
			close(ready)
			return
		}
		defer b.Release()
		b.SetBusyWhile(busy.Load)
		ready <- b
		buf := make([]byte, 64)
		b.ReadMsgUDP(buf, nil) // until Interrupt
	}()
	b := <-ready
	if b == nil {
		t.Fatal("NewBlocking refused a UDP socket")
	}
	for b.tries.Load() < 1000 {
		time.Sleep(time.Millisecond) // spinning: tries climb fast
	}
	busy.Store(false)
	time.Sleep(20 * time.Millisecond)
	before := b.tries.Load()
	time.Sleep(200 * time.Millisecond)
	// Sleeping in the kernel, a read tries again every PollInterval (50 ms).
	if n := b.tries.Load() - before; n > 20 {
		t.Errorf("%d receive calls in 200 ms after busy polling ended: still spinning", n)
	}
	Interrupt(pc)
	pc.Close()
	<-done
}

// TestBlockingWriteKeepsDeadlines: while a TCP socket is in blocking mode, a
// write to a peer that never reads still ends at the net.Conn's write
// deadline (a hostile client must not hold a server's echo thread, and its
// close, for ever in write(2)), through the net.Conn or the Blocking; and a
// write to a peer that reads slowly, which waits for room in the netpoller
// (the registration keeps asking for writes), gets all its bytes there.
func TestBlockingWriteKeepsDeadlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		through string // "conn" or "blocking"
		reads   bool   // the peer reads, slowly
	}{
		{"conn, peer never reads", "conn", false},
		{"blocking, peer never reads", "blocking", false},
		{"blocking, peer reads slowly", "blocking", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, peer := blockingPair(t, "tcp")
			const total = 8 << 20
			got := make(chan int, 1)
			if tc.reads {
				go func() {
					// Pauses longer than PollInterval: a blocked send
					// times out with nothing sent and waits for room.
					n, buf := 0, make([]byte, 1<<20)
					for n < total {
						time.Sleep(2 * PollInterval)
						m, err := io.ReadFull(peer, buf)
						n += m
						if err != nil {
							break
						}
					}
					got <- n
				}()
			}
			done := make(chan error, 1)
			go func() {
				b, ok := NewBlocking(c)
				if !ok {
					done <- errors.New("NewBlocking refused a TCP socket")
					return
				}
				defer b.Release()
				var w io.Writer = c
				if tc.through == "blocking" {
					w = b
				}
				if tc.reads {
					_, err := w.Write(make([]byte, total))
					done <- err
					return
				}
				c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
				buf := make([]byte, 1<<20)
				for {
					if _, err := w.Write(buf); err != nil {
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							done <- fmt.Errorf("write: %v, want the deadline", err)
							return
						}
						done <- nil
						return
					}
				}
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a write did not end: it ignored its deadline, or waited for room that came")
			}
			if tc.reads {
				if n := <-got; n != total {
					t.Fatalf("the peer read %d bytes, want %d", n, total)
				}
			}
		})
	}
}

// BenchmarkBusyEmptyTry measures what one empty try of a spinning read costs
// (ns/try: the time a message that arrives waits, on average half of it, to
// be seen), on a UDP socket nothing is sent to: each op is a spinning read
// of 1 ms that ends at its deadline.
func BenchmarkBusyEmptyTry(b *testing.B) {
	c, _ := blockingPair(b, "udp")
	blk, ok := NewBlocking(c)
	if !ok {
		b.Fatal("no Blocking for a UDP socket")
	}
	defer blk.Release()
	blk.SetBusy(true)
	buf := make([]byte, 2048)
	t0, tries0 := time.Now(), blk.tries.Load()
	for b.Loop() {
		blk.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, _, err := blk.ReadFromUDP(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			b.Fatalf("read: %v", err)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Nanoseconds())/float64(blk.tries.Load()-tries0), "ns/try")
}

// TestSockaddrZone: a link-local source keeps its scope as the zone (the
// interface's name), and the zone goes back to the same scope ID for the
// reply; before, the scope was dropped and a reply to a link-local peer had
// no interface to leave by.
func TestSockaddrZone(t *testing.T) {
	t.Parallel()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface named lo: %v", err)
	}
	for _, tc := range []struct {
		scope uint32
		zone  string
	}{
		{0, ""},
		{uint32(lo.Index), "lo"},
		{1 << 30, "1073741824"}, // no such interface: the number
	} {
		var sa unix.RawSockaddrAny
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sa))
		a.Family, a.Port, a.Scope_id = unix.AF_INET6, ntohs(4242), tc.scope
		a.Addr = netip.MustParseAddr("fe80::1").As16()
		var from, to zoneCache
		got := sockaddrPort(&sa, &from)
		if got.Addr().Zone() != tc.zone || got.Port() != 4242 {
			t.Errorf("scope %d: got %v, want zone %q and port 4242", tc.scope, got, tc.zone)
		}
		if back := to.scope(got.Addr().Zone()); back != tc.scope {
			t.Errorf("zone %q: scope %d, want %d", tc.zone, back, tc.scope)
		}
	}
}

// TestBlockingNetpollWhile: while idle holds, a read waits in the netpoller
// (before, an idle server's read was a blocking system call, which the
// runtime's monitor took the P of every 50 ms, polling every 20 µs after);
// it reads what comes, in either mode and back, keeps the net.Conn's
// deadline, and wakes when the connection closes; after Release the
// net.Conn reads through the netpoller as before.
func TestBlockingNetpollWhile(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			c, peer := blockingPair(t, proto)
			b, ok := NewBlocking(c)
			if !ok {
				t.Fatal("no Blocking")
			}
			var idle atomic.Bool
			idle.Store(true)
			b.SetNetpollWhile(idle.Load)
			buf := make([]byte, 64)
			type result struct {
				n   int
				err error
			}
			read := func() chan result {
				ch := make(chan result, 1)
				go func() {
					n, err := b.Read(buf)
					ch <- result{n, err}
				}()
				return ch
			}
			for i, wantIdle := range []bool{true, false, true} {
				idle.Store(wantIdle)
				ch := read()
				time.Sleep(100 * time.Millisecond)
				if st := gstate.Of("(*Blocking).read("); wantIdle && st != "IO wait" {
					t.Fatalf("read %d, idle: the reader is %q, want parked in the netpoller (IO wait)", i, st)
				}
				if _, err := peer.Write([]byte("hello")); err != nil {
					t.Fatal(err)
				}
				select {
				case r := <-ch:
					if r.err != nil || string(buf[:r.n]) != "hello" {
						t.Fatalf("read %d (idle %v): %q, %v", i, wantIdle, buf[:r.n], r.err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("read %d (idle %v): nothing read in 5 s", i, wantIdle)
				}
			}
			idle.Store(true)
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if r := <-read(); !errors.Is(r.err, os.ErrDeadlineExceeded) {
				t.Fatalf("past the net.Conn's deadline: %d, %v", r.n, r.err)
			}
			c.SetReadDeadline(time.Time{})
			b.Release()
			if _, err := peer.Write([]byte("after")); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(buf); err != nil || string(buf[:n]) != "after" {
				t.Fatalf("after Release: %q, %v", buf[:n], err)
			}
			c.SetReadDeadline(time.Time{})
			b2, _ := NewBlocking(c)
			b2.SetNetpollWhile(func() bool { return true })
			ch := make(chan error, 1)
			go func() { _, err := b2.Read(buf); ch <- err }()
			time.Sleep(50 * time.Millisecond)
			c.Close()
			select {
			case err := <-ch:
				if err == nil {
					t.Fatal("read on a closed connection: no error")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("close did not wake a read parked in the netpoller")
			}
		})
	}
}

// TestBlockingPeerGone: a connected UDP socket whose peer's port has closed
// gets an ICMP port unreachable for its next datagram; the runtime's
// netpoller sees it as EPOLLERR, after which every read through the socket's
// RawConn failed with "raw-read udp ...: not pollable", in every way of
// waiting. The read says what happened instead.
func TestBlockingPeerGone(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{WaitBlocking, WaitBusyPoll, "netpoller"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			c, peer := blockingPair(t, "udp")
			b, ok := NewBlocking(c)
			if !ok {
				t.Fatal("no Blocking")
			}
			defer b.Release()
			b.SetBusy(mode == WaitBusyPoll)
			if mode == "netpoller" {
				b.SetNetpollWhile(func() bool { return true })
			}
			peer.Close()
			if _, err := b.Write([]byte("anyone?")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // the runtime's netpoller sees the error
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err := b.Read(make([]byte, 64))
			if err == nil || strings.Contains(err.Error(), "not pollable") || errors.Is(err, os.ErrDeadlineExceeded) ||
				!errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, errSocketError) {
				t.Fatalf("read after the peer's port closed: %v, want connection refused", err)
			}
		})
	}
}
