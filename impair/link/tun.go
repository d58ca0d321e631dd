package link

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// openTun builds the tun backend: namespaces, TUN devices, and a forwarder
// goroutine per direction reading one device and sending into a pipe whose
// output writes the other device.
func openTun(cfg impair.Config, congestion string) (_ *Link, err error) {
	if congestion == "" {
		congestion = "cubic"
	}
	l := &Link{Backend: Tun, TCPStack: "linux", Congestion: congestion, Config: cfg, ServerHost: ServerAddr.String(),
		stats: namespaceStats}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	nsC, err := stack.NewNamespace("netduel-client")
	if err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { nsC.Close() })
	nsS, err := stack.NewNamespace("netduel-server")
	if err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { nsS.Close() })
	tc, err := stack.OpenTUNOffload(nsC, "nd0", ClientAddr, ServerAddr, MTU)
	if err != nil {
		return nil, err
	}
	ts, err := stack.OpenTUNOffload(nsS, "nd0", ServerAddr, ClientAddr, MTU)
	if err != nil {
		tc.Close()
		return nil, err
	}
	// Programs started inside (netduel emulate) open their own sockets: make
	// the congestion control the namespaces' default too, so they get it.
	for _, ns := range []*stack.Namespace{nsC, nsS} {
		got, err := stack.SetDefaultCongestion(ns, congestion)
		switch {
		case errors.Is(err, syscall.EPERM):
			l.InsideNote = fmt.Sprintf("programs started inside get %s, the namespaces' default: Linux lets a namespace default only to an algorithm in net.ipv4.tcp_allowed_congestion_control (%s here); add %s there, or choose it in the program (iperf3 -C %s)",
				got, stack.AllowedCongestion(), congestion, congestion)
		case err != nil:
			return nil, err
		}
		l.InsideCongestion = got
	}
	l.Client = &stack.OS{NS: nsC, Congestion: congestion}
	l.Server = &stack.OS{NS: nsS, Congestion: congestion}

	// Packet buffers are recycled once written to the other device (the pipe
	// holds a delayed packet's buffer until then), through a free list: a
	// channel of slices, which unlike sync.Pool boxes nothing per packet.
	free := make(chan []byte, 8192)
	put := func(p []byte) {
		if cap(p) >= MTU+64 {
			select {
			case free <- p[:cap(p)]:
			default: // full: let the collector have it
			}
		}
	}
	alloc := func(n int) []byte {
		if n <= MTU+64 {
			select {
			case b := <-free:
				return b
			default:
			}
			n = MTU + 64
		}
		return make([]byte, n)
	}
	// With offloads, reads may be 64 KiB super-packets.
	bigPool := sync.Pool{New: func() any { b := make([]byte, stack.VnetHdrLen+1<<16); return &b }}
	plainHdr := make([]byte, stack.VnetHdrLen) // no offload asked: a complete packet
	write := func(dev *stack.TUN, p []byte) {
		if dev.Offload {
			dev.WritePacket(plainHdr, p)
		} else {
			dev.Write(p)
		}
		put(p)
	}
	// Closers run in reverse: the readers stop (devices closed) before the pipes.
	l.pipes(func(p []byte) { write(ts, p) }, func(p []byte) { write(tc, p) })
	l.devices = [2]*stack.TUN{tc, ts}
	// A device whose packets the pipe impairs is read by a thread of its
	// own, real-time like the pipe's delivery, blocking in the kernel
	// (stack.TUNReader), with a spare P to come back to: a reader goroutine
	// in the runtime's poller, on an ordinary thread, was held up for
	// milliseconds on a busy machine (run again only once a thread polled
	// and a P was free, or preempted by other processes in the middle of a
	// read), and every packet behind it waited too. A clean direction keeps
	// the poller: there a ping-pong's own thread often finds the packet as it
	// blocks, where a thread of its own costs a wake-up per packet (a clean
	// link's round trip 25 µs at p50, 55 µs with its own threads).
	devs, pipes := [2]*stack.TUN{tc, ts}, [2]*impair.Pipe{l.up, l.down}
	var readers [2]*stack.TUNReader
	for i, dev := range devs {
		if pipes[i].PassThrough() {
			continue
		}
		if readers[i], err = dev.Reader(); err != nil {
			if readers[0] != nil && i == 1 {
				readers[0].Close()
			}
			tc.Close()
			ts.Close()
			return nil, err
		}
	}
	var rt, polled sync.WaitGroup
	l.closers = append(l.closers, func() {
		for _, r := range readers {
			if r != nil {
				r.Stop()
			}
		}
		rt.Wait()  // the own threads are done with the devices' descriptors
		tc.Close() // unblocks the poller's readers
		ts.Close()
		polled.Wait()
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
	})
	read := func(r *stack.TUNReader, dev, to *stack.TUN, into *impair.Pipe) {
		readPacket := dev.Read
		if r != nil {
			defer rt.Done()
			impair.Realtime() // the thread ends with the goroutine
			impair.SpareProcs(1)
			defer impair.SpareProcs(-1)
			readPacket = r.Read
		} else {
			defer polled.Done()
		}
		if !dev.Offload {
			for {
				buf := alloc(MTU + 64)
				n, err := readPacket(buf)
				if err != nil {
					return
				}
				into.Send(buf[:n])
			}
		}
		// Both ends offload and nothing is impaired: a super-packet crosses
		// whole, header and all, and counts as the packets it stands for.
		// Otherwise it is cut into the packets a wire would carry, each
		// impaired on its own.
		whole := to.Offload && into.PassThrough()
		for {
			bp := bigPool.Get().(*[]byte)
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
					_ = cut(h, pkt, alloc, into.Send) // a malformed packet is dropped, as a NIC would
				}
			}
			bigPool.Put(bp)
		}
	}
	for i, r := range readers {
		if r != nil {
			rt.Add(1)
		} else {
			polled.Add(1)
		}
		go read(r, devs[i], devs[1-i], pipes[i])
	}
	return l, nil
}
