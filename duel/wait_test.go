package duel

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/stack"
)

// TestLatencyWaits: a latency test says how each end waited for its
// messages: blocked in the kernel on the OS's sockets (Linux), spinning with
// BusyPoll where the server allows it; a server that does not allow busy
// polling refuses it, saying how to allow it; a spec asking busy polling of
// a test that does not wait for replies is refused.
func TestLatencyWaits(t *testing.T) {
	t.Parallel()
	want := stack.WaitBlocking
	if runtime.GOOS != "linux" {
		want = stack.WaitNetpoller
	}
	busyWant := stack.WaitBusyPoll
	if runtime.GOOS != "linux" {
		busyWant = stack.WaitNetpoller
	}
	allowing := startServer(t, ServerConfig{AllowBusyPoll: true})
	strict := startServer(t, ServerConfig{})
	for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
		for _, tc := range []struct {
			name string
			srv  *Server
			busy bool
			want Waits
			err  string
		}{
			{"default", strict, false, Waits{want, want}, ""},
			{"busy", allowing, true, Waits{busyWant, busyWant}, ""},
			{"busy refused", strict, true, Waits{}, "serve --allow-busy-poll"},
		} {
			t.Run(string(proto)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				spec := TestSpec{Proto: proto, Test: TestLatency, Duration: 200 * time.Millisecond, Size: 64, BusyPoll: tc.busy}
				r, err := newClient(tc.srv).RunTest(context.Background(), spec)
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("err %v, want one naming %q", err, tc.err)
					}
					return
				}
				if err != nil || r.Error != "" {
					t.Fatalf("RunTest: %v %s", err, r.Error)
				}
				if r.ReceivedFrames == 0 || r.Wait == nil || *r.Wait != tc.want {
					t.Fatalf("received %d, wait %+v, want %+v", r.ReceivedFrames, r.Wait, tc.want)
				}
			})
		}
	}
	spec := TestSpec{Proto: ProtoTCP, Test: TestThroughput, Duration: time.Second, Size: 1400, BusyPoll: true}
	if err := spec.check(DefaultMaxFrame); err == nil || !strings.Contains(err.Error(), "latency") {
		t.Fatalf("busy polling a throughput test: %v, want it refused", err)
	}
}
