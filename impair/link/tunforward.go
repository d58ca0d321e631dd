package link

import (
	"sync"
	"sync/atomic"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// tunForwarder carries the tun backend's packets: a reader per device sends
// what it reads into that direction's pipe, whose output writes the other
// device.
type tunForwarder struct {
	devs    [2]*stack.TUN       // the client's and the server's device
	readers [2]*stack.TUNReader // a device's own reading thread (nil: the poller reads it)
	// rt counts the readers on threads of their own, polled those in the
	// runtime's poller.
	rt, polled sync.WaitGroup
	// polling: one thread spins on every device instead of blocking (see
	// spin); stopping ends it.
	polling  bool
	stopping atomic.Bool

	// Packet buffers are recycled once written to the other device (the pipe
	// holds a delayed packet's buffer until then), through a free list: a
	// channel of slices, which unlike sync.Pool boxes nothing per packet.
	free     chan []byte
	plainHdr []byte // no offload asked: a complete packet
}

func newTunForwarder(tc, ts *stack.TUN) *tunForwarder {
	return &tunForwarder{devs: [2]*stack.TUN{tc, ts}, free: make(chan []byte, 8192),
		plainHdr: make([]byte, stack.VnetHdrLen)}
}

// put recycles a packet buffer.
func (f *tunForwarder) put(p []byte) {
	if cap(p) >= MTU+64 {
		select {
		case f.free <- p[:cap(p)]:
		default: // full: let the collector have it
		}
	}
}

// alloc returns a buffer of at least n bytes.
func (f *tunForwarder) alloc(n int) []byte {
	if n <= MTU+64 {
		select {
		case b := <-f.free:
			return b
		default:
		}
		n = MTU + 64
	}
	return make([]byte, n)
}

// write hands a packet to device i and recycles its buffer: from a delay
// line, through the device's own reader, whose system calls are raw (see
// stack.TUNReader); else through the runtime's poller.
func (f *tunForwarder) write(i int, p []byte) {
	dev, hdr := f.devs[i], f.plainHdr
	if !dev.Offload {
		hdr = nil
	}
	if r := f.readers[i]; r != nil {
		_ = r.WritePacket(hdr, p)
	} else {
		_ = dev.WritePacket(hdr, p)
	}
	f.put(p)
}

// start starts a reader per device, device i feeding pipes[i]. It closes both
// devices if it cannot.
//
// A device whose packets the pipe impairs is read by the direction's delay
// line (see line): one real-time thread of its own that reads the device
// and delivers the pipe's packets, blocking in the kernel, with a spare P to
// come back to. A reader goroutine in the runtime's poller, on an ordinary
// thread, was held up for milliseconds on a busy machine (run again only once
// a thread polled and a P was free, or preempted by other processes in the
// middle of a read), and every packet behind it waited too. A clean direction
// keeps the poller: there a ping-pong's own thread often finds the packet as
// it blocks, where a thread of its own costs a wake-up per packet (a clean
// link's round trip 25 µs at p50, 55 µs with its own threads).
//
// A polling forwarder (Polling) reads every device, impaired or not, on one
// spinning thread (see spin).
func (f *tunForwarder) start(pipes [2]*impair.Pipe) error {
	for i, dev := range f.devs {
		if pipes[i].PassThrough() && !f.polling {
			continue
		}
		r, err := dev.Reader()
		if err != nil {
			if f.readers[0] != nil {
				f.readers[0].Close()
			}
			f.devs[0].Close()
			f.devs[1].Close()
			return err
		}
		f.readers[i] = r
	}
	if f.polling {
		var ds [2]*direction
		for i := range f.readers {
			ds[i] = f.direction(f.devs[i], f.devs[1-i], pipes[i])
		}
		f.rt.Add(1)
		go f.spin(ds)
		return nil
	}
	for i, r := range f.readers {
		d := f.direction(f.devs[i], f.devs[1-i], pipes[i])
		if r != nil {
			f.rt.Add(1)
			go f.line(r, d)
		} else {
			f.polled.Add(1)
			go f.poll(f.devs[i], d)
		}
	}
	return nil
}

// close stops the readers and closes the devices.
func (f *tunForwarder) close() {
	f.stopping.Store(true)
	for _, r := range f.readers {
		if r != nil {
			r.Stop()
		}
	}
	f.rt.Wait() // the own threads are done with the devices' descriptors
	for _, d := range f.devs {
		d.Close() // unblocks the poller's readers
	}
	f.polled.Wait()
	for _, r := range f.readers {
		if r != nil {
			r.Close()
		}
	}
}

// poll forwards a clean direction's packets, read in the runtime's poller,
// until the device is closed.
func (f *tunForwarder) poll(dev *stack.TUN, d *direction) {
	defer f.polled.Done()
	for {
		n, err := dev.Read(d.buffer())
		if err != nil {
			return
		}
		d.got(n)
	}
}

// direction is what one device's reads go through on their way into its
// pipe. One goroutine uses it.
type direction struct {
	f    *tunForwarder
	to   *stack.TUN   // the other device
	into *impair.Pipe // the direction's pipe
	// The device offloads: reads are super-packets behind a virtio header,
	// into the direction's own 64 KiB buffer. whole: the other device takes
	// them as they are and nothing is impaired.
	offload, whole bool
	big            []byte
	buf            []byte // a complete packet's buffer, until the pipe takes it
}

func (f *tunForwarder) direction(dev, to *stack.TUN, into *impair.Pipe) *direction {
	d := &direction{f: f, to: to, into: into, offload: dev.Offload, whole: dev.Offload && to.Offload && into.PassThrough()}
	if d.offload {
		d.big = make([]byte, stack.VnetHdrLen+1<<16)
	}
	return d
}

// buffer returns the buffer the next read goes into.
func (d *direction) buffer() []byte {
	if d.offload {
		return d.big
	}
	if d.buf == nil {
		d.buf = d.f.alloc(MTU + 64)
	}
	return d.buf
}

// got forwards what a read of n bytes into buffer() brought. A complete
// packet goes into the pipe. A super-packet crosses whole, header and all,
// when nothing is impaired (counted as the packets it stands for), else it
// is cut into the packets a wire would carry, each impaired on its own.
func (d *direction) got(n int) {
	if !d.offload {
		d.into.Send(d.buf[:n])
		d.buf = nil // the pipe's now
		return
	}
	if n <= stack.VnetHdrLen {
		return
	}
	h, pkt := parseVnetHdr(d.big), d.big[stack.VnetHdrLen:n]
	if d.whole {
		if d.to.WritePacket(d.big[:stack.VnetHdrLen], pkt) == nil {
			d.into.CountPassed(uint64(h.segments(pkt)))
		}
		return
	}
	_ = cut(h, pkt, d.f.alloc, d.into.Send) // a malformed packet is dropped, as a NIC would
}
