package stack

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/internal/rawsys"
)

// TUNReader reads a TUN device's packets blocking in the kernel on the
// calling thread (ppoll(2) on the device and on a stop eventfd), not through
// the runtime's poller: a reader goroutine parked in the poller runs again
// only once some thread polls the network and a P is free, which on a busy
// machine is milliseconds later; a thread of its own (locked, real-time: see
// impair.Realtime) is woken by the kernel as the packet comes. It writes the
// device the same way (WritePacket). One goroutine reads (and one writes);
// Stop may be called from any.
//
// Its system calls are raw (see internal/rawsys): a real-time thread's
// goroutine in an ordinary system call can be held by an ordinary thread
// that the real-time one keeps off the CPU, stalling it for up to a second.
type TUNReader struct {
	fd   int // the device's descriptor, owned by its os.File
	stop int // eventfd: readable once Stop was called
	once sync.Once
}

// ErrReaderStopped is what Read returns once Stop was called.
var ErrReaderStopped = errors.New("TUN reader stopped")

// Reader returns a reader of the device. Stop it, and let its Read return,
// before closing the device: it reads the device's descriptor directly.
func (t *TUN) Reader() (*TUNReader, error) {
	rc, err := t.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &TUNReader{fd: -1}
	if err := rc.Control(func(fd uintptr) { r.fd = int(fd) }); err != nil {
		return nil, err
	}
	r.stop, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Read reads one packet into b, waiting for one; after Stop it returns
// ErrReaderStopped. A packet longer than b is cut short, as a TUN read does.
func (r *TUNReader) Read(b []byte) (int, error) {
	for {
		n, ok, err := r.TryRead(b)
		if ok || err != nil {
			return n, err
		}
		if _, err := r.Wait(-1); err != nil {
			return 0, err
		}
	}
}

// TryRead reads one packet into b if one is waiting, without blocking: ok
// says whether it read one. A packet longer than b is cut short.
func (r *TUNReader) TryRead(b []byte) (n int, ok bool, err error) {
	n, err = rawsys.Read(r.fd, b)
	switch err {
	case nil:
		if n == 0 {
			return 0, false, io.EOF
		}
		return n, true, nil
	case unix.EAGAIN, unix.EINTR:
		return 0, false, nil
	}
	return 0, false, err
}

// Wait blocks until a packet may be waiting (ready), d has passed (d < 0:
// no limit; ppoll(2)'s nanosecond timeout, as precise as the thread's timer
// slack) or Stop is called: then it returns ErrReaderStopped. It returns
// io.EOF once the device is gone.
func (r *TUNReader) Wait(d time.Duration) (ready bool, err error) {
	fds := [2]unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}, {Fd: int32(r.stop), Events: unix.POLLIN}}
	n, err := rawsys.Ppoll(fds[:], int64(d))
	switch {
	case err == unix.EINTR:
		return true, nil // look again
	case err != nil:
		return false, err
	case fds[1].Revents != 0:
		return false, ErrReaderStopped
	case fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 && fds[0].Revents&unix.POLLIN == 0:
		return false, io.EOF
	}
	return n > 0, nil
}

// Stop makes Read return ErrReaderStopped (now, or at its next call). Once
// Read has returned, Close releases the reader.
func (r *TUNReader) Stop() {
	r.once.Do(func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(r.stop, one[:])
	})
}

// Close releases the reader's eventfd; Read must have returned and may not be
// called again.
func (r *TUNReader) Close() { unix.Close(r.stop) }

// WritePacket writes a packet to the device (hdr, the virtio_net_hdr of an
// offloading device, then pkt; hdr empty for a device without offloads),
// with one raw writev(2). A TUN device's write never blocks.
func (r *TUNReader) WritePacket(hdr, pkt []byte) error {
	_, err := rawsys.Write(r.fd, hdr, pkt)
	return err
}
