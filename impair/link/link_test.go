package link

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netduel/netduel/impair"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backends returns the backends that can run here; tun needs root and
// /dev/net/tun (CI has both) and is skipped with the reason elsewhere.
func backends(t *testing.T) []string {
	b := []string{Netstack}
	if err := TunAvailable(); err != nil {
		t.Logf("tun backend skipped: %v", err)
	} else {
		b = append(b, Tun)
	}
	return b
}

func openFDs(t *testing.T) int {
	if runtime.GOOS != "linux" {
		return 0
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// echo serves UDP echo on the link's server side until the conn closes.
func echo(t *testing.T, l *Link) (addr string, stop func()) {
	t.Helper()
	pc, err := l.Server.ListenPacket(context.Background(), "udp4", net.JoinHostPort(l.ServerHost, "0"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String(), func() { pc.Close(); <-done }
}

// carry sends n datagrams across l to an echo server and returns how many
// echoes came back, once the link has delivered or dropped every datagram in
// both directions and each one the server got was echoed (or, should that
// never happen, after 30 s: a failure for the caller's counts to show).
func carry(t *testing.T, l *Link, n int) int {
	t.Helper()
	addr, stop := echo(t, l)
	defer stop()
	c, err := l.Client.Dial(context.Background(), "udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				return // closed
			}
			got.Add(1)
		}
	}()
	msg := make([]byte, 200)
	for i := 0; i < n; i++ {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond) // pacing: stay well inside socket buffers
		}
	}
	settled := func() bool {
		up, down := l.Counters()
		return up.Packets >= uint64(n) && up.InFlight() == 0 && down.Packets == up.Forwarded &&
			down.InFlight() == 0 && got.Load() == int64(down.Forwarded)
	}
	for deadline := time.Now().Add(30 * time.Second); !settled() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return int(got.Load())
}

// TestLinkCarriesAndCounts sends UDP datagrams across each backend with 10%
// loss and checks that what arrives is what the link's counters say, and that
// Close leaves no descriptor (namespace, TUN device) and no goroutine behind.
func TestLinkCarriesAndCounts(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			fds := openFDs(t)
			l, err := Open(backend, impair.Config{Loss: impair.RandomLoss(0.1), Seed: 7}, "")
			if err != nil {
				t.Fatal(err)
			}
			if l.Backend != backend || l.Congestion != "cubic" {
				t.Errorf("backend %q congestion %q", l.Backend, l.Congestion)
			}
			const n = 2000
			got := carry(t, l, n)
			up, down := l.Counters()
			cs, ss := l.Stats()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l.Close() // twice is fine
			// Datagrams only: no TCP on this link.
			if up.Dropped != up.DroppedUDP || down.Dropped != down.DroppedUDP {
				t.Errorf("UDP drops: up %+v down %+v", up, down)
			}
			if want := int(up.Forwarded) - int(down.Dropped); up.Packets < n || got != want {
				t.Errorf("echoed %d, link forwarded %d up and dropped %d down (up %+v; client %+v server %+v)", got, up.Forwarded, down.Dropped, up, cs, ss)
			}
			if loss := float64(up.Dropped) / float64(up.Packets); loss < 0.07 || loss > 0.13 {
				t.Errorf("up loss %.3f for 10%%", loss)
			}
			if !cs.Known || !ss.Known || cs.UDPChecksumErrors != 0 {
				t.Errorf("stack stats client %+v server %+v", cs, ss)
			}
			if after := openFDs(t); after > fds {
				t.Errorf("%d descriptors open after Close, %d before", after, fds)
			}
		})
	}
}

// TestCorruptCountedByStack: bit flips land in IP, UDP headers or payload; the
// ones in UDP's checksummed bytes are discarded by the receiving stack and
// counted there (Linux: Udp InCsumErrors in the namespace).
func TestCorruptCountedByStack(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			l, err := Open(backend, impair.Config{Corrupt: 0.5, Seed: 3}, "")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			pc, err := l.Server.ListenPacket(context.Background(), "udp4", net.JoinHostPort(l.ServerHost, "0"))
			if err != nil {
				t.Fatal(err)
			}
			// Linux checks a UDP checksum when the datagram is read: read them all.
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				buf := make([]byte, 2048)
				for {
					if _, _, err := pc.ReadFrom(buf); err != nil {
						return
					}
				}
			}()
			defer func() { pc.Close(); <-readDone }()
			c, err := l.Client.Dial(context.Background(), "udp4", pc.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, before := l.Stats()
			for i := 0; i < 400; i++ {
				c.Write(make([]byte, 1000))
				if i%20 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			// The datagrams reach the server's stack after the link hands them
			// on: wait for its count (a failure shows after 20 s, not a wait).
			var up impair.Counters
			var csum uint64
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
				_, after := l.Stats()
				up, _ = l.Counters()
				csum = after.UDPChecksumErrors - before.UDPChecksumErrors
				if up.Packets >= 400 && up.InFlight() == 0 && csum >= up.Corrupted/2 || time.Now().After(deadline) {
					break
				}
			}
			// About half the packets are corrupted, nearly all of their bits
			// are in the UDP datagram (1000 of 1028 bytes).
			if up.Corrupted < 150 || csum < up.Corrupted/2 || csum > up.Corrupted {
				t.Errorf("link corrupted %d, stack counted %d checksum errors", up.Corrupted, csum)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	fds := openFDs(t)
	for _, tc := range []struct {
		backend string
		cfg     impair.Config
		want    string
	}{
		{"bogus", impair.Config{}, "unknown emulator"},
		{None, impair.Config{Loss: impair.RandomLoss(0.01)}, "cannot impair"},
		{Netstack, impair.Config{Reorder: 0.5}, "reorder needs a delay"},
		{Tun, impair.Config{Duplicate: 2}, "want a probability"},
	} {
		l, err := Open(tc.backend, tc.cfg, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): %v, %v; want %q", tc.backend, l, err, tc.want)
		}
	}
	// A congestion control the backend lacks is an error, not a panic in the
	// failed open's cleanup (it was: nil *Link).
	for _, backend := range []string{Netstack, Tun} {
		if backend == Tun && TunAvailable() != nil {
			continue
		}
		if _, err := Open(backend, impair.Config{Delay: time.Millisecond}, "nosuch"); err == nil {
			t.Errorf("Open(%s, --cc nosuch) succeeded", backend)
		}
	}
	// Only the tun backend has a forwarder to poll.
	for _, backend := range []string{Netstack, None} {
		if l, err := Open(backend, impair.Config{}, "", Polling); !errors.Is(err, ErrPollNeedsTun) {
			t.Errorf("Open(%s, Polling): %v, %v; want ErrPollNeedsTun", backend, l, err)
		}
	}
	if err := CheckCongestion(Netstack, "bbr"); err == nil || !strings.Contains(err.Error(), "reno and cubic") {
		t.Errorf("CheckCongestion(netstack, bbr): %v", err)
	}
	for _, cc := range []string{"../../etc/passwd", "nosuch", ""} {
		if err := CheckCongestion(None, cc); runtime.GOOS == "linux" && err == nil {
			t.Errorf("CheckCongestion(none, %q) accepted it", cc)
		}
	}
	if err := CheckCongestion(None, "reno"); err != nil {
		t.Errorf("reno: %v", err)
	}
	if TunAvailable() != nil {
		_, err := Open(Tun, impair.Config{}, "")
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "use netstack") {
			t.Errorf("forced tun where it cannot work: %v", err)
		}
	}
	if after := openFDs(t); after > fds {
		t.Errorf("%d descriptors open after failed opens, %d before", after, fds)
	}
}

func TestParseSNMP(t *testing.T) {
	in := "Ip: Forwarding DefaultTTL\nIp: 2 64\nTcp: RtoMin MaxConn RetransSegs\nTcp: 200 -1 17\n" +
		"Udp: InDatagrams InCsumErrors\nUdp: 10 3\n"
	v, err := parseSNMP([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if v["Udp.InCsumErrors"] != 3 || v["Tcp.RetransSegs"] != 17 || v["Ip.DefaultTTL"] != 64 {
		t.Errorf("%v", v)
	}
	if _, ok := v["Tcp.MaxConn"]; ok {
		t.Error("negative counter kept")
	}
	if _, err := parseSNMP([]byte("Udp: A B\nUdp: 1\n")); err == nil {
		t.Error("short value line accepted")
	}
}

// TestTunCarriesTCPIntact sends 8 MB over TCP across the tun link, clean (super-
// packets cross whole), with a delay (they are cut into wire-sized packets,
// and joined again for the receiver) and corrupting (the receiver's checksum
// must see every flipped bit, so nothing is joined), and checks every byte
// arrives, and that the link counted wire-sized packets.
func TestTunCarriesTCPIntact(t *testing.T) {
	if err := TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	for _, cfg := range []impair.Config{{}, {Delay: time.Millisecond}, {Delay: time.Millisecond, Corrupt: 0.02, Seed: 5}} {
		name := cfg.Netem()
		if name == "" {
			name = "clean"
		}
		t.Run(name, func(t *testing.T) {
			l, err := Open(Tun, cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			const total = 8 << 20
			data := make([]byte, total)
			for i := range data {
				data[i] = byte(i*31 + i>>9)
			}
			got, err := tcpTransfer(l, data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("received %d bytes, not the %d sent (or altered)", len(got), total)
			}
			up, down := l.Counters()
			if min := uint64(total / MTU); up.Packets < min {
				t.Errorf("link counted %d packets for %d bytes: want at least %d wire-sized ones", up.Packets, total, min)
			}
			t.Logf("%d packets to the server, %d acknowledgements back", up.Packets, down.Packets)
			// Across the delay the receiver gets each burst's segments
			// joined (see merger), as behind a NIC's GRO, and acknowledges
			// a super-packet at once: written one by one, every second
			// segment had its ACK (22,593 for 61,341 in a 2 s run).
			if cfg.Delay > 0 && cfg.Corrupt == 0 && l.devices[1].Offload && down.Packets*5 > up.Packets {
				t.Errorf("%d acknowledgements for %d segments: the receiver got them one by one", down.Packets, up.Packets)
			}
			if !l.devices[0].Offload {
				t.Log("the kernel refused TUN offloads: packets crossed one by one")
			}
		})
	}
}

// TestNoneCarriesCongestionNote: emulator none pins what the host allows and
// carries stack.UsableCongestion's note when it falls back.
func TestNoneCarriesCongestionNote(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-socket congestion control is Linux-only")
	}
	l, err := Open(None, impair.Config{}, "no-such-algorithm")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Note == "" || l.Congestion == "no-such-algorithm" {
		t.Errorf("link %q note %q", l.Congestion, l.Note)
	}
}

// TestPollingForwarder carries UDP (every echo accounted for by the
// counters) across a polling tun forwarder, clean, lossy and delayed, and
// 8 MB of TCP (every byte intact) across the clean and the delayed one, and checks that Close stops its
// thread and leaves no descriptor behind (TestMain checks goroutines).
func TestPollingForwarder(t *testing.T) {
	if err := TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	for _, tc := range []struct {
		name string
		cfg  impair.Config
	}{
		{"clean", impair.Config{}},
		{"loss-10%", impair.Config{Loss: impair.RandomLoss(0.1), Seed: 7}},
		{"delay-1ms", impair.Config{Delay: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fds := openFDs(t)
			for _, backend := range []string{Auto, Tun} {
				l, err := Open(backend, tc.cfg, "", Polling)
				if err != nil {
					t.Fatal(err)
				}
				if l.Backend != Tun || !l.Polling {
					t.Errorf("Open(%s, Polling): backend %s, polling %v", backend, l.Backend, l.Polling)
				}
				const n = 1000
				got := carry(t, l, n)
				up, down := l.Counters()
				if want := int(up.Forwarded) - int(down.Dropped); up.Packets < n || got != want {
					t.Errorf("echoed %d, link forwarded %d up and dropped %d down (up %+v)", got, up.Forwarded, down.Dropped, up)
				}
				if tc.cfg.Loss != nil {
					if loss := float64(up.Dropped) / float64(up.Packets); loss < 0.06 || loss > 0.14 {
						t.Errorf("up loss %.3f for 10%%", loss)
					}
				}
				if backend == Tun && tc.cfg.Loss == nil { // once per configuration; TCP crawls at 10% loss
					data := make([]byte, 8<<20)
					for i := range data {
						data[i] = byte(i*31 + i>>9)
					}
					if b, err := tcpTransfer(l, data); err != nil || !bytes.Equal(b, data) {
						t.Errorf("TCP: received %d bytes, not the %d sent (or altered): %v", len(b), len(data), err)
					}
				}
				l.Close()
			}
			if after := openFDs(t); after > fds {
				t.Errorf("%d descriptors open after Close, %d before", after, fds)
			}
		})
	}
}
