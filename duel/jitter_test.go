package duel

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestJitterNeedsTwoFrames runs throughput tests on loopback and checks
// where RFC 3550 jitter appears: a UDP test that delivered one frame (a
// 1400-byte frame at 1 kbit/s, one in a second's test) has no jitter at all,
// not {0, 0, 0}; a UDP test of many frames has it, in the result and in each
// interval; a TCP test has it nowhere, its intervals included.
func TestJitterNeedsTwoFrames(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	tests := []struct {
		proto      Proto
		bitrate    float64
		frames     uint64 // received: exactly this many, or (0) more than 10
		wantJitter bool
	}{
		{ProtoUDP, 1e3, 1, false},
		{ProtoUDP, 20e6, 0, true},
		{ProtoTCP, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%g", tt.proto, tt.bitrate), func(t *testing.T) {
			t.Parallel()
			spec := TestSpec{Proto: tt.proto, Test: TestThroughput, Duration: time.Second, Size: 1400,
				Bitrate: tt.bitrate, Interval: 250 * time.Millisecond}
			r, err := newClient(srv).RunTest(context.Background(), spec)
			if err != nil || r.Error != "" {
				t.Fatalf("RunTest: %v, %q", err, r.Error)
			}
			if tt.frames > 0 && r.ReceivedFrames != tt.frames || tt.frames == 0 && r.ReceivedFrames <= 10 {
				t.Fatalf("received %d frames, want %d (0: more than 10)", r.ReceivedFrames, tt.frames)
			}
			if (r.Jitter != nil) != tt.wantJitter {
				t.Errorf("jitter %+v, want present %v", r.Jitter, tt.wantJitter)
			}
			if len(r.Intervals) == 0 {
				t.Fatal("no intervals")
			}
			for i, iv := range r.Intervals {
				if iv.JitterMs != nil && (!tt.wantJitter || iv.Frames == 0) {
					t.Errorf("interval %d (%d frames) has jitter %v ms", i, iv.Frames, *iv.JitterMs)
				}
				if iv.JitterMs == nil && tt.wantJitter && iv.Frames > 1 {
					t.Errorf("interval %d (%d frames) has no jitter", i, iv.Frames)
				}
			}
		})
	}
}
