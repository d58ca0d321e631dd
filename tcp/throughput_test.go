package tcp

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFramesPerWrite: a write carries what the last one's rate moves in
// writeSpan (or the time left), whole frames, at least one, at most twice
// the last write's and at most the cap.
func TestFramesPerWrite(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, c := range []struct {
		name       string
		n          int
		took, left time.Duration
		most, want int
	}{
		{"fast write doubles", 1, 10 * time.Microsecond, time.Second, 8, 2},
		{"fast write capped", 8, 10 * time.Microsecond, time.Second, 8, 8},
		{"rate fits three", 4, 2 * ms * 4 / 3, time.Second, 8, 3},
		{"slow stream: one frame", 1, 250 * ms, time.Second, 8, 1},
		{"slowed down: back to one", 8, 100 * ms, time.Second, 8, 1},
		{"no time measured", 2, 0, time.Second, 8, 4},
		{"end near: what the time left carries", 8, 1 * ms, 250 * time.Microsecond, 8, 2},
		{"end passed: one frame", 8, 10 * time.Microsecond, -ms, 8, 1},
		{"cap of one (frames over 1 MiB)", 1, time.Microsecond, time.Second, 1, 1},
	} {
		if got := framesPerWrite(c.n, c.took, c.left, c.most); got != c.want {
			t.Errorf("%s: framesPerWrite(%d, %v, %v, %d) = %d, want %d", c.name, c.n, c.took, c.left, c.most, got, c.want)
		}
	}
	for _, c := range []struct{ size, want int }{
		{64, maxWriteFrames}, {1400, 748}, {128 << 10, 8}, {1 << 20, 1}, {4 << 20, 1},
	} {
		if got := maxFramesPerWrite(c.size); got != min(c.want, maxWriteFrames) {
			t.Errorf("maxFramesPerWrite(%d) = %d, want %d", c.size, got, min(c.want, maxWriteFrames))
		}
	}
}

// TestSendThroughputBatches: over loopback, the sender hands the kernel
// several frames per system call (fewer writes than frames: /proc/self/io's
// syscw), and the receiver counts every frame of every size whole, in
// order, none corrupt.
func TestSendThroughputBatches(t *testing.T) {
	for _, size := range []int{64, 1400, 128 << 10, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c, _, recv, done := receiving(t)
			w0, haveIO := writeCalls()
			rep, err := SendThroughput(context.Background(), c, ThroughputConfig{Cookie: 1, Size: size, Duration: 200 * time.Millisecond})
			w1, _ := writeCalls()
			if err != nil {
				t.Fatal(err)
			}
			CloseWrite(c)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got := recv.Report(rep.Frames)
			if rep.Frames == 0 || got.Received != rep.Frames || got.Unique != rep.Frames || got.Lost+got.Corrupt+got.Reordered+got.Duplicate != 0 {
				t.Fatalf("sent %d frames of %d bytes, received %+v", rep.Frames, size, got.Counts)
			}
			if rep.Bytes != rep.Frames*uint64(size) {
				t.Fatalf("%d bytes for %d frames of %d", rep.Bytes, rep.Frames, size)
			}
			if !haveIO {
				t.Logf("no /proc/self/io: the write count is not checked")
				return
			}
			writes := w1 - w0
			t.Logf("%d frames of %d bytes in %d write calls", rep.Frames, size, writes)
			if size < 1<<20 && writes*2 > rep.Frames {
				t.Fatalf("%d frames of %d bytes took %d write calls: not batched", rep.Frames, size, writes)
			}
		})
	}
}

// writeCalls is the process's count of write system calls so far (syscw).
func writeCalls() (uint64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "syscw: "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
