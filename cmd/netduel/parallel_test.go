package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// TestCLIRunsInParallel: apps running at once share urfave/cli's help flag
// and help command, which its setup writes to (the race detector's report
// made parallel CLI tests fail now and then); runs now take turns until
// their action starts. It fails under -race without the turns.
func TestCLIRunsInParallel(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := [][]string{{"netduel", "--version"}, {"netduel", "run", "--help"}, {"netduel", "port", "check", "--help"}}[i%3]
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 || out.Len() == 0 {
				t.Errorf("%s: exit %d, %q", strings.Join(args, " "), code, errb.String())
			}
		}()
	}
	wg.Wait()
}
