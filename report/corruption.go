package report

import (
	"fmt"

	"github.com/netduel/netduel/duel"
)

// corruptionLine says which layer caught the packets the link corrupted in a
// result's data direction (client to server): the receiving kernel's checksum
// (UDP: discarded, counted in the server stack's checksum errors; TCP: discarded
// and sent again) or netduel's frame CRC32C (corrupt frames). Empty when the
// link corrupted nothing.
func corruptionLine(r *duel.Result) string {
	if r.Link == nil || r.Link.Up.Corrupted == 0 {
		return ""
	}
	n := r.Link.Up.Corrupted
	kernel := "not counted"
	if s := r.Link.ServerStack; s != nil {
		kernel = Count(s.UDPChecksumErrors)
	}
	if has(r, duel.FigConnection) { // TCP: the connection sends again what the kernel discarded
		return fmt.Sprintf("the link corrupted %s packets to the server: the kernel's TCP checksum discarded them and TCP sent them again; the frame CRC32C caught %s",
			Count(n), Count(r.CorruptFrames))
	}
	how := "UDP checksum on: the kernel discards a corrupted datagram before netduel sees it (--udp-checksum off lets the frame CRC32C catch it)"
	if r.UDPChecksumOff {
		how = "UDP checksum off: corrupted datagrams reach netduel; corruption of the IP or UDP header is still dropped on the way (lost)"
	}
	return fmt.Sprintf("the link corrupted %s packets to the server: caught by the server kernel's UDP checksum %s, by the frame CRC32C %s (%s)",
		Count(n), kernel, Count(r.CorruptFrames), how)
}
