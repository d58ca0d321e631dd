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
	"net"
	"syscall"
)

// MaxDatagram is the largest frame one UDP datagram can carry over IPv4.
const MaxDatagram = 65507

// transient reports whether a send error only means "not now": a full socket
// buffer, or an ICMP error from an earlier datagram reported on a connected socket.
// Such sends are counted as refused and the test goes on.
func transient(err error) bool {
	return errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EHOSTUNREACH)
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
