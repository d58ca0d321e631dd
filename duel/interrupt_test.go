package duel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestInterruptedTestSaysSo: a test cut short by its context reports
// errInterrupted, whichever way the transport noticed (a cancelled read, a
// closed socket, a deadline set to stop it), never the context's own
// "context canceled" or a socket error the cancelling caused.
func TestInterruptedTestSaysSo(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{AllowBusyPoll: true})
	for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
		for _, test := range []Test{TestLatency, TestThroughput} {
			for _, busy := range []bool{false, true} {
				if busy && test != TestLatency {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/busy=%v", proto, test, busy), func(t *testing.T) {
					for i := range 5 {
						// Cut the test once its data flows, a little later
						// each round, however long the connect took.
						ctx, cancel := context.WithCancel(context.Background())
						var live atomic.Uint64
						go func() {
							defer cancel()
							for start := time.Now(); live.Load() == 0 && time.Since(start) < 4*time.Second; {
								time.Sleep(time.Millisecond)
							}
							time.Sleep(time.Duration(1+23*i) * time.Millisecond)
						}()
						spec := TestSpec{Proto: proto, Test: test, Duration: 5 * time.Second, Size: 64}
						if test == TestThroughput {
							spec.Size = 1200
							spec.Bitrate = 20e6
						}
						spec.BusyPoll = busy
						c := newClient(srv)
						c.Live = &live
						r, err := c.RunTest(ctx, spec)
						cancel()
						if err != nil {
							t.Fatalf("RunTest: %v", err)
						}
						if r.Error != errInterrupted.Error() {
							t.Fatalf("round %d: error %q, want %q", i, r.Error, errInterrupted)
						}
						// A throughput test's counts are the server's, which
						// an interrupted test never collects; a latency
						// test's are the client's own.
						if want := map[Test]Extent{TestThroughput: ClientOnly, TestLatency: Measured}[test]; r.Extent != want {
							t.Fatalf("round %d: extent %d, want %d", i, r.Extent, want)
						}
					}
				})
			}
		}
	}
}

// TestInterruptedBeforeStartSaysSo: a run interrupted while its test waits
// for the server's welcome has a result saying it was interrupted before the
// test started, not the context's own "context canceled", and its error is
// still the context's underneath.
func TestInterruptedBeforeStartSaysSo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	c := &Client{Server: silentListener(t)} // accepts, and never welcomes
	rs, err := c.Run(ctx, []TestSpec{{Proto: ProtoTCP, Test: TestLatency, Duration: time.Second, Size: 64}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want it to be context.Canceled underneath", err)
	}
	if len(rs) != 1 || rs[0].Error != "interrupted before the test started" || rs[0].Extent != NotRun {
		t.Fatalf("results %+v, want one that never ran, interrupted before the test started", rs)
	}

	// A --bitrate max search cut during its trials (each at least 1 s)
	// has run tests, but has no result: it says so.
	srv := startServer(t, ServerConfig{})
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(1500*time.Millisecond, cancel)
	rs, err = newClient(srv).Run(ctx, []TestSpec{{Proto: ProtoUDP, Test: TestThroughput, Duration: 4 * time.Second, Size: 1200,
		Search: &SearchSpec{MaxLossPct: 0.5}}})
	// Cut in a trial, the search stops and says so; cut as a trial ends
	// (the race is the machine's), its result is that trial's, interrupted.
	switch {
	case len(rs) != 1:
		t.Fatalf("an interrupted search: %v, %d results", err, len(rs))
	case rs[0].Error == "interrupted during the --bitrate max search, before its result" && errors.Is(err, context.Canceled):
	case rs[0].Error == errInterrupted.Error() && rs[0].Search != nil:
	default:
		t.Fatalf("an interrupted search: %v, %+v", err, rs[0])
	}
}
