package port

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// OSSockets returns this OS's socket table: on Linux, /proc/net/{tcp,tcp6,udp,udp6}
// for the sockets, and /proc/PID/fd for their owners; TCP sockets bound but
// not listening, which no table lists, are found through their descriptors
// (see FindBound).
func OSSockets() SocketTable { return procTable{root: "/proc", live: true} }

// procTable reads a procfs mounted at root; live says it is this host's, whose
// processes' descriptors FindBound may borrow.
type procTable struct {
	root string
	live bool
}

// tcpStates names the kernel's TCP states (include/net/tcp_states.h) as ss does.
var tcpStates = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: SockTimeWait, 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: SockListen,
	11: "CLOSING", 12: "NEW_SYN_RECV",
}

// Sockets implements SocketTable.
func (t procTable) Sockets(want func(Proto, int) bool) ([]Socket, error) {
	var out []Socket
	read := 0
	for _, f := range []struct {
		proto Proto
		name  string
	}{{TCP, "tcp"}, {TCP, "tcp6"}, {UDP, "udp"}, {UDP, "udp6"}} {
		file, err := os.Open(filepath.Join(t.root, "net", f.name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		out, err = parseProcNet(file, f.proto, want, out)
		file.Close()
		if err != nil {
			return nil, err
		}
		read++
	}
	if read == 0 {
		return nil, errors.New("no socket table: " + filepath.Join(t.root, "net") + " is missing")
	}
	return out, nil
}

// parseProcNet appends the sockets listed in a /proc/net/{tcp,udp}[6] file
// whose port satisfies want.
func parseProcNet(r io.Reader, proto Proto, want func(Proto, int) bool, out []Socket) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		ip, portHex, ok := strings.Cut(fs[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil || !want(proto, int(port)) {
			continue
		}
		addr, ok := parseProcAddr(ip)
		if !ok {
			continue
		}
		st, err := strconv.ParseUint(fs[3], 16, 8)
		if err != nil {
			continue
		}
		s := Socket{Proto: proto, Local: netip.AddrPortFrom(addr, uint16(port)), UID: -1}
		switch {
		case proto == UDP && st == 1:
			s.State = SockConnected
		case proto == UDP:
			s.State = SockBound
		case int(st) < len(tcpStates) && tcpStates[st] != "":
			s.State = tcpStates[st]
		default:
			s.State = "UNKNOWN"
		}
		if uid, err := strconv.Atoi(fs[7]); err == nil {
			s.UID = uid
		}
		if inode, err := strconv.ParseUint(fs[9], 10, 64); err == nil {
			s.id = inode
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseProcAddr decodes an address as /proc/net prints it: the bytes of each
// 32-bit word in host order, in hex.
func parseProcAddr(s string) (netip.Addr, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, false
	}
	for i := 0; i < len(b); i += 4 {
		w := binary.BigEndian.Uint32(b[i:])
		binary.NativeEndian.PutUint32(b[i:], w)
	}
	a, _ := netip.AddrFromSlice(b)
	return a, true
}

// ResolveOwners implements SocketTable: one pass over /proc/*/fd maps socket
// inodes to processes, stopping once all are found. Without root, other users'
// descriptors cannot be read and their sockets keep a nil Owner.
func (t procTable) ResolveOwners(socks []*Socket) error {
	need := make(map[uint64][]*Socket)
	for _, s := range socks {
		if s.id != 0 && s.Owner == nil {
			need[s.id] = append(need[s.id], s)
		}
	}
	if len(need) == 0 {
		return nil
	}
	return t.eachProcSockets(func(pid int, _ string, fds []procSocket) bool {
		var owner *Owner
		for _, fd := range fds {
			ss, ok := need[fd.inode]
			if !ok {
				continue
			}
			if owner == nil {
				owner = t.owner(pid, ss[0].UID)
			}
			for _, s := range ss {
				s.Owner = owner
			}
			delete(need, fd.inode)
			if len(need) == 0 {
				return false
			}
		}
		return true
	})
}

// procSocket is one socket descriptor of a process: its number and the socket's
// inode.
type procSocket struct {
	fd    int
	inode uint64
}

// eachProcSockets calls fn for every process under t.root whose descriptors
// this process may read, with its pid, its fd directory and its socket
// descriptors, until fn returns false. It fails only when t.root cannot be
// read; a process that is gone or not ours to see is passed over.
func (t procTable) eachProcSockets(fn func(pid int, fdDir string, fds []procSocket) bool) error {
	procs, err := os.ReadDir(t.root)
	if err != nil {
		return err
	}
	var socks []procSocket
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(t.root, p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or not ours to see
		}
		socks = socks[:0]
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			inode, err := strconv.ParseUint(strings.TrimSuffix(link[len("socket:["):], "]"), 10, 64)
			n, err2 := strconv.Atoi(fd.Name())
			if err != nil || err2 != nil {
				continue
			}
			socks = append(socks, procSocket{fd: n, inode: inode})
		}
		if len(socks) > 0 && !fn(pid, fdDir, socks) {
			return nil
		}
	}
	return nil
}

// owner describes process pid; uid is the socket's, used when the process's own
// cannot be read.
func (t procTable) owner(pid, uid int) *Owner {
	o := &Owner{PID: pid}
	if b, err := os.ReadFile(filepath.Join(t.root, strconv.Itoa(pid), "comm")); err == nil {
		o.Name = strings.TrimSpace(string(b))
	}
	if st, err := os.ReadFile(filepath.Join(t.root, strconv.Itoa(pid), "status")); err == nil {
		for line := range strings.Lines(string(st)) {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if fs := strings.Fields(v); len(fs) > 1 {
					if n, err := strconv.Atoi(fs[1]); err == nil {
						uid = n // the effective uid
					}
				}
				break
			}
		}
	}
	o.User = userName(uid)
	return o
}

// FindBound implements boundFinder. A TCP socket that is bound but neither
// listening nor connected is in no /proc/net table (nor in sock_diag's dumps
// on most kernels), yet it holds its port. FindBound borrows every socket
// descriptor of every process it may trace (pidfd_getfd, Linux 5.6; without
// root, this user's processes only), asks getsockname for its port, and keeps
// the unconnected TCP sockets that are not listening on one of ports.
func (t procTable) FindBound(ports *PortSet) []Socket {
	if !t.live {
		return nil
	}
	var out []Socket
	_ = t.eachProcSockets(func(pid int, fdDir string, fds []procSocket) bool {
		pidfd := -1
		for _, fd := range fds {
			if pidfd < 0 {
				var err error
				if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
					return true
				}
			}
			s, ok := boundSocket(pidfd, fd.fd, ports)
			if !ok {
				continue
			}
			s.id = fd.inode
			uid := -1
			if st, err := os.Stat(filepath.Join(fdDir, strconv.Itoa(fd.fd))); err == nil {
				if sys, ok := st.Sys().(*syscall.Stat_t); ok {
					uid = int(sys.Uid)
				}
			}
			s.UID = uid
			s.Owner = t.owner(pid, uid)
			out = append(out, s)
		}
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		return true
	})
	return out
}

// boundSocket borrows descriptor fd of the process behind pidfd and reports
// it when it is a TCP socket bound to one of ports, not listening and not
// connected.
func boundSocket(pidfd, fd int, ports *PortSet) (Socket, bool) {
	dup, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return Socket{}, false
	}
	defer unix.Close(dup)
	sa, err := unix.Getsockname(dup)
	if err != nil {
		return Socket{}, false
	}
	var ap netip.AddrPort
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		ap = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	default:
		return Socket{}, false
	}
	if ap.Port() == 0 || !ports.Has(int(ap.Port())) {
		return Socket{}, false
	}
	if typ, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return Socket{}, false
	}
	if proto, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_PROTOCOL); err != nil || proto != unix.IPPROTO_TCP {
		return Socket{}, false
	}
	if acc, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || acc != 0 {
		return Socket{}, false
	}
	if _, err := unix.Getpeername(dup); err != unix.ENOTCONN {
		return Socket{}, false
	}
	return Socket{Proto: TCP, Local: ap, State: SockBound}, true
}
