package stack

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestStamped: a round trip's stamps fall inside the Write and the Read that
// made it, in every way of waiting over both protocols, and come from the
// Blocking's own system calls where there is one; a read that times out,
// spinning on empty tries, leaves the last stamp alone.
func TestStamped(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"udp", "tcp"} {
		for _, want := range []string{WaitBlocking, WaitBusyPoll, WaitNetpoller} {
			t.Run(proto+"/"+want, func(t *testing.T) {
				t.Parallel()
				c, peer := blockingPair(t, proto)
				r, _, release := Receiver(c, want)
				defer release()
				st := NewStamped(r, c)
				if (st.b != nil) != (want != WaitNetpoller) {
					t.Fatalf("stamped by the Blocking: %v, want %v", st.b != nil, want != WaitNetpoller)
				}
				if !st.Sent().IsZero() || !st.Received().IsZero() {
					t.Fatalf("stamps before any traffic: %v %v", st.Sent(), st.Received())
				}
				msg, buf := []byte("ping"), make([]byte, 16)
				for i := range 3 {
					before := time.Now()
					if _, err := st.Write(msg); err != nil {
						t.Fatal(err)
					}
					after := time.Now()
					sent := st.Sent()
					if sent.Before(before) || sent.After(after) {
						t.Fatalf("round %d: sent %v outside the Write (%v .. %v)", i, sent, before, after)
					}
					if _, err := io.ReadFull(peer, buf[:len(msg)]); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Millisecond) // the reply comes a while after the request
					echoAt := time.Now()
					if _, err := peer.Write(buf[:len(msg)]); err != nil {
						t.Fatal(err)
					}
					if err := st.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
						t.Fatal(err)
					}
					if n, err := st.Read(buf); err != nil || n != len(msg) {
						t.Fatalf("round %d: read %d, %v", i, n, err)
					}
					done := time.Now()
					got := st.Received()
					if got.Before(echoAt) || got.After(done) {
						t.Fatalf("round %d: received %v outside the reply's way (%v .. %v)", i, got, echoAt, done)
					}
					if d := got.Sub(sent); d < time.Millisecond {
						t.Fatalf("round %d: round trip %v, shorter than the peer's 1 ms pause", i, d)
					}
				}
				last := st.Received()
				if err := st.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
					t.Fatal(err)
				}
				if _, err := st.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("read with nothing to read: %v, want a deadline error", err)
				}
				if got := st.Received(); !got.Equal(last) {
					t.Fatalf("a read that got nothing moved the stamp: %v -> %v", last, got)
				}
			})
		}
	}
}
