package rawsys

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRawCalls: a write of two parts arrives whole; Ppoll times out with
// nothing to read and reports a readable descriptor; Read and Recv return
// what was written and EAGAIN when nothing is left; Sleep sleeps at least its
// time.
func TestRawCalls(t *testing.T) {
	t.Parallel()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	poll := []unix.PollFd{{Fd: int32(fds[1]), Events: unix.POLLIN}}
	if n, err := Ppoll(poll, int64(time.Millisecond)); n != 0 || err != nil {
		t.Fatalf("Ppoll with nothing to read: %d, %v; want a timeout", n, err)
	}
	buf := make([]byte, 64)
	if _, err := Read(fds[1], buf); err != unix.EAGAIN {
		t.Fatalf("Read with nothing to read: %v, want EAGAIN", err)
	}
	for i, recv := range []func() (int, error){
		func() (int, error) { return Read(fds[1], buf) },
		func() (int, error) { return Recv(fds[1], buf, unix.MSG_DONTWAIT) },
	} {
		if n, err := Write(fds[0], []byte("hel"), []byte("lo")); n != 5 || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		if n, err := Ppoll(poll, -1); n != 1 || err != nil {
			t.Fatalf("Ppoll with a datagram waiting: %d, %v", n, err)
		}
		if n, err := recv(); err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("call %d read %q, %v; want hello", i, buf[:n], err)
		}
	}
	if n, err := Write(fds[0], nil, nil); n != 0 || err != nil {
		t.Errorf("an empty Write: %d, %v", n, err)
	}
	t0 := time.Now()
	Sleep(int64(time.Millisecond))
	if d := time.Since(t0); d < time.Millisecond {
		t.Errorf("Sleep(1ms) returned after %v", d)
	}
}
