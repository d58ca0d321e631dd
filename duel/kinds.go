package duel

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/udp"
)

// kindHalves are what a test kind does in this package: its transport, its
// client half (send), its server half (serve for a stream, udpMode for
// datagrams), how its result merges and how the server's view is checked.
// A kind is one register call in the file of its test (throughput.go,
// latency.go); nothing else switches on a protocol or a test.
type kindHalves struct {
	transport transport
	// send runs the client's data phase on an attached data socket, filling
	// the outcome's figures and its sent frames.
	send func(ctx context.Context, conn net.Conn, p sendParams, d *dataOutcome)
	// serve (stream transports) serves an attached data connection until the
	// client's FIN, filling the view.
	serve func(sess *session, conn net.Conn, rd *frame.Reader, accepted time.Time, view *ServerView) error
	// udpMode (datagram transports) is how the server's flow treats the
	// session's datagrams.
	udpMode udp.Mode
	// merge fills the result's figures from both ends' views.
	merge func(res *Result, d dataOutcome, v ServerView, m mergeInfo)
	// check validates the server's view against what the client knows.
	check func(v ServerView, win window) error
}

// sendParams are what a kind's client half needs.
type sendParams struct {
	spec   TestSpec
	cookie uint64
	live   *atomic.Uint64 // Client.Live
	warmup time.Duration  // round trips not recorded at the start
	wait   string         // how a latency test waits for replies (stack.Receiver)
}

// mergeInfo is what a kind's merge needs besides both ends' views.
type mergeInfo struct {
	spec     TestSpec
	sameHost bool // the server shares the client's clock
	counted  bool // the server's view is there
}
