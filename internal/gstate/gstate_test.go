package gstate

import (
	"testing"
	"time"
)

func parkedOnChannel(ch chan struct{}) { <-ch }

func TestOf(t *testing.T) {
	ch := make(chan struct{})
	defer close(ch)
	go parkedOnChannel(ch)
	time.Sleep(20 * time.Millisecond)
	if st := Of("gstate.parkedOnChannel("); st != "chan receive" {
		t.Errorf("a goroutine blocked on a channel: %q, want chan receive", st)
	}
	if st := Of("no.such.function("); st != "" {
		t.Errorf("no such goroutine: %q", st)
	}
}
