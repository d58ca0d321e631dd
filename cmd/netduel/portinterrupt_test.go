package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPortCheckInterruptedWritesItsDocument: Ctrl-C during a long port check
// still writes one complete JSON document, with the ports checked until then
// and the error, and exits 3 (it wrote nothing before).
func TestPortCheckInterruptedWritesItsDocument(t *testing.T) {
	t.Parallel()
	cmd := netduelCmd("port", "check", "1024-65535", "-o", "json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // under way (a full check takes a second or more)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 3 {
		t.Skipf("the check ended (exit %d) before the interrupt reached it", code)
	}
	var doc struct {
		Error       string            `json:"error"`
		Interrupted bool              `json:"interrupted"`
		Ports       []json.RawMessage `json:"ports"`
		Free        bool              `json:"all_free"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document (%d bytes): %v", out.Len(), err)
	}
	if !strings.HasPrefix(doc.Error, "interrupted after ") || !doc.Interrupted || doc.Free || !strings.Contains(errb.String(), doc.Error) {
		t.Fatalf("error %q, interrupted %v, all_free %v, stderr %q", doc.Error, doc.Interrupted, doc.Free, errb.String())
	}
	t.Logf("%s: %d results", doc.Error, len(doc.Ports))
}
