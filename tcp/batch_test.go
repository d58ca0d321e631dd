package tcp

import (
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

func TestBatchTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bps  float64 // bits per second
		want int
	}{
		{0, 1},
		{10e6, 1},             // 250 B per 200 µs: per arrival
		{300e6, 1},            // 7.5 KB: under batchMin
		{1e9, 24 << 10},       // 25 KB, in whole 4 KiB
		{5e9, 120 << 10},      // 125 KB
		{28e9, ReceiveBuffer}, // 700 KB: capped
		{1e15, ReceiveBuffer}, // absurd: capped
	} {
		if got := batchTarget(tc.bps/8, ReceiveBuffer); got != tc.want {
			t.Errorf("%.0f bit/s: %d, want %d", tc.bps, got, tc.want)
		}
	}
}

// TestWakeBatchAdapts: the setting follows the stream's rate up and down,
// and a pause puts the kernel's default back within batchStall.
func TestWakeBatchAdapts(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		sets []int
	)
	w := newWakeBatch(LargeReceiveBuffer, func(n int) bool {
		mu.Lock()
		sets = append(sets, n)
		mu.Unlock()
		return true
	})
	defer w.stop()
	last := func() int {
		mu.Lock()
		defer mu.Unlock()
		if len(sets) == 0 {
			return 1
		}
		return sets[len(sets)-1]
	}
	now := time.Now()
	feed := func(bps float64, d time.Duration) {
		const step = 100 * time.Microsecond
		for i := time.Duration(0); i < d; i += step {
			now = now.Add(step)
			w.read(now, int(bps/8*step.Seconds()))
		}
	}
	feed(28e9, 5*time.Millisecond)
	if got := last(); got != LargeReceiveBuffer {
		t.Fatalf("at 28 Gbit/s: SO_RCVLOWAT %d, want %d", got, LargeReceiveBuffer)
	}
	feed(1e9, 3*time.Millisecond)
	if got := last(); got != 24<<10 {
		t.Fatalf("at 1 Gbit/s: SO_RCVLOWAT %d, want %d", got, 24<<10)
	}
	feed(10e6, 3*time.Millisecond)
	if got := last(); got != 1 {
		t.Fatalf("at 10 Mbit/s: SO_RCVLOWAT %d, want 1", got)
	}
	feed(28e9, 3*time.Millisecond)
	if got := last(); got != LargeReceiveBuffer {
		t.Fatalf("at 28 Gbit/s again: SO_RCVLOWAT %d, want %d", got, LargeReceiveBuffer)
	}
	// No more reads: the watchdog (a real timer) restores 1.
	deadline := time.Now().Add(5 * time.Second)
	for last() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no read for 5 s: SO_RCVLOWAT still %d", last())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReceiveSeesLateFrame: after a fast stream has raised the socket's
// wake-up threshold, a small frame that comes after a pause is still read
// promptly (the watchdog), not when the stream ends.
func TestReceiveSeesLateFrame(t *testing.T) {
	t.Parallel()
	c, tr, recv, done := receiving(t)
	buf := make([]byte, 64<<10)
	seq := uint64(0)
	send := func(n int) {
		frame.FillBody(buf[frame.HeaderLen:n], seq)
		frame.Seal(buf[:n], frame.Header{Type: frame.TypeData, Cookie: 1, Seq: seq, BodyLen: uint32(n - frame.HeaderLen)})
		if _, err := c.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	for range 1024 { // 64 MiB as fast as loopback takes it
		send(len(buf))
	}
	time.Sleep(100 * time.Millisecond)
	send(200)
	sent := time.Now()
	time.Sleep(400 * time.Millisecond)
	CloseWrite(c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := recv.Report(seq); got.Received != seq || got.Corrupt != 0 {
		t.Fatalf("%+v", got.Counts)
	}
	tr.mu.Lock()
	late := tr.last.Sub(sent)
	tr.mu.Unlock()
	if late > 200*time.Millisecond {
		t.Fatalf("the last frame was read %v after it was sent (at the stream's end), want within the watchdog's %v", late, batchStall)
	}
	t.Logf("last frame read %v after it was sent", late)
}

// TestLargeReceiveBuffers: at most LargeReceivers receivers at once read
// LargeReceiveBuffer at a time, the others ReceiveBuffer, and an ending
// receiver hands its large buffer on. Not parallel: the tokens are global.
func TestLargeReceiveBuffers(t *testing.T) {
	var dones []func()
	large := 0
	for range LargeReceivers + 3 {
		size, done := receiveBuffer()
		dones = append(dones, done)
		switch size {
		case LargeReceiveBuffer:
			large++
		case ReceiveBuffer:
		default:
			t.Fatalf("read length %d", size)
		}
	}
	if large != LargeReceivers {
		t.Fatalf("%d large receivers of %d, want %d", large, LargeReceivers+3, LargeReceivers)
	}
	dones[0]()
	if size, done := receiveBuffer(); size != LargeReceiveBuffer {
		t.Fatalf("after one ended: %d, want %d", size, LargeReceiveBuffer)
	} else {
		done()
	}
	for _, done := range dones[1:] {
		done()
	}
}
