package duel

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// hostileText is a peer's error text meant to take over a terminal or forge
// log lines: escape sequences, a newline, a carriage return, a bell, and far
// more than anyone reads.
const hostileText = `\u001b[2J\u001b[31mPWNED\nFAKE 18:00:00 log line\r\u0007` + "tail"

func checkCleanLine(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\n\r\a") {
		t.Errorf("%s %.160q: control characters from the peer's text", what, s)
	}
	if len(s) > 3*maxServerError {
		t.Errorf("%s is %d bytes: the peer's text was not cut short", what, len(s))
	}
}

// TestRefusalTextCleaned: a server's refusal reaches the client's error (its
// terminal, its JSON) cleaned and cut short; it came through raw before.
func TestRefusalTextCleaned(t *testing.T) {
	t.Parallel()
	fs := startFake(t, func(int) string {
		return `{"type":"error","error":"` + hostileText + strings.Repeat("x", 5000) + `"}`
	}, honestResult)
	c := &Client{Server: fs.addr(), Settle: 10 * time.Millisecond}
	_, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
	if err == nil || !IsRefused(err) || !strings.Contains(err.Error(), "PWNED") {
		t.Fatalf("error %v: want the refusal", err)
	}
	checkCleanLine(t, "refusal", err.Error())
}

// TestWrongAnswerIsNotUnreachable: a program that answers on the port, but
// not as a netduel server (bytes that are no frame, a welcome of the wrong
// shape), is reported as such, not as a server that cannot be reached.
func TestWrongAnswerIsNotUnreachable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer func(net.Conn)
	}{
		{"not a frame", func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) }},
		{"under a header, then closed", func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n")); c.Close() }}, // said: unreachable, unexpected EOF
		{"welcome of the wrong shape", func(c net.Conn) { writeRaw(c, `{"type":"welcome","cookie":"seven"}`) }},
		{"a data frame", func(c net.Conn) {
			buf := make([]byte, frame.HeaderLen)
			frame.Encode(buf, frame.Header{Type: frame.TypeData}, nil)
			c.Write(buf)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			t.Cleanup(func() { ln.Close(); wg.Wait() })
			wg.Go(func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				rd := frame.NewReader(conn, frame.MaxFrameSize)
				if _, _, err := rd.Next(); err == nil { // the hello
					tc.answer(conn)
				}
				time.Sleep(200 * time.Millisecond)
			})
			c := &Client{Server: ln.Addr().String(), Settle: 10 * time.Millisecond}
			_, err = c.RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
			var ue *UnreachableError
			if !errorsAs(err, &ue) || !ue.Answered || !strings.Contains(err.Error(), "answered, but not as") {
				t.Errorf("error %v: want an answer that is not netduel's", err)
			}
		})
	}
}

// TestSilentAcceptIsNotUnreachable: a program that accepts the control
// connection and never answers is reported as exactly that, with how long
// the client waited, not as "unreachable" (the old text, which sent the user
// to check whether the port was open: it was).
func TestSilentAcceptIsNotUnreachable(t *testing.T) {
	t.Parallel()
	c := &Client{Server: silentListener(t)}
	_, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
	ue := &UnreachableError{}
	if !errorsAs(err, &ue) || ue.Silent != controlTimeout(10*time.Second, 0) || ue.Answered ||
		!strings.Contains(err.Error(), "accepted the connection but sent no welcome in 12.6s") || strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %v (silent %v): want a silent server, with the wait", err, ue.Silent)
	}
}

// TestClientErrorLoggedAsClients: an error message a client sends during its
// test is logged as the client's, cleaned, on one line; it was logged raw as
// "server refused", forged lines and all.
func TestClientErrorLoggedAsClients(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logs []string
	srv := startServer(t, ServerConfig{Logf: func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, a...))
	}})
	c, rd, w, err := openSession(t, "127.0.0.1", srv.Addr().String(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := writeRaw(c, `{"type":"error","error":"`+hostileText+`"}`); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd.Next() // the server closes the session
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		var line string
		for _, l := range logs {
			if strings.Contains(l, "PWNED") {
				line = l
			}
		}
		mu.Unlock()
		if line != "" {
			checkCleanLine(t, "log line", line)
			if strings.Contains(line, "server refused") || !strings.Contains(line, "the client sent an error") {
				t.Errorf("log line %q: want the client's error named as the client's", line)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line of the client's error in %q (welcome %+v)", logs, w)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHelloFieldNamed: a hello with a field of the wrong type is refused
// with the field's name, not as "not a hello".
func TestHelloFieldNamed(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	for _, tc := range []struct{ body, field string }{
		{`{"type":"hello","version":"1","test":{}}`, "version"},
		{`{"type":"hello","version":1,"test":{"duration_ns":1e99}}`, "duration"},
	} {
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := writeControlBody(conn, 0, []byte(tc.body)); err != nil {
			t.Fatal(err)
		}
		_, _, _, err = nextControl(frame.NewReader(conn, maxResult))
		conn.Close()
		if !IsRefused(err) || !strings.Contains(err.Error(), tc.field) || strings.Contains(err.Error(), "must be a hello") {
			t.Errorf("hello %s: %v, want a refusal naming %q", tc.body, err, tc.field)
		}
	}
}

// TestHugeIdleTimeoutServes: a server whose idle timeout is near the
// largest duration serves tests; the session's lifetime (duration plus twice
// the idle timeout) overflowed into the past, and every session ended at
// once ("outlasted its duration").
func TestHugeIdleTimeoutServes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{IdleTimeout: 2562047 * time.Hour})
	r, err := newClient(srv).RunTest(context.Background(), TestSpec{Proto: ProtoTCP, Test: TestLatency, Duration: 200 * time.Millisecond, Size: 64})
	if err != nil || r.Error != "" || r.ReceivedFrames == 0 {
		t.Fatalf("err %v, result error %q, %d round trips", err, r.Error, r.ReceivedFrames)
	}
}

// TestRateSearchUnderServerLimit: --bitrate max against a server with
// --max-bitrate searches up to that limit; the server refused the unpaced
// first trial, and the search ended there.
func TestRateSearchUnderServerLimit(t *testing.T) {
	t.Parallel()
	const limit = 40e6
	srv := startServer(t, ServerConfig{MaxBitrate: limit})
	r, err := newClient(srv).FindMaxRate(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1200}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Search
	if s == nil || s.CapBps != limit || len(s.Trials) == 0 {
		t.Fatalf("search %+v: want it capped at %v", s, limit)
	}
	for _, tr := range s.Trials {
		if tr.BitrateBps <= 0 || tr.BitrateBps > limit {
			t.Errorf("trial at %v bit/s: want paced at most %v", tr.BitrateBps, limit)
		}
	}
	if !s.Found || r.RequestedBps == nil || *r.RequestedBps > limit {
		t.Errorf("found %v at %v: want a rate at most the limit", s.Found, r.RequestedBps)
	}
}

// silentListener returns the address of a TCP listener that accepts one
// connection and never says a word on it, until the test ends.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit); ln.Close(); wg.Wait() })
	wg.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		<-quit
	})
	return ln.Addr().String()
}
