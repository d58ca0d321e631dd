package duel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/udp"
)

const (
	minFrame    = frame.HeaderLen
	maxUDPFrame = udp.MaxDatagram
	// maxControl bounds one control message a server reads (hello, auth, alive,
	// fin), before and after the hello alike.
	maxControl = 64 << 10
	// maxResult bounds one control message a client reads: a result carries up
	// to stats.MaxIntervals intervals, more than maxControl holds.
	maxResult = 4 << 20
)

// Control messages travel as JSON bodies of frame.TypeControl frames on the
// control connection. The "type" field names the message.
const (
	msgHello   = "hello"
	msgWelcome = "welcome"
	msgFin     = "fin"
	msgResult  = "result"
	msgError   = "error"
	// With a server token: the server's challenge and the client's proof.
	msgChallenge = "challenge"
	msgAuth      = "auth"
	// alive shows the session is alive while its data is silent.
	msgAlive = "alive"
)

// hello is the client's first message: protocol version and the test. A client
// with a token adds a fresh random nonce (see auth.go).
type hello struct {
	Type        string   `json:"type"`
	Version     int      `json:"version"`
	Test        TestSpec `json:"test"`
	ClientNonce []byte   `json:"client_nonce,omitempty"`
}

// challenge is a token server's answer to a hello: a fresh random nonce.
type challenge struct {
	Type  string `json:"type"`
	Nonce []byte `json:"nonce"`
}

// authMsg carries the client's proof that it knows the token.
type authMsg struct {
	Type  string `json:"type"`
	Proof []byte `json:"proof"`
}

// alive is sent by the client on the control connection while a test runs, so
// that a test whose data is silent (100% loss) is not taken for a vanished one.
type alive struct {
	Type string `json:"type"`
}

// ServerSetup is how long the server's sockets took to set up, in microseconds:
// what the lifecycle table shows for bind and listen.
type ServerSetup struct {
	TCPSocketUS float64 `json:"tcp_socket_us"`
	TCPBindUS   float64 `json:"tcp_bind_us"`
	TCPListenUS float64 `json:"tcp_listen_us"`
	UDPSocketUS float64 `json:"udp_socket_us"`
	UDPBindUS   float64 `json:"udp_bind_us"`
}

// welcome answers a hello: the session cookie and where to send data.
type welcome struct {
	Type     string      `json:"type"`
	Cookie   uint64      `json:"cookie"`
	Port     int         `json:"port"` // TCP data and UDP data go to this port number
	MaxFrame int         `json:"max_frame"`
	Setup    ServerSetup `json:"setup"`
	// IdleNs is the server's idle timeout: a session whose data and control
	// connection are both silent this long is ended. The client sends an alive
	// message well within it.
	IdleNs int64 `json:"idle_ns,omitempty"`
	// ServerProof, from a token server, proves it knows the token too.
	ServerProof []byte `json:"server_proof,omitempty"`
}

// fin tells the server the client has finished sending.
type fin struct {
	Type       string `json:"type"`
	SentFrames uint64 `json:"sent_frames"`
	SettleNs   int64  `json:"settle_ns"` // how long to wait for UDP frames still in flight
	// EndSent says the client sent its end datagrams (udp.SendEnd) after its
	// last frame: a server that has not read one yet keeps waiting for it a
	// while (endWait), past a quiet settle time.
	EndSent bool `json:"end_sent,omitempty"`
}

// ServerView is the server's receiver-side view of one test, returned in the
// result message.
type ServerView struct {
	// Data frames (throughput tests): the server's receiver report.
	stats.RecvReport
	LastNs int64 `json:"last_unix_ns"` // the last intact arrival, Unix ns (0 = none)
	// Echo requests (latency tests).
	Requests uint64 `json:"requests"`
	Echoed   uint64 `json:"echoed"`
	// Socket lifecycle as the server saw it, on its wall clock (Unix ns; 0 = never).
	AcceptUnixNs int64 `json:"accept_unix_ns"`
	FirstUnixNs  int64 `json:"first_unix_ns"`
	// PeerClosed says whether the server learned that the client closed its data
	// socket (TCP: a FIN; UDP: never), and ClosedUnixNs when.
	PeerClosed   bool  `json:"peer_closed"`
	ClosedUnixNs int64 `json:"closed_unix_ns"`
	// Wait says how the server waited for a latency test's requests
	// (stack.WaitBlocking, stack.WaitBusyPoll, stack.WaitNetpoller).
	Wait  string `json:"wait,omitempty"`
	Error string `json:"error,omitempty"`
}

// result carries the ServerView back to the client.
type result struct {
	Type string     `json:"type"`
	View ServerView `json:"view"`
}

// errorMsg reports a refusal (bad hello, server busy...) before the connection closes.
type errorMsg struct {
	Type  string `json:"type"`
	Error string `json:"error"`
	// MaxBitrateBps, in a refusal of a UDP test over the server's
	// --max-bitrate, is that limit, bits/s.
	MaxBitrateBps float64 `json:"max_bitrate_bps,omitempty"`
}

// writeControl sends v as a control frame.
func writeControl(conn net.Conn, cookie uint64, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeControlBody(conn, cookie, body)
}

// writeControlBody sends an encoded control message.
func writeControlBody(conn net.Conn, cookie uint64, body []byte) error {
	buf := make([]byte, frame.HeaderLen+len(body))
	h := frame.Header{Type: frame.TypeControl, Cookie: cookie, Timestamp: time.Now().UnixNano()}
	if _, err := frame.Encode(buf, h, body); err != nil {
		return err
	}
	_, err := conn.Write(buf)
	return err
}

// remoteError is an error message from the peer, its text cleaned of control
// characters and cut short (cleanServerText): a hostile peer's text reaches a
// terminal or a log otherwise, escape sequences, forged lines and all.
type remoteError struct {
	msg string
	// maxBitrate is the server's --max-bitrate when it refused a test as
	// over it, else 0.
	maxBitrate float64
}

func (e *remoteError) Error() string { return "server refused: " + e.msg }

// fromClient words an error message a client sent the server as the client's,
// not as a refusal; other errors pass as they are.
func fromClient(err error) error {
	var re *remoteError
	if errors.As(err, &re) {
		return fmt.Errorf("the client sent an error: %s", re.msg)
	}
	return err
}

// readControl reads the next control frame into v, checking its type against want.
// An error message from the peer becomes a *remoteError.
func readControl(rd *frame.Reader, want string, v any) (frame.Header, error) {
	h, typ, body, err := nextControl(rd)
	if err != nil {
		return h, err
	}
	if typ != want {
		return h, notNetduelf("expected a %s message, got %q", want, typ)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return h, notNetduelf("bad %s message: %w", want, err)
	}
	return h, nil
}

// notNetduelError is a peer's answer that no netduel peer gives: a control
// frame of the wrong kind, or a body that is not the message it should be.
type notNetduelError struct{ err error }

func (e *notNetduelError) Error() string { return e.err.Error() }
func (e *notNetduelError) Unwrap() error { return e.err }

// notNetduelf is fmt.Errorf's error (wrapping its %w) as a notNetduelError.
func notNetduelf(format string, a ...any) error {
	return &notNetduelError{err: fmt.Errorf(format, a...)}
}

// answeredWrongly reports whether err is a peer's answer that is not
// netduel's (not a frame, or not the message due), as opposed to no answer.
func answeredWrongly(err error) bool {
	var fe *frame.Error
	var ne *notNetduelError
	return errors.As(err, &fe) || errors.As(err, &ne)
}

// nextControl reads the next control frame and returns its message type and
// body. An error message from the peer becomes a *remoteError.
func nextControl(rd *frame.Reader) (frame.Header, string, []byte, error) {
	h, body, err := rd.Next()
	if err != nil {
		return h, "", nil, err
	}
	if h.Type != frame.TypeControl {
		return h, "", nil, notNetduelf("expected a control frame, got %s", h.Type)
	}
	var probe errorMsg
	if err := json.Unmarshal(body, &probe); err != nil {
		return h, "", nil, notNetduelf("bad control message: %w", err)
	}
	if probe.Type == msgError {
		limit := probe.MaxBitrateBps
		if !(limit > 0 && limit <= maxBitrate) { // NaN, negative or absurd: no limit stated
			limit = 0
		}
		return h, "", nil, &remoteError{msg: cleanServerText(probe.Error), maxBitrate: limit}
	}
	return h, probe.Type, body, nil
}

// maxBitrate bounds a limit a server's refusal states: 1 Pbit/s, beyond any
// link; more is a hostile server's, ignored.
const maxBitrate = 1e15

// refusedOverRate returns the server's --max-bitrate when err is its refusal
// of a test as over it, else 0.
func refusedOverRate(err error) float64 {
	var re *remoteError
	if errors.As(err, &re) {
		return re.maxBitrate
	}
	return 0
}

// IsRefused reports whether err is the server refusing a test (as opposed to the
// network failing).
func IsRefused(err error) bool {
	var re *remoteError
	return errors.As(err, &re)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
