package duel

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"

	"github.com/netduel/netduel/frame"
)

// Shared-token authentication (ServerConfig.Token, Client.Token): an
// HMAC-SHA256 challenge-response on the control connection. The client's hello
// carries a fresh 32-byte nonce; the server answers with a challenge holding its
// own fresh 32-byte nonce; the client answers with its proof, and the server's
// welcome carries the server's proof. The token never crosses the wire.
//
//	proof = HMAC-SHA256(token, label || 0x00 || server nonce || client nonce ||
//	                           SHA-256(hello body) || cookie as 8 bytes big-endian)
//
// with label "netduel/1 client" and cookie 0 for the client's proof, label
// "netduel/1 server" and the session's cookie for the server's. The server's
// fresh nonce defeats replay of a recorded proof; the labels keep one side's
// proof from being reflected as the other's; the hello's hash binds the test
// asked for, and the cookie the welcome's answer. Proofs are compared in
// constant time (hmac.Equal). See docs/protocol.md for the threat model.

const (
	nonceLen    = 32
	labelClient = "netduel/1 client"
	labelServer = "netduel/1 server"
)

// errAuthFailed is the start of every authentication error a user sees.
const errAuthFailed = "authentication failed"

// AuthError says the authentication between client and server failed.
type AuthError struct{ Reason string }

func (e *AuthError) Error() string { return errAuthFailed + ": " + e.Reason }

// authProof computes a proof (see above).
func authProof(token, label string, serverNonce, clientNonce, helloBody []byte, cookie uint64) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(serverNonce)
	m.Write(clientNonce)
	hh := sha256.Sum256(helloBody)
	m.Write(hh[:])
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], cookie)
	m.Write(c[:])
	return m.Sum(nil)
}

// newNonce returns nonceLen bytes from crypto/rand.
func newNonce() []byte {
	b := make([]byte, nonceLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// authenticate runs the server's half of the challenge-response after a hello
// (helloBody, hl) and returns the server nonce it issued.
func (s *Server) authenticate(conn net.Conn, rd *frame.Reader, helloBody []byte, hl hello) ([]byte, error) {
	switch n := len(hl.ClientNonce); {
	case n == 0:
		return nil, &AuthError{Reason: "this server requires a token (netduel run --token, or NETDUEL_TOKEN)"}
	case n != nonceLen:
		// A client that sent a nonce means to authenticate: its nonce is wrong.
		return nil, &AuthError{Reason: fmt.Sprintf("the hello's client nonce has %d bytes, want %d", n, nonceLen)}
	}
	sn := newNonce()
	if err := writeControl(conn, 0, challenge{Type: msgChallenge, Nonce: sn}); err != nil {
		return nil, &AuthError{Reason: err.Error()}
	}
	var a authMsg
	if _, err := readControl(rd, msgAuth, &a); err != nil {
		return nil, &AuthError{Reason: fmt.Sprintf("no proof: %v", fromClient(err))}
	}
	if !hmac.Equal(a.Proof, authProof(s.cfg.Token, labelClient, sn, hl.ClientNonce, helloBody, 0)) {
		return nil, &AuthError{Reason: "wrong token"}
	}
	return sn, nil
}

// clientAuth answers a token server's challenge (the client's half).
func clientAuth(conn net.Conn, token string, ch challenge, helloBody, clientNonce []byte) error {
	if token == "" {
		return &AuthError{Reason: "the server requires a token (--token, or NETDUEL_TOKEN)"}
	}
	if len(ch.Nonce) != nonceLen {
		return &AuthError{Reason: fmt.Sprintf("the server's challenge has a %d-byte nonce, want %d", len(ch.Nonce), nonceLen)}
	}
	return writeControl(conn, 0, authMsg{Type: msgAuth, Proof: authProof(token, labelClient, ch.Nonce, clientNonce, helloBody, 0)})
}

// checkServerProof verifies a welcome's proof that the server knows the token.
func checkServerProof(token string, w welcome, serverNonce, clientNonce, helloBody []byte) error {
	if serverNonce == nil {
		return &AuthError{Reason: "the server did not ask for the token (is it a 'netduel serve --token' server?)"}
	}
	if !hmac.Equal(w.ServerProof, authProof(token, labelServer, serverNonce, clientNonce, helloBody, w.Cookie)) {
		return &AuthError{Reason: "the server's proof is wrong: it does not know the token"}
	}
	return nil
}
