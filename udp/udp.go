// Package udp holds the UDP halves of netduel's tests: the paced throughput sender,
// the request/response (latency) client, and the server's datagram loop that
// demultiplexes frames to sessions by cookie, accounts for data frames and answers
// echo requests. UDP carries exactly one frame per datagram.
//
// The package shares its accounting with package tcp through package stats and
// its wire format through package frame; the two transports never import each
// other.
package udp

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/netduel/netduel/frame"
)

// MaxDatagram is the largest frame one UDP datagram can carry over IPv4.
const MaxDatagram = 65507

// transient reports whether a send error only means "not now": a full socket
// buffer, or an ICMP error from an earlier datagram. The server's replies
// count such sends as refused and go on; a client's test checks unreachable
// first, since an ICMP error for the server's port means the server has gone.
func transient(err error) bool {
	return errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EHOSTUNREACH)
}

// unreachable reports whether a send error is an ICMP error for an earlier
// datagram (port or host unreachable), reported on a connected socket: the
// peer's doing, not the local stack's.
func unreachable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH)
}

// refusedError is a round trip's error when the server's port answered
// with an ICMP error (reported on the next send or receive): in a test, the
// server's UDP port is open from its hello to its report, so the server
// has gone.
func refusedError(err error) error {
	return fmt.Errorf("the server's UDP port answered with an ICMP error (%w): has the server stopped?", err)
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// EndCopies is how many end datagrams SendEnd sends: one lost on a lossy
// path still leaves the other.
const EndCopies = 2

// SendEnd tells the server's flow that the client has sent its last frame
// (sent frames in all): a frame.TypeFin datagram, sent twice. The server
// (Flow.Ended) then knows that every datagram sent before it on a path that
// keeps order has been read, and need not wait for stragglers. The end
// datagrams are not counted as frames.
func SendEnd(conn net.Conn, cookie, sent uint64) error {
	var b [frame.HeaderLen]byte
	if _, err := frame.Seal(b[:], frame.Header{Type: frame.TypeFin, Cookie: cookie, Seq: sent, Timestamp: time.Now().UnixNano()}); err != nil {
		return err
	}
	for range EndCopies {
		if _, err := conn.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}
