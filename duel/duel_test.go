package duel

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer runs a server on 127.0.0.1 port 0 for the test's lifetime.
func startServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

func newClient(srv *Server) *Client {
	return &Client{Network: &stack.OS{}, Server: srv.Addr().String(), SameHost: true, Settle: 100 * time.Millisecond}
}

// TestRunEveryKind runs every registered test kind (a test-only kind
// included, kind_test.go) on loopback and checks its result by the figures
// the kind declares.
func TestRunEveryKind(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	for _, k := range Kinds() {
		t.Run(strings.ReplaceAll(k.String(), " ", "/"), func(t *testing.T) {
			spec := TestSpec{Proto: k.Proto, Test: k.Test, Duration: 300 * time.Millisecond, Size: k.DefaultSize}
			if k.Has(FigPacing) {
				spec.Bitrate = 50e6 // paced well below what loopback takes: no loss expected
			}
			r, err := newClient(srv).RunTest(context.Background(), spec)
			if err != nil {
				t.Fatalf("RunTest: %v", err)
			}
			if r.Error != "" {
				t.Fatalf("result error: %s", r.Error)
			}
			checkFrames(t, k, r)
			checkFigures(t, k, r)
			checkLifecycle(t, k, r.Lifecycle)
		})
	}
	waitSessions(t, srv, 0)
}

// checkFrames checks a loopback result's frame counts.
func checkFrames(t *testing.T, k *Kind, r Result) {
	t.Helper()
	if r.SentFrames == 0 || r.ReceivedFrames == 0 {
		t.Fatalf("sent %d, received %d: want both > 0", r.SentFrames, r.ReceivedFrames)
	}
	if r.GoodputBps <= 0 {
		t.Errorf("goodput %v, want > 0", r.GoodputBps)
	}
	if r.CorruptFrames != 0 || r.DuplicateFrames != 0 {
		t.Errorf("corrupt %d, duplicate %d on loopback: want 0", r.CorruptFrames, r.DuplicateFrames)
	}
	if k.Has(FigConnection) && r.LostFrames != 0 {
		t.Errorf("%s lost %d frames", k, r.LostFrames)
	}
	if k.Has(FigConnection|FigStream) && r.ReceivedFrames != r.SentFrames {
		t.Errorf("%s received %d of %d frames", k, r.ReceivedFrames, r.SentFrames)
	}
	if k.Has(FigStream) && r.ReceivedFrames+r.LostFrames < r.SentFrames {
		t.Errorf("received %d + lost %d < sent %d", r.ReceivedFrames, r.LostFrames, r.SentFrames)
	}
}

// checkFigures checks that a result has the figures its kind declares, and
// plausible ones.
func checkFigures(t *testing.T, k *Kind, r Result) {
	t.Helper()
	if k.Has(FigRoundTrips) != (r.RTT != nil) {
		t.Errorf("%s: RTT %+v", k, r.RTT)
	}
	if r.RTT != nil && (r.RTT.P50 <= 0 || r.RTT.Min > r.RTT.P50 || r.RTT.P50 > r.RTT.P99 || r.RTT.P99 > r.RTT.Max) {
		t.Errorf("RTT summary %+v: want 0 < min <= p50 <= p99 <= max", r.RTT)
	}
	if k.Has(FigPacing) && (r.OfferedBps == nil || *r.OfferedBps <= 0 || *r.OfferedBps > 60e6) {
		t.Errorf("offered rate %v, want about 50 Mbit/s", deref(r.OfferedBps))
	}
	if !k.Has(FigPacing) && (r.OfferedBps != nil || r.RequestedBps != nil) {
		t.Errorf("%s: a paced sender's figures in a kind that does not pace", k)
	}
	if k.Has(FigJitter) != (r.Jitter != nil) {
		t.Errorf("%s: jitter %+v", k, r.Jitter)
	}
}

// checkLifecycle checks the socket lifecycle steps a kind's transport has.
func checkLifecycle(t *testing.T, k *Kind, l Lifecycle) {
	t.Helper()
	if l.ConnectUS == nil || l.SocketUS == nil || l.BindUS == nil || l.CloseUS == nil {
		t.Errorf("lifecycle missing steps: %+v", l)
	}
	if k.Has(FigConnection) && (!l.Handshake || !l.PeerSawClose || l.ListenUS == nil) {
		t.Errorf("%s lifecycle %+v: want a handshake, a listen and the FIN seen", k, l)
	}
	if !k.Has(FigConnection) && (l.Handshake || l.PeerSawClose || l.ListenUS != nil) {
		t.Errorf("%s lifecycle %+v: want no handshake, no listen, no close seen", k, l)
	}
}

// waitSessions waits until the server has n sessions in progress.
func waitSessions(t testing.TB, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d sessions, want %d", srv.Sessions(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConcurrentClients(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	plan := []TestSpec{
		{Proto: ProtoTCP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 64 << 10},
		{Proto: ProtoUDP, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: 1400, Bitrate: 20e6},
		{Proto: ProtoUDP, Test: TestLatency, Duration: 300 * time.Millisecond, Size: 64},
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := newClient(srv).Run(context.Background(), plan)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			for _, r := range res {
				if r.Error != "" || r.ReceivedFrames == 0 {
					t.Errorf("client %d %s %s: error %q, received %d", i, r.Proto, r.Test, r.Error, r.ReceivedFrames)
				}
				// Sessions are isolated: nobody counts another session's frames.
				if r.Test == TestThroughput && r.ReceivedFrames > r.SentFrames {
					t.Errorf("client %d %s: received %d > sent %d", i, r.Proto, r.ReceivedFrames, r.SentFrames)
				}
			}
		}()
	}
	wg.Wait()
	waitSessions(t, srv, 0)
}

func TestBadInputLeavesServerServing(t *testing.T) {
	srv := startServer(t, ServerConfig{IdleTimeout: 3 * time.Second, HelloTimeout: 500 * time.Millisecond})
	addr := srv.Addr().String()
	junk := make([]byte, 2000)

	t.Run("udp random bytes get no reply", func(t *testing.T) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < 50; i++ {
			rand.Read(junk[:1+i*37])
			c.Write(junk[:1+i*37])
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := c.Read(make([]byte, 65536)); err == nil {
			t.Fatalf("got a %d-byte reply to random datagrams", n)
		}
	})
	t.Run("tcp random bytes close the connection", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rand.Read(junk)
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			t.Fatalf("connection not closed by the server: %v", err)
		}
		if n != 0 {
			t.Fatalf("server answered random bytes with %d bytes", n)
		}
	})
	t.Run("tcp oversized frame closes the connection", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hdr := make([]byte, 40)
		copy(hdr, []byte{0x4E, 0x44, 1, 4}) // magic, version, control
		hdr[32], hdr[33], hdr[34], hdr[35] = 0x7f, 0xff, 0xff, 0xff
		c.Write(hdr)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("connection not closed by the server: %v", err)
		}
	})
	t.Run("silent connection is closed after the hello timeout", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("idle connection not closed: %v", err)
		}
	})
	t.Run("udp datagram with a stolen cookie from another source port is accounted, not answered", func(t *testing.T) {
		// A valid-looking echo request with a cookie no session has: no reply.
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := make([]byte, 64)
		mustEncodeEcho(t, req, 0x1234)
		c.Write(req)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Read(make([]byte, 100)); err == nil {
			t.Fatal("server answered an echo request with an unknown cookie")
		}
	})
	t.Run("still serves", func(t *testing.T) {
		for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
			r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: proto, Test: TestLatency, Duration: 200 * time.Millisecond, Size: 64})
			if err != nil || r.Error != "" || r.ReceivedFrames == 0 {
				t.Fatalf("%s after bad input: err %v, result error %q, %d round trips", proto, err, r.Error, r.ReceivedFrames)
			}
		}
	})
	waitSessions(t, srv, 0)
}

func TestVanishedClientFreesSession(t *testing.T) {
	srv := startServer(t, ServerConfig{IdleTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// A hello, then silence: the session must not stay "busy" forever.
	if err := writeControl(c, 0, hello{Type: msgHello, Version: ProtocolVersion, Test: TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 200 * time.Millisecond, Size: 1400}}); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, srv, 1)
	// Duration + idle timeout later, the server gives up on it.
	waitSessions(t, srv, 0)
	c.Close()
}

// TestRefusals: each test over a limit gets its own refusal: the server's
// (a remote error naming the figure and the limit) for what only it knows, the
// client's own check for what no server could carry.
func TestRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MaxDuration: time.Second, MaxBitrate: 1e6, MaxClients: 1})
	cases := []struct {
		name    string
		spec    TestSpec
		refused bool     // by the server (else by the client, before asking)
		says    []string // what the message must name
	}{
		{"too long", TestSpec{Proto: ProtoTCP, Test: TestLatency, Duration: 2 * time.Second, Size: 64}, true, []string{"duration 2s", "limit of 1s"}},
		{"too fast", TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 1400, Bitrate: 2e6}, true, []string{"2000000", "1000000"}},
		{"unpaced over a limit", TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 1400}, true, []string{"unpaced", "1000000"}},
		{"udp frame too big", TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 70000, Bitrate: 1e5}, false, []string{"70000", "65507"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newClient(srv).RunTest(context.Background(), tc.spec)
			if err == nil {
				t.Fatal("want an error")
			}
			if IsRefused(err) != tc.refused {
				t.Errorf("refused by the server: %v, want %v (%v)", IsRefused(err), tc.refused, err)
			}
			for _, w := range tc.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &Client{Server: addr}
	_, err = c.RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
	var ue *UnreachableError
	if err == nil || !errorsAs(err, &ue) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if ue.Addr != addr {
		t.Errorf("error names %q, want %q", ue.Addr, addr)
	}
	// Run keeps the test as a result that never ran: no figures, not zeros.
	rs, err := c.Run(context.Background(), []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 1200}})
	if err == nil || len(rs) != 1 || rs[0].Extent != NotRun || rs[0].Ran() || rs[0].Error == "" {
		t.Fatalf("Run: %v, results %+v: want one result that never ran, with its error", err, rs)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func mustEncodeEcho(t *testing.T, buf []byte, cookie uint64) {
	t.Helper()
	body := buf[frame.HeaderLen:]
	frame.FillBody(body, 0)
	if _, err := frame.Seal(buf, frame.Header{Type: frame.TypeEchoRequest, Cookie: cookie, BodyLen: uint32(len(body))}); err != nil {
		t.Fatal(err)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
