package port

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// FreeOptions says where Free looks. Zero values mean the defaults.
type FreeOptions struct {
	// Lo..Hi is the range to search: default 1024-65535 without the ephemeral
	// range (see DefaultFreeRange).
	Lo, Hi int
	// Count is how many ports to find: default 1.
	Count int
	// Protos must all be free on a port: default both.
	Protos []Proto
	// Addrs must all be free on a port: default DefaultAddrs.
	Addrs []netip.Addr
	// Table lists the sockets whose ports Free skips without binding (TIME_WAIT
	// ones among them): default OSSockets(). A table that cannot be read is
	// ignored.
	Table SocketTable
	// Start is where the search begins in the range (it wraps around); 0 picks a
	// random place, so that two callers do not race for the same port.
	Start int
}

// FreeResult is what Free found.
type FreeResult struct {
	Ports []int
	// Lo, Hi: the range searched; SkipLo..SkipHi the part left out (the
	// ephemeral range), 0 when none.
	Lo, Hi, SkipLo, SkipHi int
	// Checked is how many ports were tried.
	Checked int
}

// DefaultFreeRange returns the default search range, 1024-65535, and the part of
// it Free leaves out: the ephemeral range, where outgoing connections may take a
// port at any time.
func DefaultFreeRange() (lo, hi, skipLo, skipHi int) {
	f := facts()
	return 1024, MaxPort, f.ephemeralLo, f.ephemeralHi
}

// Free finds ports on which every requested protocol binds on every requested
// address, with no socket of any state in the OS's table: up to Count of them,
// in search order. Finding fewer is not an error (the caller compares
// len(Ports) with Count); the error is for failures of the search itself.
func Free(ctx context.Context, o FreeOptions) (FreeResult, error) {
	res := FreeResult{Lo: o.Lo, Hi: o.Hi}
	if o.Lo == 0 && o.Hi == 0 {
		res.Lo, res.Hi, res.SkipLo, res.SkipHi = DefaultFreeRange()
	}
	if res.Lo < 1 || res.Hi > MaxPort || res.Lo > res.Hi {
		return res, fmt.Errorf("range %d-%d: ports run from 1 to %d, low to high", res.Lo, res.Hi, MaxPort)
	}
	o.setDefaults()
	taken := res.taken(o.Table)
	v6off := ipv6Disabled()
	n := res.Hi - res.Lo + 1
	start := res.start(o.Start)
	for i := 0; i < n && len(res.Ports) < o.Count; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		p := res.Lo + (start-res.Lo+i)%n
		if res.skips(p) || taken.Has(p) {
			continue
		}
		res.Checked++
		ok, err := freeFor(p, o.Protos, o.Addrs, v6off)
		if err != nil {
			return res, err
		}
		if ok {
			res.Ports = append(res.Ports, p)
		}
	}
	return res, nil
}

// setDefaults fills in the zero fields but the range.
func (o *FreeOptions) setDefaults() {
	if o.Count <= 0 {
		o.Count = 1
	}
	if len(o.Protos) == 0 {
		o.Protos = Protos
	}
	if len(o.Addrs) == 0 {
		o.Addrs = DefaultAddrs
	}
	if o.Table == nil {
		o.Table = OSSockets()
	}
}

// skips reports whether p is in the part of the range left out.
func (r *FreeResult) skips(p int) bool { return r.SkipHi > 0 && p >= r.SkipLo && p <= r.SkipHi }

// taken returns the ports of the range, outside the skipped part, on which
// the table has a socket (an unreadable table has none).
func (r *FreeResult) taken(table SocketTable) PortSet {
	var taken PortSet
	socks, _ := table.Sockets(func(_ Proto, p int) bool { return p >= r.Lo && p <= r.Hi && !r.skips(p) })
	for _, s := range socks {
		taken.Add(int(s.Local.Port()))
	}
	return taken
}

// start returns where the search begins: start when it is in the range, else
// a random port outside the skipped part, uniformly.
func (r *FreeResult) start(start int) int {
	if start >= r.Lo && start <= r.Hi {
		return start
	}
	skipped := 0
	if r.SkipHi > 0 {
		skipped = max(0, min(r.Hi, r.SkipHi)-max(r.Lo, r.SkipLo)+1)
	}
	start = r.Lo + rand.IntN(max(1, r.Hi-r.Lo+1-skipped))
	if skipped > 0 && start >= r.SkipLo {
		start += skipped
	}
	if start > r.Hi {
		start = r.Lo
	}
	return start
}

// freeFor reports whether every protocol binds port p on every address (IPv6
// addresses are skipped when IPv6 is off).
func freeFor(p int, protos []Proto, addrs []netip.Addr, v6off bool) (bool, error) {
	for _, proto := range protos {
		for _, a := range addrs {
			if v6off && a.Is6() {
				continue
			}
			st, name, ok := classify(tryBind(serverSpec(proto, netip.AddrPortFrom(a, uint16(p)))))
			if !ok {
				return false, fmt.Errorf("binding %s %s port %d: %s", proto, a, p, name)
			}
			if st != StateFree {
				return false, nil
			}
		}
	}
	return true, nil
}
