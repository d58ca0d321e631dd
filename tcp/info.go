package tcp

import "time"

// Info is the kernel's view of a TCP connection.
// Its JSON is what a result shows of it (the times are the result's own).
type Info struct {
	Retransmits uint32        `json:"retransmits"` // segments retransmitted over the connection's life
	RTT         time.Duration `json:"-"`           // smoothed round-trip time
	RTTVar      time.Duration `json:"-"`           // round-trip time variation
	Cwnd        uint32        `json:"cwnd"`        // congestion window, in segments
	MSS         uint32        `json:"-"`           // sender's maximum segment size, bytes
	Congestion  string        `json:"congestion"`  // congestion control algorithm, for example "cubic"
}
