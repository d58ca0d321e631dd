package duel

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/udp"
)

// Hostile clients against a server on loopback (issue 11 items 1-4). Each test
// is bounded in connections and time, asserts its figures, and checks that the
// next honest client is still served.

// dialFrom opens a TCP connection to addr from source IP src (any address of
// 127.0.0.0/8 works on Linux loopback), so a test can play several hosts.
func dialFrom(t testing.TB, src, addr string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// openSession sends a hello for spec on a new connection from src and returns
// the connection, its control reader and the welcome.
func openSession(t testing.TB, src, addr string, spec TestSpec) (net.Conn, *frame.Reader, welcome, error) {
	t.Helper()
	c, err := dialFrom(t, src, addr)
	if err != nil {
		return nil, nil, welcome{}, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	rd := frame.NewReader(c, maxResult)
	var w welcome
	if err := writeControl(c, 0, hello{Type: msgHello, Version: ProtocolVersion, Test: spec}); err != nil {
		c.Close()
		return nil, nil, w, err
	}
	if _, err := readControl(rd, msgWelcome, &w); err != nil {
		c.Close()
		return nil, nil, w, err
	}
	c.SetDeadline(time.Time{})
	return c, rd, w, nil
}

// finish sends the fin and returns the server's view.
func finishSession(t testing.TB, c net.Conn, rd *frame.Reader, w welcome, sent uint64) (ServerView, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if err := writeControl(c, w.Cookie, fin{Type: msgFin, SentFrames: sent, SettleNs: int64(5 * time.Millisecond)}); err != nil {
		return ServerView{}, err
	}
	var r result
	_, err := readControl(rd, msgResult, &r)
	return r.View, err
}

// mustServe runs an honest test of each protocol against srv.
func mustServe(t *testing.T, srv *Server) {
	t.Helper()
	for _, proto := range []string{ProtoTCP, ProtoUDP} {
		r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: proto, Test: TestLatency, Duration: 200 * time.Millisecond, Size: 64})
		if err != nil || r.Error != "" || r.ReceivedFrames == 0 {
			t.Fatalf("honest %s client after the attack: err %v, result error %q, %d round trips", proto, err, r.Error, r.ReceivedFrames)
		}
	}
}

// heapPeak samples the heap in use until stop is closed and returns the peak.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tk.C:
			}
		}
	}()
	return out
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestAbuseClaimedFrameLength: 250 connections each announce a 4 MiB control
// frame and send all but its last byte, before the hello and after it. The
// server must not hold the claimed bytes (it held 1.06 GB before the fix).
func TestAbuseClaimedFrameLength(t *testing.T) {
	const (
		conns   = 250
		claimed = 4 << 20
		budget  = 100 << 20
	)
	// Pending caps out of the way: this test is about the frame reader.
	srv := startServer(t, ServerConfig{MaxClients: conns, MaxClientsPerIP: conns, MaxPending: 2 * conns, MaxPendingPerIP: 2 * conns, HelloTimeout: 20 * time.Second})
	addr := srv.Addr().String()
	payload := make([]byte, claimed-1) // a whole frame but its last byte; shared by every attacker, allocated before the baseline
	binary.BigEndian.PutUint16(payload[0:], frame.Magic)
	payload[2], payload[3] = frame.Version, byte(frame.TypeControl)
	binary.BigEndian.PutUint32(payload[32:], claimed-frame.HeaderLen) // the server's --max-frame
	// On an attached TCP throughput data connection the limit is the
	// server's --max-frame, and the claimed frame is a data frame.
	data := make([]byte, claimed-1)
	copy(data, payload[:frame.HeaderLen])
	data[3] = byte(frame.TypeData)
	for _, where := range []string{"before the hello", "after the hello", "on a data connection"} {
		name := where
		t.Run(name, func(t *testing.T) {
			base := heapInuse()
			stop := make(chan struct{})
			peak := heapPeak(stop)
			// Connect every attacker first (a burst of 250 connects can overflow
			// the accept queue of a loaded machine), then send all at once.
			open := make([]net.Conn, 0, conns)
			for i := 0; i < conns; i++ {
				var c net.Conn
				var err error
				switch where {
				case "on a data connection":
					var ctl net.Conn
					var w welcome
					ctl, _, w, err = openSession(t, "127.0.0.1", addr, TestSpec{Proto: ProtoTCP, Test: TestThroughput, Duration: time.Minute, Size: claimed})
					if err != nil {
						break
					}
					open = append(open, ctl)
					if c, err = dialFrom(t, "127.0.0.1", addr); err == nil {
						err = writeControl(c, w.Cookie, struct{}{}) // attach it
					}
				case "after the hello":
					c, _, _, err = openSession(t, "127.0.0.1", addr, TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Minute, Size: 64})
				default:
					c, err = dialFrom(t, "127.0.0.1", addr)
				}
				if err != nil {
					t.Fatalf("attacker %d: %v", i, err)
				}
				open = append(open, c)
			}
			var wg sync.WaitGroup
			var closedByServer atomic.Int64
			send := payload
			if where == "on a data connection" {
				send = data
			}
			for i, c := range open {
				if where == "on a data connection" && i%2 == 0 {
					continue // a control connection: it stays quiet
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.SetWriteDeadline(time.Now().Add(10 * time.Second))
					if _, err := c.Write(send); err != nil {
						closedByServer.Add(1) // the server cut it short
					}
				}()
			}
			wg.Wait()
			time.Sleep(200 * time.Millisecond) // let the server read what is in flight
			close(stop)
			grew := int64(<-peak) - int64(base)
			t.Logf("%d connections claiming %d-byte frames (%s): heap grew by %.1f MB at its peak; %d writes cut short by the server",
				conns, claimed, name, float64(grew)/1e6, closedByServer.Load())
			if grew >= budget {
				t.Errorf("heap grew by %.1f MB, want < %d MB", float64(grew)/1e6, budget>>20)
			}
			for _, c := range open {
				c.Close()
			}
			waitSessions(t, srv, 0)
			mustServe(t, srv)
		})
	}
}

// TestAbuseIdleFlood: far more idle connections than the pending caps, from
// another host and from the honest client's own address. The server keeps its
// descriptors bounded and still serves the honest client.
func TestAbuseIdleFlood(t *testing.T) {
	const flood = 600
	cfg := ServerConfig{MaxClients: 16, MaxClientsPerIP: 8, MaxPending: 64, MaxPendingPerIP: 32, HelloTimeout: 2 * time.Second}
	for _, srcs := range [][]string{{"127.0.0.2"}, {"127.0.0.1"}, {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}} {
		src := strings.Join(srcs, ",")
		capped := cfg.MaxPending
		if len(srcs) == 1 {
			capped = cfg.MaxPendingPerIP
		}
		t.Run("from "+src, func(t *testing.T) {
			srv := startServer(t, cfg)
			addr := srv.Addr().String()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			maxTracked := 0
			for i := 0; i < flood; i++ {
				c, err := dialFrom(t, srcs[i%len(srcs)], addr)
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				conns = append(conns, c)
				srv.mu.Lock()
				maxTracked = max(maxTracked, len(srv.conns))
				srv.mu.Unlock()
			}
			// Every connection over the caps has been closed by the server.
			closed := 0
			for _, c := range conns {
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
					closed++
				}
			}
			pending := srv.Pending()
			t.Logf("%d idle connections from %s: the server held at most %d connections, %d pending now, %d closed",
				flood, src, maxTracked, pending, closed)
			if maxTracked > capped {
				t.Errorf("server held %d connections, want at most %d (its pending cap)", maxTracked, capped)
			}
			if pending > capped {
				t.Errorf("%d pending connections, want at most %d", pending, capped)
			}
			if closed < flood-capped {
				t.Errorf("%d of %d flood connections closed, want at least %d", closed, flood, flood-capped)
			}
			// The honest client connects during the flood (its connection evicts
			// the oldest idle one), and the rest time out after the hello timeout.
			mustServe(t, srv)
			deadline := time.Now().Add(cfg.HelloTimeout + 3*time.Second)
			for srv.Pending() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d connections still pending after the hello timeout", srv.Pending())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestAbuseSilentSession: hellos asking for 10 minutes, then silence (or a
// little data, then silence). Each session is freed within the idle timeout,
// where it held its slot for the whole duration before the fix.
func TestAbuseSilentSession(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := startServer(t, ServerConfig{IdleTimeout: idle, MaxClientsPerIP: 64})
	addr := srv.Addr().String()
	for _, proto := range []string{ProtoTCP, ProtoUDP} {
		for _, test := range []string{TestThroughput, TestLatency} {
			for _, someData := range []bool{false, true} {
				name := proto + "/" + test + map[bool]string{false: "/silent", true: "/data then silent"}[someData]
				t.Run(name, func(t *testing.T) {
					spec := TestSpec{Proto: proto, Test: test, Duration: 10 * time.Minute, Size: DefaultSize(proto, test), Bitrate: 1e6}
					c, rd, w, err := openSession(t, "127.0.0.1", addr, spec)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					start := time.Now()
					if someData {
						sendSome(t, proto, test, addr, w.Cookie)
					}
					for srv.Sessions() != 0 {
						if time.Since(start) > 10*idle {
							t.Fatalf("silent session still held after %v (idle timeout %v)", time.Since(start), idle)
						}
						time.Sleep(10 * time.Millisecond)
					}
					freed := time.Since(start)
					// The client, if it is still there, is told why.
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					_, err = readControl(rd, msgResult, &result{})
					t.Logf("freed after %v (idle timeout %v): %v", freed.Round(time.Millisecond), idle, err)
					if !IsRefused(err) || !strings.Contains(err.Error(), "idle timeout") {
						t.Errorf("the client was told %v, want the idle timeout named", err)
					}
				})
			}
		}
	}
	mustServe(t, srv)
}

// sendSome sends a few frames of a session's data, then stops.
func sendSome(t *testing.T, proto, test, addr string, cookie uint64) {
	t.Helper()
	typ := frame.TypeData
	if test == TestLatency {
		typ = frame.TypeEchoRequest
	}
	buf := make([]byte, 200)
	c, err := net.Dial(proto, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if proto == ProtoUDP {
			c.Close()
		}
	}()
	if proto == ProtoTCP {
		if err := writeControl(c, cookie, struct{}{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	for seq := uint64(0); seq < 5; seq++ {
		frame.FillBody(buf[frame.HeaderLen:], seq)
		n, _ := frame.Seal(buf, frame.Header{Type: typ, Cookie: cookie, Seq: seq, BodyLen: uint32(len(buf) - frame.HeaderLen)})
		c.Write(buf[:n])
	}
}

// TestAliveKeepsSilentDataSession: a client whose data is silent (every packet
// lost) but whose control connection shows life keeps its session.
func TestAliveKeepsSilentDataSession(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := startServer(t, ServerConfig{IdleTimeout: idle})
	c, rd, w, err := openSession(t, "127.0.0.1", srv.Addr().String(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if time.Duration(w.IdleNs) != idle {
		t.Errorf("welcome says idle %v, want %v", time.Duration(w.IdleNs), idle)
	}
	stop := keepAlive(c, w.Cookie, time.Duration(w.IdleNs))
	time.Sleep(5 * idle)
	stop()
	v, err := finishSession(t, c, rd, w, 0)
	if err != nil || v.Error != "" {
		t.Fatalf("session with a live control connection: %v, server error %q", err, v.Error)
	}
}

// TestAbuseOneHostCannotTakeEverySlot: a host opening sessions until refused
// gets MaxClientsPerIP of them; another host is still served.
func TestAbuseOneHostCannotTakeEverySlot(t *testing.T) {
	cfg := ServerConfig{MaxClients: 8, MaxClientsPerIP: 2}
	srv := startServer(t, cfg)
	addr := srv.Addr().String()
	spec := TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 10 * time.Minute, Size: 64}
	held, refused := 0, 0
	for i := 0; i < cfg.MaxClients; i++ {
		c, _, _, err := openSession(t, "127.0.0.2", addr, spec)
		switch {
		case err == nil:
			defer c.Close()
			stop := keepAlive(c, 0, 50*time.Millisecond)
			defer stop()
			held++
		case IsRefused(err) && strings.Contains(err.Error(), "per-address limit"):
			refused++
		default:
			t.Fatalf("hello %d: %v", i, err)
		}
	}
	t.Logf("one host asked for %d sessions: %d held, %d refused", cfg.MaxClients, held, refused)
	if held != cfg.MaxClientsPerIP {
		t.Errorf("one host holds %d sessions, want %d (its per-IP limit)", held, cfg.MaxClientsPerIP)
	}
	mustServe(t, srv) // from 127.0.0.1
}

// TestMaxClientsBackToBack: with --max-clients N, N clients each running tests
// back to back are never refused. The slot of a finished test used to be freed
// only after its result was written, so a client that started its next test at
// once found the server "busy" (28-30% of 1000 back-to-back sessions at
// --max-clients 1 before the fix; with 64 clients and their plans, about one
// client per run).
func TestMaxClientsBackToBack(t *testing.T) {
	t.Run("one slot, raw sessions back to back", func(t *testing.T) {
		srv := startServer(t, ServerConfig{MaxClients: 1, Logf: func(string, ...any) {}})
		const sessions = 300
		refused := 0
		for i := 0; i < sessions; i++ {
			c, rd, w, err := openSession(t, "127.0.0.1", srv.Addr().String(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 64})
			if err != nil {
				if !IsRefused(err) {
					t.Fatal(err)
				}
				refused++
				continue
			}
			_, err = finishSession(t, c, rd, w, 0)
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		if refused != 0 {
			t.Errorf("%d of %d back-to-back sessions refused with --max-clients 1", refused, sessions)
		}
	})
	t.Run("N clients running plans", func(t *testing.T) {
		const clients = 8
		srv := startServer(t, ServerConfig{MaxClients: clients, MaxClientsPerIP: clients})
		plan := make([]TestSpec, 6)
		for i := range plan {
			plan[i] = TestSpec{Proto: []string{ProtoTCP, ProtoUDP}[i%2], Test: TestLatency, Duration: 20 * time.Millisecond, Size: 64}
		}
		var wg sync.WaitGroup
		var refused atomic.Int64
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := newClient(srv).Run(context.Background(), plan); err != nil {
					refused.Add(1)
					t.Errorf("client %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if n := refused.Load(); n != 0 {
			t.Errorf("%d of %d clients refused with --max-clients %d", n, clients, clients)
		}
	})
}

// TestAbuseBitrate: --max-bitrate enforced by measurement. A client that claims
// a low rate and sends unpaced is cut and told so; the search sentinel is
// refused; an echo test over the limit is cut; TCP is read no faster than the
// limit; an honest client paced at the limit is not cut.
func TestAbuseBitrate(t *testing.T) {
	const limit = 8e6 // bits/s
	srv := startServer(t, ServerConfig{MaxBitrate: limit, MaxClientsPerIP: 64})
	addr := srv.Addr().String()
	bound := func(elapsed time.Duration) float64 { // the most bytes a UDP bucket lets through
		rate := limit / 8 * rateTolerance
		return max(rate*rateBurst.Seconds(), minBurst) + rate*elapsed.Seconds()
	}
	tcpBound := func(elapsed time.Duration) float64 { // the same for a TCP throttle
		return limit / 8 * elapsed.Seconds()
	}

	t.Run("udp liar claiming 1 Mbit/s, sending unpaced", func(t *testing.T) {
		spec := TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 500 * time.Millisecond, Size: 1400, Bitrate: 1e6}
		c, rd, w, err := openSession(t, "127.0.0.1", addr, spec)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		uc, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer uc.Close()
		start := time.Now()
		rep, _ := udp.SendThroughput(context.Background(), uc, udp.ThroughputConfig{Cookie: w.Cookie, Size: spec.Size, Duration: spec.Duration})
		elapsed := time.Since(start)
		v, err := finishSession(t, c, rd, w, rep.Frames)
		if err != nil {
			t.Fatal(err)
		}
		sentBps := float64(rep.Bytes) * 8 / elapsed.Seconds()
		t.Logf("liar sent %.0f Mbit/s; the server counted %d bytes (bound %.0f) and said %q", sentBps/1e6, v.WireBytes, bound(elapsed), v.Error)
		if !strings.Contains(v.Error, "max-bitrate") {
			t.Errorf("result error %q, want the session cut for its bit rate", v.Error)
		}
		if float64(v.WireBytes) > bound(elapsed) {
			t.Errorf("server accounted %d bytes, more than the limit lets through (%.0f)", v.WireBytes, bound(elapsed))
		}
	})
	t.Run("search sentinel refused", func(t *testing.T) {
		_, _, _, err := openSession(t, "127.0.0.1", addr, TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1400, Bitrate: SearchRate})
		if !IsRefused(err) {
			t.Fatalf("bitrate -1: %v, want a refusal", err)
		}
	})
	t.Run("udp echo over the limit is cut", func(t *testing.T) {
		r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 32 << 10})
		if err != nil {
			t.Fatal(err)
		}
		echoed := float64(r.ReceivedFrames) * (32 << 10)
		t.Logf("echo client: %d round trips (%.0f bytes echoed, bound %.0f), error %q", r.ReceivedFrames, echoed, bound(time.Second), r.Error)
		if !strings.Contains(r.Error, "max-bitrate") {
			t.Errorf("result error %q, want the session cut for its bit rate", r.Error)
		}
		if echoed > bound(1500*time.Millisecond) {
			t.Errorf("server echoed %.0f bytes, more than the limit lets through", echoed)
		}
	})
	for _, test := range []string{TestThroughput, TestLatency} {
		t.Run("tcp "+test+" is read no faster than the limit", func(t *testing.T) {
			start := time.Now()
			r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: test, Duration: time.Second, Size: 64 << 10})
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			bytes := float64(r.ReceivedFrames) * (64 << 10) // frames (or requests) the server read
			// The throttle waits after a read, so one read (a frame here) may
			// be ahead of the bucket.
			most := tcpBound(elapsed) + 64<<10
			t.Logf("tcp %s: %.0f bytes in %v (bound %.0f), error %q", test, bytes, elapsed.Round(time.Millisecond), most, r.Error)
			if bytes > most {
				t.Errorf("server took %.0f bytes in %v, more than the limit lets through (%.0f)", bytes, elapsed, most)
			}
			// What the user is shown: goodput never above the limit.
			if test == TestThroughput && r.GoodputBps > limit {
				t.Errorf("goodput %.0f bit/s, above the server's --max-bitrate %.0f", r.GoodputBps, limit)
			}
			if r.Error != "" {
				t.Errorf("throttled TCP test failed: %s", r.Error)
			}
		})
	}
	t.Run("honest udp client paced at the limit", func(t *testing.T) {
		r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1400, Bitrate: limit})
		if err != nil || r.Error != "" {
			t.Fatalf("honest client at the limit: %v, %q", err, r.Error)
		}
	})
	mustServe(t, srv)
}

// TestAbuseUDPSources: a UDP session answers only the source address (IP and
// port) that first sent its cookie. Datagrams with the right cookie from
// another port or another host, with a wrong cookie, or junk, get 0 bytes back,
// and the server never sends more bytes than it received (amplification <= 1).
func TestAbuseUDPSources(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxClientsPerIP: 64})
	addr := srv.Addr().String()
	udpFrom := func(src string) *net.UDPConn {
		t.Helper()
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(srv.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// drain counts the bytes a socket receives within d.
	drain := func(c *net.UDPConn, d time.Duration) (n int) {
		buf := make([]byte, 65536)
		c.SetReadDeadline(time.Now().Add(d))
		for {
			m, err := c.Read(buf)
			if err != nil {
				return n
			}
			n += m
		}
	}
	for _, test := range []string{TestLatency, TestThroughput} {
		t.Run(test, func(t *testing.T) {
			ctl, rd, w, err := openSession(t, "127.0.0.1", addr, TestSpec{Proto: ProtoUDP, Test: test, Duration: 10 * time.Second, Size: 1400, Bitrate: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			defer ctl.Close()
			typ := frame.TypeEchoRequest
			if test == TestThroughput {
				typ = frame.TypeData
			}
			req := make([]byte, 1400)
			send := func(c *net.UDPConn, cookie uint64, count int) (sent int) {
				for seq := uint64(0); seq < uint64(count); seq++ {
					frame.FillBody(req[frame.HeaderLen:], seq)
					n, _ := frame.Seal(req, frame.Header{Type: typ, Cookie: cookie, Seq: seq, BodyLen: uint32(len(req) - frame.HeaderLen)})
					if m, err := c.Write(req[:n]); err == nil {
						sent += m
					}
				}
				return sent
			}
			owner := udpFrom("127.0.0.1")
			ownerIn := send(owner, w.Cookie, 20)
			ownerOut := drain(owner, 300*time.Millisecond)
			attackers := []struct {
				name   string
				c      *net.UDPConn
				cookie uint64
			}{
				{"right cookie, another port", udpFrom("127.0.0.1"), w.Cookie},
				{"right cookie, another host", udpFrom("127.0.0.2"), w.Cookie},
				{"wrong cookie", udpFrom("127.0.0.1"), w.Cookie ^ 1},
			}
			totalIn, totalOut := ownerIn, ownerOut
			for _, a := range attackers {
				in := send(a.c, a.cookie, 200)
				junk := make([]byte, 1000)
				rand.Read(junk)
				a.c.Write(junk)
				out := drain(a.c, 300*time.Millisecond)
				t.Logf("%s: %d bytes in, %d bytes answered", a.name, in+len(junk), out)
				if out != 0 {
					t.Errorf("%s: %d bytes answered, want 0", a.name, out)
				}
				totalIn, totalOut = totalIn+in+len(junk), totalOut+out
			}
			if test == TestLatency && ownerOut != ownerIn {
				t.Errorf("the session's owner got %d bytes back for %d sent", ownerOut, ownerIn)
			}
			if test == TestThroughput && ownerOut != 0 {
				t.Errorf("a throughput session answered %d bytes", ownerOut)
			}
			amp := float64(totalOut) / float64(totalIn)
			t.Logf("amplification %.3f (%d bytes out for %d in)", amp, totalOut, totalIn)
			if amp > 1 {
				t.Errorf("amplification %.3f, want <= 1", amp)
			}
			v, err := finishSession(t, ctl, rd, w, 20)
			if err != nil {
				t.Fatal(err)
			}
			if test == TestThroughput && v.Received != 20 {
				t.Errorf("the server accounted %d frames, want the owner's 20 only", v.Received)
			}
			if test == TestLatency && v.Requests != 20 {
				t.Errorf("the server counted %d echo requests, want the owner's 20 only", v.Requests)
			}
		})
	}
	mustServe(t, srv)
}
