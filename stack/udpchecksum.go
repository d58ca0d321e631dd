package stack

import "context"

type noUDPChecksumKey struct{}

// WithoutUDPChecksum returns a context that makes a Network's Dial of "udp"
// send its datagrams with no UDP checksum (zero: IPv4 allows it; Linux
// SO_NO_CHECK, gVisor's equivalent on netstack). A datagram corrupted on the way
// then reaches the receiving application instead of being discarded by the
// receiver's kernel, and the application's own check (the frame CRC32C) is the
// one that catches it. A Network that cannot do it fails the Dial.
func WithoutUDPChecksum(ctx context.Context) context.Context {
	return context.WithValue(ctx, noUDPChecksumKey{}, true)
}

// noUDPChecksum reports whether ctx asks for datagrams without a UDP checksum.
func noUDPChecksum(ctx context.Context) bool {
	v, _ := ctx.Value(noUDPChecksumKey{}).(bool)
	return v
}
