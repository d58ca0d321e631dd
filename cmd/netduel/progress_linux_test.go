package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's master and slave ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pty's slave: %v", err)
	}
	return m, s
}

// screen replays what a terminal shows for out: carriage returns, newlines,
// and the erase-line (ESC [ K) the progress line uses; other escape sequences
// (colour) are dropped.
func screen(out []byte) []string {
	var lines []string
	var cur []rune
	col := 0
	rs := []rune(string(out))
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\r':
			col = 0
		case r == '\n':
			lines = append(lines, string(cur))
			cur, col = nil, 0
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'K' {
				cur = cur[:min(col, len(cur))]
			}
			i = j
		default:
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
		}
	}
	return append(lines, string(cur))
}

// TestProgressClearedBeforeResults runs netduel on a (pseudo) terminal, where
// the progress line is drawn on stderr and the table on stdout share one
// screen: the progress line must be gone before the first line of results.
func TestProgressClearedBeforeResults(t *testing.T) {
	m, s := openPTY(t)
	defer m.Close()
	var raw bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the master must be read while netduel writes: a pty buffers little
		defer wg.Done()
		io.Copy(&raw, m)
	}()
	code := run([]string{"netduel", "run", "--emulator", "none", "--proto", "udp", "--test", "latency", "--duration", "1s", "--no-color"}, s, s)
	s.Close()
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, raw.String())
	}
	if !strings.Contains(raw.String(), "[1/1] UDP latency") {
		t.Fatalf("no progress line was drawn (it must be, to test its clearing):\n%q", raw.String())
	}
	lines := screen(raw.Bytes())
	for i, l := range lines {
		if strings.Contains(l, "[1/1]") {
			t.Errorf("screen line %d still shows the progress: %q", i+1, l)
		}
	}
	if !strings.Contains(strings.Join(lines, "\n"), "RTT p50") {
		t.Errorf("no results on the screen:\n%s", strings.Join(lines, "\n"))
	}
}
