package tcp

import "time"

// Info is the kernel's view of a TCP connection.
type Info struct {
	Retransmits uint32        // segments retransmitted over the connection's life
	RTT         time.Duration // smoothed round-trip time
	RTTVar      time.Duration // round-trip time variation
	Cwnd        uint32        // congestion window, in segments
	MSS         uint32        // sender's maximum segment size, bytes
	Congestion  string        // congestion control algorithm, for example "cubic"
}
