package duel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
)

// recorder is an OS network whose connections record every byte both ways.
type recorder struct {
	stack.OS
	mu  sync.Mutex
	all bytes.Buffer
}

type recConn struct {
	net.Conn
	r *recorder
}

func (c recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.mu.Lock()
	c.r.all.Write(p[:n])
	c.r.mu.Unlock()
	return n, err
}

func (c recConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.r.all.Write(p)
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

func (r *recorder) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := r.OS.Dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return recConn{Conn: c, r: r}, nil
}

func TestAuth(t *testing.T) {
	const token = "correct horse battery staple"
	withToken := startServer(t, ServerConfig{Token: token})
	without := startServer(t, ServerConfig{})
	cases := []struct {
		name   string
		srv    *Server
		token  string
		wantOK bool
	}{
		{"right token", withToken, token, true},
		{"no token", withToken, "", false},
		{"wrong token", withToken, "correct horse battery stapler", false},
		{"token against a server without one", without, token, false},
		{"neither has a token", without, "", true},
	}
	for _, tc := range cases {
		for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
			t.Run(tc.name+"/"+string(proto), func(t *testing.T) {
				rec := &recorder{}
				c := newClient(tc.srv)
				c.Network, c.Token = rec, tc.token
				r, err := c.RunTest(context.Background(), TestSpec{Proto: proto, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
				if tc.wantOK {
					if err != nil || r.Error != "" || r.ReceivedFrames == 0 {
						t.Fatalf("err %v, result error %q, %d round trips", err, r.Error, r.ReceivedFrames)
					}
				} else {
					if err == nil || !strings.Contains(err.Error(), "authentication failed") {
						t.Fatalf("err %v, want an authentication failure", err)
					}
					var ue *UnreachableError
					if errors.As(err, &ue) {
						t.Errorf("an authentication failure reported as unreachable: %v", err)
					}
				}
				if tc.token != "" && bytes.Contains(rec.all.Bytes(), []byte(tc.token)) {
					t.Error("the token crossed the wire")
				}
			})
		}
	}
	waitSessions(t, withToken, 0)
}

// rawAuth runs the client's half of the handshake by hand and returns the
// server nonce, the proof sent and the outcome.
func rawAuth(t *testing.T, srv *Server, helloBody, clientNonce []byte, proof func(serverNonce []byte) []byte) error {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rd := frame.NewReader(c, maxResult)
	if err := writeControlBody(c, 0, helloBody); err != nil {
		t.Fatal(err)
	}
	var ch challenge
	if _, err := readControl(rd, msgChallenge, &ch); err != nil {
		t.Fatal(err)
	}
	if err := writeControl(c, 0, authMsg{Type: msgAuth, Proof: proof(ch.Nonce)}); err != nil {
		t.Fatal(err)
	}
	_, err = readControl(rd, msgWelcome, &welcome{})
	return err
}

// TestAuthReplayAndReflection: a recorded proof does not open another session
// (the server's nonce is fresh), and neither does the server's own proof.
func TestAuthReplayAndReflection(t *testing.T) {
	const token = "s3cret-token"
	srv := startServer(t, ServerConfig{Token: token})
	cn := make([]byte, nonceLen)
	rand.Read(cn)
	body := []byte(`{"type":"hello","version":1,"test":{"proto":"udp","test":"latency","duration_ns":100000000,"size":64,"bitrate":0},"client_nonce":"` + b64(cn) + `"}`)
	var recorded []byte
	if err := rawAuth(t, srv, body, cn, func(sn []byte) []byte {
		recorded = authProof(token, labelClient, sn, cn, body, 0)
		return recorded
	}); err != nil {
		t.Fatalf("honest handshake: %v", err)
	}
	if err := rawAuth(t, srv, body, cn, func([]byte) []byte { return recorded }); !IsRefused(err) || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("replayed proof: %v, want authentication failed", err)
	}
	if err := rawAuth(t, srv, body, cn, func(sn []byte) []byte { return authProof(token, labelServer, sn, cn, body, 0) }); !IsRefused(err) {
		t.Errorf("a server-side proof reflected as the client's: %v, want authentication failed", err)
	}
	waitSessions(t, srv, 0)
	c := newClient(srv)
	c.Token = token
	if r, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64}); err != nil || r.Error != "" {
		t.Fatalf("honest client after the attacks: %v %q", err, r.Error)
	}
}

// TestAuthFakeServer: a server that challenges without knowing the token cannot
// pass the client's check of its proof.
func TestAuthFakeServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := frame.NewReader(c, maxControl)
		rd.Next()
		writeControl(c, 0, challenge{Type: msgChallenge, Nonce: make([]byte, nonceLen)})
		rd.Next()
		writeControl(c, 7, welcome{Type: msgWelcome, Cookie: 7, Port: ln.Addr().(*net.TCPAddr).Port, ServerProof: make([]byte, 32)})
		rd.Next()
	}()
	c := &Client{Server: ln.Addr().String(), Token: "t"}
	_, err = c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 100 * time.Millisecond, Size: 64})
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err %v, want an AuthError", err)
	}
	<-done
}

func BenchmarkHandshake(b *testing.B) {
	for _, token := range []string{"", "bench-token"} {
		name := map[bool]string{true: "token", false: "none"}[token != ""]
		b.Run(name, func(b *testing.B) {
			srv := startServer(b, ServerConfig{Token: token, MaxPendingPerIP: 1024, MaxClientsPerIP: 64, Logf: func(string, ...any) {}})
			c := &Client{Server: srv.Addr().String(), Token: token}
			spec := TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 64}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctl, err := net.Dial("tcp", c.Server)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.handshake(ctl, frame.NewReader(ctl, maxResult), spec); err != nil {
					b.Fatal(err)
				}
				ctl.Close()
			}
			b.StopTimer()
			waitSessions(b, srv, 0)
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func (c recConn) CloseWrite() error { return c.Conn.(interface{ CloseWrite() error }).CloseWrite() }

// BenchmarkAuthProof is the cost of one proof (the server computes two per
// handshake, the client two).
func BenchmarkAuthProof(b *testing.B) {
	sn, cn := make([]byte, nonceLen), make([]byte, nonceLen)
	body := make([]byte, 200)
	for i := 0; i < b.N; i++ {
		authProof("bench-token", labelClient, sn, cn, body, uint64(i))
	}
}

// TestAuthShortNonce: a hello whose client nonce is of the wrong length is
// refused for that, not told that the server requires a token (it sent one).
func TestAuthShortNonce(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{Token: "s3cret-token"})
	for _, c := range []struct{ nonce, want string }{
		{`,"client_nonce":"` + b64([]byte{1, 2, 3}) + `"`, "client nonce has 3 bytes, want 32"},
		{"", "requires a token"},
	} {
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		body := []byte(`{"type":"hello","version":1,"test":{"proto":"udp","test":"latency","duration_ns":100000000,"size":64,"bitrate":0}` + c.nonce + `}`)
		if err := writeControlBody(conn, 0, body); err != nil {
			t.Fatal(err)
		}
		_, err = readControl(frame.NewReader(conn, maxResult), msgChallenge, &challenge{})
		conn.Close()
		if !IsRefused(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("nonce %q: %v, want refused: %s", c.nonce, err, c.want)
		}
	}
}
