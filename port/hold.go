package port

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Held is a socket bound (and, for TCP, listening) for a server that is to
// inherit it: while it is open no other process can take the port.
type Held struct {
	Proto Proto
	Addr  netip.AddrPort
	// Name is its socket-activation name (LISTEN_FDNAMES): "tcp-8080".
	// systemd's names may not hold ':', which separates them.
	Name string
	// File is the descriptor, to hand to a child (exec.Cmd.ExtraFiles).
	File *os.File
}

// HoldOptions says how Hold binds. Zero values mean the defaults.
type HoldOptions struct {
	// Protos to bind each port for: default TCP only.
	Protos []Proto
	// Addr to bind: default the IPv6 wildcard, dual-stack (IPV6_V6ONLY off,
	// as systemd's ListenStream=PORT does), or 0.0.0.0 when IPv6 is off. An
	// IPv6 address other than :: gets IPV6_V6ONLY.
	Addr netip.Addr
}

// Hold binds each port for each protocol as a Go server would (TCP with
// SO_REUSEADDR, then listen; UDP bind), in the order ports × protos, and keeps
// the sockets open. On failure it closes what it made and says which bind
// failed, with the error's short name. Port 0 takes a port the OS chooses.
func Hold(ports []int, o HoldOptions) ([]Held, error) {
	if len(o.Protos) == 0 {
		o.Protos = []Proto{TCP}
	}
	dual := false
	if !o.Addr.IsValid() {
		o.Addr = any6
		dual = true
		if ipv6Disabled() {
			o.Addr, dual = netip.IPv4Unspecified(), false
		}
	}
	var out []Held
	for _, p := range ports {
		if p < 0 || p > MaxPort {
			CloseHeld(out)
			return nil, fmt.Errorf("port %d is out of range: ports run from 1 to %d", p, MaxPort)
		}
		// Port 0: the first protocol's bind picks the port, the others take
		// the same; a few tries when one of them finds it taken.
		var hs []Held
		var err error
		for try := 0; try < 10; try++ {
			if hs, err = holdOne(p, o.Addr, dual, o.Protos); err == nil || p != 0 {
				break
			}
		}
		if err != nil {
			CloseHeld(out)
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// holdOne binds port p (0: one the OS picks) for each protocol.
func holdOne(p int, addr netip.Addr, dual bool, protos []Proto) ([]Held, error) {
	var out []Held
	for _, proto := range protos {
		s := serverSpec(proto, netip.AddrPortFrom(addr, uint16(p)))
		if dual {
			s.v6only = false
		}
		fd, err := holdFD(s)
		if err != nil {
			CloseHeld(out)
			_, name, _ := classify(err)
			return nil, fmt.Errorf("%s %s: %s", proto, s.addr, name)
		}
		h := Held{Proto: proto, Addr: s.addr, File: fd}
		if got := heldPort(fd); got != 0 {
			h.Addr = netip.AddrPortFrom(addr, uint16(got))
		}
		p = int(h.Addr.Port())
		h.Name = string(proto) + "-" + strconv.Itoa(p)
		out = append(out, h)
	}
	return out, nil
}

// CloseHeld closes the sockets.
func CloseHeld(hs []Held) {
	for _, h := range hs {
		h.File.Close()
	}
}

// ActivationEnv returns the socket-activation variables (sd_listen_fds(3))
// for a child that inherits hs as descriptors 3, 4, ... in order, and whose
// pid is pid: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; and, for programs that
// only want the number, NETDUEL_PORTS (the distinct ports, comma separated)
// and NETDUEL_PORT (the first).
func ActivationEnv(hs []Held, pid int) []string {
	names := make([]string, len(hs))
	var ports []string
	for i, h := range hs {
		names[i] = h.Name
		if p := strconv.Itoa(int(h.Addr.Port())); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	env := []string{
		"LISTEN_PID=" + strconv.Itoa(pid),
		"LISTEN_FDS=" + strconv.Itoa(len(hs)),
		"LISTEN_FDNAMES=" + strings.Join(names, ":"),
		"NETDUEL_PORTS=" + strings.Join(ports, ","),
	}
	if len(ports) > 0 {
		env = append(env, "NETDUEL_PORT="+ports[0])
	}
	return env
}
