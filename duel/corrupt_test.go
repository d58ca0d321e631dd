package duel

import (
	"context"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// TestCorruptionCaughtByLayer: datagrams the link corrupts are discarded by
// the server kernel's UDP checksum when the checksum is on, and reach the
// server, whose frame CRC32C counts them in corrupt_frames, when the client
// sends without one. A flipped bit in the IP or UDP header (28 of 1428 bytes)
// is dropped on the way either way (one in the zero checksum field makes the
// kernel check it), so the counts match the link's to a few.
func TestCorruptionCaughtByLayer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs across an emulated link")
	}
	backends := []string{link.Netstack}
	if l, err := link.Open(link.Tun, impair.Config{}, ""); err == nil {
		l.Close()
		backends = append(backends, link.Tun)
	} else {
		t.Logf("tun skipped: %v", err)
	}
	for _, backend := range backends {
		for _, off := range []bool{false, true} {
			name := backend + "/checksum on"
			if off {
				name = backend + "/checksum off"
			}
			t.Run(name, func(t *testing.T) {
				l, err := link.Open(backend, impair.Config{Corrupt: 0.02}, "")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				spec := TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1400, Bitrate: 20e6}
				rs, _, err := RunOnLink(context.Background(), l, Client{Settle: 100 * time.Millisecond, NoUDPChecksum: off}, []TestSpec{spec}, "")
				if err != nil {
					t.Fatal(err)
				}
				r := rs[0]
				if r.Error != "" || r.UDPChecksumOff != off {
					t.Fatalf("error %q, checksum off %v", r.Error, r.UDPChecksumOff)
				}
				corrupted := r.Link.Up.Corrupted
				if corrupted < 10 {
					t.Fatalf("the link corrupted only %d packets", corrupted)
				}
				var kernel uint64
				if r.Link.ServerStack != nil {
					kernel = r.Link.ServerStack.UDPChecksumErrors
				}
				caught := r.CorruptFrames
				if !off {
					caught = kernel
					if r.CorruptFrames != 0 {
						t.Errorf("checksum on: %d corrupt frames reached netduel", r.CorruptFrames)
					}
				} else if kernel > corrupted/10 {
					// Only a flip in the zero checksum field itself makes the
					// kernel check (and fail) a datagram.
					t.Errorf("checksum off: the server kernel discarded %d datagrams by checksum", kernel)
				}
				// Header hits (about 2%) are not caught by the layer counted.
				if caught > corrupted || float64(caught) < 0.85*float64(corrupted) {
					t.Errorf("the link corrupted %d packets; caught %d (frame CRC %d, kernel checksum %d)", corrupted, caught, r.CorruptFrames, kernel)
				}
				t.Logf("link corrupted %d; frame CRC caught %d, kernel checksum %d; lost %d", corrupted, r.CorruptFrames, kernel, r.LostFrames)
			})
		}
	}
}
