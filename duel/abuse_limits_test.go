package duel

import (
	"context"
	"crypto/rand"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/udp"
)

// Hostile clients against the server's limits on loopback (issue 11 items 4
// and 5): rate liars and datagrams from sources that do not own a session.

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
		_, _, _, err := openSession(t, "127.0.0.1", addr, TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1400, Bitrate: -1})
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
	for _, test := range Tests() {
		t.Run("tcp "+string(test)+" is read no faster than the limit", func(t *testing.T) {
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
	for _, test := range []Test{TestLatency, TestThroughput} {
		t.Run(string(test), func(t *testing.T) {
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
			checkOwnerAnswered(t, test, ownerIn, ownerOut)
			amp := float64(totalOut) / float64(totalIn)
			t.Logf("amplification %.3f (%d bytes out for %d in)", amp, totalOut, totalIn)
			if amp > 1 {
				t.Errorf("amplification %.3f, want <= 1", amp)
			}
			v, err := finishSession(t, ctl, rd, w, 20)
			if err != nil {
				t.Fatal(err)
			}
			checkOwnerAccounted(t, test, v)
		})
	}
	mustServe(t, srv)
}

// checkOwnerAnswered checks what TestAbuseUDPSources's session owner got back
// for the ownerIn bytes it sent: a latency session echoes every byte, a
// throughput session none.
func checkOwnerAnswered(t *testing.T, test Test, ownerIn, ownerOut int) {
	t.Helper()
	if test == TestLatency && ownerOut != ownerIn {
		t.Errorf("the session's owner got %d bytes back for %d sent", ownerOut, ownerIn)
	}
	if test == TestThroughput && ownerOut != 0 {
		t.Errorf("a throughput session answered %d bytes", ownerOut)
	}
}

// checkOwnerAccounted checks that the server's view of a TestAbuseUDPSources
// session counts the owner's 20 frames only, none of the attackers'.
func checkOwnerAccounted(t *testing.T, test Test, v ServerView) {
	t.Helper()
	if test == TestThroughput && v.Received != 20 {
		t.Errorf("the server accounted %d frames, want the owner's 20 only", v.Received)
	}
	if test == TestLatency && v.Requests != 20 {
		t.Errorf("the server counted %d echo requests, want the owner's 20 only", v.Requests)
	}
}
