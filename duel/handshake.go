package duel

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/netduel/netduel/frame"
)

// handshake sends the hello for spec on the control connection (answering a
// token server's challenge) and returns the server's welcome. A refusal or a
// failed authentication is returned as is; any other failure as an
// *UnreachableError.
func (c *Client) handshake(ctl net.Conn, rd *frame.Reader, spec TestSpec) (welcome, error) {
	var w welcome
	hl := hello{Type: msgHello, Version: ProtocolVersion, Test: spec}
	if c.Token != "" {
		hl.ClientNonce = newNonce()
	}
	body, err := json.Marshal(hl)
	if err != nil {
		return w, err
	}
	if err := writeControlBody(ctl, 0, body); err != nil {
		return w, &UnreachableError{Addr: c.Server, Err: err}
	}
	unreachable := func(err error) error {
		if IsRefused(err) {
			return err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// Bytes came, then the end, before a whole frame: netduel's
			// server never answers so (an HTTP server's short "400 Bad
			// Request" was called unreachable, "unexpected EOF").
			err = notNetduelf("a few bytes that are not a whole frame, then the connection closed: %w", err)
		}
		return &UnreachableError{Addr: c.Server, Err: fmt.Errorf("no welcome: %w", err), Answered: answeredWrongly(err)}
	}
	_, typ, msg, err := nextControl(rd)
	if err != nil {
		return w, unreachable(err)
	}
	var serverNonce []byte
	if typ == msgChallenge {
		var ch challenge
		if err := json.Unmarshal(msg, &ch); err != nil {
			return w, unreachable(notNetduelf("bad challenge message: %w", err))
		}
		if err := clientAuth(ctl, c.Token, ch, body, hl.ClientNonce); err != nil {
			return w, err
		}
		serverNonce = ch.Nonce
		if _, typ, msg, err = nextControl(rd); err != nil {
			return w, unreachable(err)
		}
	}
	if typ != msgWelcome {
		return w, unreachable(notNetduelf("expected a welcome message, got %q", typ))
	}
	if err := json.Unmarshal(msg, &w); err != nil {
		return w, unreachable(notNetduelf("bad welcome message: %w", err))
	}
	if c.Token != "" {
		if err := checkServerProof(c.Token, w, serverNonce, hl.ClientNonce, body); err != nil {
			return w, err
		}
	}
	return w, nil
}

// keepAlive sends alive messages on the control connection, a few per server
// idle timeout (as the welcome states it), until the returned stop is called.
// The server then never takes a test whose data is silent (a link losing every
// packet) for a vanished client.
//
// A server whose welcome states no idle timeout predates alive messages (it
// would take one for a protocol error): it gets none.
func keepAlive(ctl net.Conn, cookie uint64, idle time.Duration) (stop func()) {
	if idle <= 0 {
		return func() {}
	}
	every := max(idle/4, 10*time.Millisecond)
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if writeControl(ctl, cookie, alive{Type: msgAlive}) != nil {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}
