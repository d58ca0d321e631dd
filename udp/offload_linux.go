package udp

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxGSOSegments is the kernel's limit on segments per GSO send (UDP_MAX_SEGMENTS).
const maxGSOSegments = 64

// setGSO sets UDP_SEGMENT on conn: a write of n×size bytes then leaves as n
// datagrams of size bytes, segmented by the kernel. size 0 turns it off. It
// reports whether the kernel accepted.
func setGSO(conn net.Conn, size int) bool {
	return setSockInt(conn, unix.SOL_UDP, unix.UDP_SEGMENT, size)
}

// setGRO asks the kernel to deliver runs of same-sized datagrams from one flow
// as one read, with the segment size in a control message (UDP_GRO).
func setGRO(pc net.PacketConn, on bool) bool {
	v := 0
	if on {
		v = 1
	}
	return setSockInt(pc, unix.SOL_UDP, unix.UDP_GRO, v)
}

func setSockInt(c any, level, opt, v int) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) }); err != nil {
		return false
	}
	return serr == nil
}

// gsoRefused reports whether a GSO send failed because the path cannot segment
// (EIO: no checksum offload on the device) or the size is refused (EINVAL).
func gsoRefused(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EMSGSIZE)
}

// groOOBLen is the room for a UDP_GRO control message.
var groOOBLen = unix.CmsgSpace(4)

// groSegment returns the segment size from a UDP_GRO control message, or 0.
func groSegment(oob []byte) int {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && l >= unix.CmsgLen(4) {
			data := oob[unix.CmsgLen(0):]
			return int(binary.NativeEndian.Uint32(data[:4])) & 0xffff
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return 0
}
