package duel

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// Fuzzers for the control protocol (issue 11): the decoder of control frames,
// the server's handling of a hostile client's hello/auth/fin, and the client's
// handling of a hostile server's challenge/welcome/result. Seeds are in
// testdata/fuzz/<name>; run one with
//
//	go test -run '^$' -fuzz '^FuzzControlDecoder$' -fuzztime 5m ./duel

const fuzzToken = "fuzz-token"

func controlFrame(t testing.TB, cookie uint64, body []byte) []byte {
	buf := make([]byte, frame.HeaderLen+len(body))
	if _, err := frame.Encode(buf, frame.Header{Type: frame.TypeControl, Cookie: cookie}, body); err != nil {
		t.Fatal(err)
	}
	return buf
}

func seedBodies() [][]byte {
	return [][]byte{
		[]byte(`{"type":"hello","version":1,"test":{"proto":"udp","test":"latency","duration_ns":100000000,"size":64,"bitrate":0}}`),
		[]byte(`{"type":"hello","version":1,"test":{"proto":"tcp","test":"throughput","duration_ns":1,"size":40,"bitrate":-1},"client_nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`),
		[]byte(`{"type":"challenge","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`),
		[]byte(`{"type":"auth","proof":"AAAA"}`),
		[]byte(`{"type":"welcome","cookie":18446744073709551615,"port":70000,"max_frame":-1,"idle_ns":-5,"server_proof":null}`),
		[]byte(`{"type":"fin","sent_frames":18446744073709551615,"settle_ns":-9223372036854775808}`),
		[]byte(`{"type":"result","view":{"received":18446744073709551615,"lost":1,"span_ns":-1,"intervals":[{"start_s":1e308,"end_s":-1e308}]}}`),
		[]byte(`{"type":"alive"}`),
		[]byte(`{"type":"error","error":"` + string(bytes.Repeat([]byte("x"), 300)) + `"}`),
		[]byte(`{}`),
		[]byte(`not json`),
	}
}

// FuzzControlDecoder feeds the control decoder a stream made of a valid control
// frame around a fuzzed body followed by arbitrary bytes, and decodes every
// message it yields as each message type: nothing may panic, and a hello that
// parses must pass or fail the server's limits cleanly.
func FuzzControlDecoder(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add(b, []byte{})
	}
	f.Add(seedBodies()[0], controlFrame(f, 9, seedBodies()[5]))
	f.Add([]byte{}, []byte("ND\x01\x04garbage"))
	srv := &Server{cfg: ServerConfig{Token: fuzzToken}}
	srv.cfg.setDefaults()
	f.Fuzz(func(t *testing.T, body, raw []byte) {
		if len(body) > maxResult-frame.HeaderLen {
			return
		}
		b := append(controlFrame(t, 0, body), raw...)
		rd := frame.NewReader(bytes.NewReader(b), maxResult)
		for i := 0; i <= len(b)/frame.HeaderLen; i++ {
			_, typ, body, err := nextControl(rd)
			if err != nil {
				if IsRefused(err) {
					continue
				}
				return
			}
			if hl, err := parseHello(body); err == nil {
				_ = srv.admit(hl.Test)
				_ = hl.Test.String()
			}
			for _, v := range []any{&hello{}, &welcome{}, &fin{}, &result{}, &challenge{}, &authMsg{}, &errorMsg{}} {
				if json.Unmarshal(body, v) == nil && typ == msgWelcome {
					if w, ok := v.(*welcome); ok {
						_ = checkServerProof(fuzzToken, *w, make([]byte, nonceLen), make([]byte, nonceLen), body)
					}
				}
			}
		}
	})
}

// pipeServer runs srv's connection handler on one end of a pipe and returns
// the other end, with everything the server writes drained.
func pipeServer(srv *Server) (client net.Conn, wait func()) {
	c, s := net.Pipe()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer s.Close()
		srv.handleConn(s, time.Now())
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(io.Discard, c)
	}()
	return c, func() { c.Close(); wg.Wait() }
}

// FuzzServerHello plays a hostile client against the server's connection
// handler: a first control message, a second one (an auth answer, an alive, a
// fin...), then raw bytes, to a server with and without a token. The server
// must neither panic nor keep a session after the connection ends.
func FuzzServerHello(f *testing.F) {
	bodies := seedBodies()
	f.Add(bodies[0], bodies[5], []byte{}, false)
	f.Add(bodies[0], bodies[7], controlFrame(f, 0, bodies[5]), false)
	f.Add(bodies[1], bodies[3], []byte{}, true)
	f.Add(bodies[1], bodies[5], []byte("junk"), true)
	f.Add(bodies[9], bodies[10], []byte{}, false)
	servers := map[bool]*Server{}
	for _, tok := range []bool{false, true} {
		cfg := ServerConfig{HelloTimeout: 200 * time.Millisecond, IdleTimeout: 100 * time.Millisecond, MaxDuration: time.Second}
		if tok {
			cfg.Token = fuzzToken
		}
		srv, err := NewServer(cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(srv.Close)
		servers[tok] = srv
	}
	f.Fuzz(func(t *testing.T, first, second, raw []byte, token bool) {
		if len(first) > maxControl || len(second) > maxControl {
			return
		}
		// A fin may ask the server to wait up to 5 s for datagrams in flight:
		// a valid request, but one that would stall the fuzzer.
		var f fin
		if json.Unmarshal(second, &f) == nil && f.SettleNs > int64(10*time.Millisecond) {
			return
		}
		srv := servers[token]
		c, wait := pipeServer(srv)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(controlFrame(t, 0, first))
		c.Write(controlFrame(t, 0, second))
		c.Write(raw)
		wait()
		if n := srv.Sessions(); n != 0 {
			t.Fatalf("%d sessions left after the connection ended", n)
		}
	})
}

// FuzzClientHandshake plays a hostile server against the client: whatever it
// answers to the hello (a challenge, a welcome, a result, raw bytes), the
// client must return an error or a welcome, never panic, and never accept a
// welcome without the server's proof when it has a token.
func FuzzClientHandshake(f *testing.F) {
	bodies := seedBodies()
	f.Add(bodies[4], bodies[6], []byte{}, false)
	f.Add(bodies[2], bodies[4], []byte{}, true)
	f.Add(bodies[8], bodies[6], []byte("x"), true)
	f.Add(bodies[6], bodies[6], controlFrame(f, 1, bodies[6]), false)
	f.Fuzz(func(t *testing.T, first, second, raw []byte, token bool) {
		c, s := net.Pipe()
		defer c.Close()
		go func() {
			defer s.Close()
			go io.Copy(io.Discard, s)
			s.SetWriteDeadline(time.Now().Add(time.Second))
			s.Write(controlFrame(t, 0, first))
			s.Write(controlFrame(t, 0, second))
			s.Write(raw)
		}()
		cl := &Client{Server: "pipe"}
		if token {
			cl.Token = fuzzToken
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		rd := frame.NewReader(c, maxResult)
		spec := TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 64}
		w, err := cl.handshake(c, rd, spec)
		if err != nil {
			return
		}
		if token {
			t.Fatalf("welcome %+v accepted without a valid server proof", w)
		}
		// Then the result, as the client reads it after its fin.
		var r result
		if _, err := readControl(rd, msgResult, &r); err == nil {
			var res Result
			cl.merge(&res, spec, w, dataOutcome{}, r.View, true)
		}
	})
}
