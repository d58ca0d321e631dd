package link

import (
	"sync"

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

	// Packet buffers are recycled once written to the other device (the pipe
	// holds a delayed packet's buffer until then), through a free list: a
	// channel of slices, which unlike sync.Pool boxes nothing per packet.
	free chan []byte
	// With offloads, reads may be 64 KiB super-packets.
	big      sync.Pool
	plainHdr []byte // no offload asked: a complete packet
}

func newTunForwarder(tc, ts *stack.TUN) *tunForwarder {
	return &tunForwarder{devs: [2]*stack.TUN{tc, ts}, free: make(chan []byte, 8192),
		big:      sync.Pool{New: func() any { b := make([]byte, stack.VnetHdrLen+1<<16); return &b }},
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

// write hands a packet to dev and recycles its buffer.
func (f *tunForwarder) write(dev *stack.TUN, p []byte) {
	if dev.Offload {
		dev.WritePacket(f.plainHdr, p)
	} else {
		dev.Write(p)
	}
	f.put(p)
}

// start starts a reader per device, device i feeding pipes[i]. It closes both
// devices if it cannot.
//
// A device whose packets the pipe impairs is read by a thread of its own,
// real-time like the pipe's delivery, blocking in the kernel
// (stack.TUNReader), with a spare P to come back to: a reader goroutine in the
// runtime's poller, on an ordinary thread, was held up for milliseconds on a
// busy machine (run again only once a thread polled and a P was free, or
// preempted by other processes in the middle of a read), and every packet
// behind it waited too. A clean direction keeps the poller: there a
// ping-pong's own thread often finds the packet as it blocks, where a thread
// of its own costs a wake-up per packet (a clean link's round trip 25 µs at
// p50, 55 µs with its own threads).
func (f *tunForwarder) start(pipes [2]*impair.Pipe) error {
	for i, dev := range f.devs {
		if pipes[i].PassThrough() {
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
	for i, r := range f.readers {
		if r != nil {
			f.rt.Add(1)
		} else {
			f.polled.Add(1)
		}
		go f.read(r, f.devs[i], f.devs[1-i], pipes[i])
	}
	return nil
}

// close stops the readers and closes the devices.
func (f *tunForwarder) close() {
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

// read forwards dev's packets into the pipe until dev is closed (or r
// stopped), on a thread of its own when r is not nil.
func (f *tunForwarder) read(r *stack.TUNReader, dev, to *stack.TUN, into *impair.Pipe) {
	readPacket := dev.Read
	if r != nil {
		defer f.rt.Done()
		impair.Realtime() // the thread ends with the goroutine
		impair.SpareProcs(1)
		defer impair.SpareProcs(-1)
		readPacket = r.Read
	} else {
		defer f.polled.Done()
	}
	if !dev.Offload {
		f.readPlain(readPacket, into)
		return
	}
	f.readOffload(readPacket, to, into)
}

// readPlain forwards complete packets.
func (f *tunForwarder) readPlain(readPacket func([]byte) (int, error), into *impair.Pipe) {
	for {
		buf := f.alloc(MTU + 64)
		n, err := readPacket(buf)
		if err != nil {
			return
		}
		into.Send(buf[:n])
	}
}

// readOffload forwards what an offloading device reads. Both ends offload and
// nothing is impaired: a super-packet crosses whole, header and all, and
// counts as the packets it stands for. Otherwise it is cut into the packets a
// wire would carry, each impaired on its own.
func (f *tunForwarder) readOffload(readPacket func([]byte) (int, error), to *stack.TUN, into *impair.Pipe) {
	whole := to.Offload && into.PassThrough()
	for {
		bp := f.big.Get().(*[]byte)
		buf := *bp
		n, err := readPacket(buf)
		if err != nil {
			return
		}
		if n > stack.VnetHdrLen {
			h, pkt := parseVnetHdr(buf), buf[stack.VnetHdrLen:n]
			if whole {
				if to.WritePacket(buf[:stack.VnetHdrLen], pkt) == nil {
					into.CountPassed(uint64(h.segments(pkt)))
				}
			} else {
				_ = cut(h, pkt, f.alloc, into.Send) // a malformed packet is dropped, as a NIC would
			}
		}
		f.big.Put(bp)
	}
}
