package link

import (
	"sync"
	"sync/atomic"
	"time"

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
	// merging: the impaired directions join TCP segments due together
	// (see merger); mergers[i] is device i's.
	merging bool
	mergers [2]*merger

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

// put recycles a packet buffer: one of alloc's MTU-sized ones (a larger one,
// for a packet over the MTU, is left to the collector: recycled, 8192 of
// 64 KiB held half a GiB for ever).
func (f *tunForwarder) put(p []byte) {
	if cap(p) == MTU+64 {
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

// write hands a packet to device i and recycles its buffer: through the
// device's merger (see merger) where it has one, else at once (see writeDev).
func (f *tunForwarder) write(i int, p []byte) {
	if m := f.mergers[i]; m != nil {
		m.add(p)
		return
	}
	hdr := f.plainHdr
	if !f.devs[i].Offload {
		hdr = nil
	}
	_ = f.writeDev(i, hdr, p)
	f.put(p)
}

// writeDev writes a packet to device i: from a delay line, through the
// device's own reader, whose system calls are raw (see stack.TUNReader); else
// through the runtime's poller.
func (f *tunForwarder) writeDev(i int, hdr, p []byte) error {
	if r := f.readers[i]; r != nil {
		return r.WritePacket(hdr, p)
	}
	return f.devs[i].WritePacket(hdr, p)
}

// merge gives device i a merger when the direction into it is impaired (so
// delivered by a delay line or the spinner, which flush it), the device
// takes super-packets, and the link corrupts nothing (see merger).
func (f *tunForwarder) merge(i int, into *impair.Pipe) *merger {
	if !f.merging || into.PassThrough() || !f.devs[i].Offload {
		return nil
	}
	f.mergers[i] = newMerger(func(hdr, p []byte) error { return f.writeDev(i, hdr, p) }, f.put)
	return f.mergers[i]
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
			ds[i] = f.direction(i, pipes[i])
		}
		f.rt.Add(1)
		go f.spin(ds)
		return nil
	}
	for i, r := range f.readers {
		d := f.direction(i, pipes[i])
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
	buf            []byte  // a complete packet's buffer, until the pipe takes it
	merge          *merger // the other device's, if it has one
}

// deliver delivers the pipe's packets due and writes what the merger holds:
// the line's and the spinner's step before they wait or read again.
func (d *direction) deliver() (wait time.Duration, held bool) {
	wait, held = d.into.Deliver()
	if d.merge != nil {
		d.merge.flush()
	}
	return wait, held
}

func (f *tunForwarder) direction(i int, into *impair.Pipe) *direction {
	dev, to := f.devs[i], f.devs[1-i]
	d := &direction{f: f, to: to, into: into, offload: dev.Offload, whole: dev.Offload && to.Offload && into.PassThrough(),
		merge: f.merge(1-i, into)}
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

// got forwards what a read of n bytes into buffer() brought, and returns how
// many wire packets that was. A complete packet goes into the pipe. A
// super-packet crosses whole, header and all, when nothing is impaired
// (counted as the packets it stands for), else it is cut into the packets a
// wire would carry, each impaired on its own.
func (d *direction) got(n int) int {
	if !d.offload {
		d.into.Send(d.buf[:n])
		d.buf = nil // the pipe's now
		return 1
	}
	if n <= stack.VnetHdrLen {
		return 0
	}
	h, pkt := parseVnetHdr(d.big), d.big[stack.VnetHdrLen:n]
	if d.whole {
		segs := h.segments(pkt)
		if d.to.WritePacket(d.big[:stack.VnetHdrLen], pkt) == nil {
			d.into.CountPassed(uint64(segs))
		}
		return segs
	}
	segs := 0
	_ = cut(h, pkt, d.f.alloc, func(p []byte) { // a malformed packet is dropped, as a NIC would
		d.into.Send(p)
		segs++
	})
	return segs
}
