//go:build unix

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A server that dies is reported with how it ended and what it last said,
// and revive starts it again as it was started.
func TestReviveServer(t *testing.T) {
	t.Parallel()
	s := &serverSet{logf: t.Logf}
	defer s.stopAll()
	always := func(int) bool { return true }
	ctx := context.Background()
	// The first start writes to stderr and dies of a signal; the second lives.
	mark := filepath.Join(t.TempDir(), "started")
	script := "if [ -e " + mark + " ]; then exec sleep 60; fi; touch " + mark + "; echo old news >&2; echo last words >&2; kill -KILL $$"
	if err := s.start(ctx, "fake -s", 1, always, "sh", "-c", script); err != nil {
		t.Fatal(err)
	}
	first := s.procs[0].cmd.Process.Pid
	select {
	case <-s.procs[0].done:
	case <-time.After(10 * time.Second):
		t.Fatal("the first start did not end")
	}
	err := s.alive()
	if err == nil || !strings.Contains(err.Error(), "fake -s exited (signal: killed; its stderr last said \"last words\")") {
		t.Fatalf("dead: %v", err)
	}
	if err := s.revive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.alive(); err != nil {
		t.Fatalf("revived: %v", err)
	}
	if len(s.procs) != 1 || s.procs[0].cmd.Process.Pid == first || s.procs[0].name != "fake -s" {
		t.Errorf("after revive: %d servers, pid %d (was %d)", len(s.procs), s.procs[0].cmd.Process.Pid, first)
	}
	if _, err := s.cpuTime("fake -s"); err != nil {
		t.Errorf("the revived server's CPU time: %v", err)
	}
}
