package port

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCheckAgreesWithSS opens many listeners in a range of ports and compares
// Check's report on every port of the range with what `ss -ltnup` lists.
func TestCheckAgreesWithSS(t *testing.T) {
	ssPath, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("ss is not installed")
	}
	const width = 200
	lo := 20000 + rand.IntN(9000)
	hi := lo + width - 1
	defer holdSome(lo, hi)()
	ports, err := ParsePorts(strconv.Itoa(lo) + "-" + strconv.Itoa(hi))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Check(context.Background(), ports, CheckOptions{Addrs: []netip.Addr{loop4}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ssPath, "-ltnupH").Output()
	if err != nil {
		t.Skipf("ss -ltnup: %v", err)
	}
	ss := ssSockets(string(out), lo, hi)
	inUse := 0
	for _, r := range rs {
		pids, listed := ss[ssKey{r.Proto, r.Port}]
		switch {
		case r.State == StateInUse && !listed:
			t.Errorf("%d/%s: check says in use (%s), ss lists nothing", r.Port, r.Proto, r.SocketState)
		case r.State == StateFree && listed:
			t.Errorf("%d/%s: check says free, ss lists a socket", r.Port, r.Proto)
		case r.State == StateInUse:
			inUse++
			if r.Owner == nil {
				t.Errorf("%d/%s: no owner (%s)", r.Port, r.Proto, r.OwnerNote)
			} else if !containsInt(pids, r.Owner.PID) {
				t.Errorf("%d/%s: owner pid %d, ss says %v", r.Port, r.Proto, r.Owner.PID, pids[1:])
			}
		}
	}
	if inUse < width/3 {
		t.Errorf("only %d ports in use in %d-%d: the test opened too few", inUse, lo, hi)
	}
}

// holdSome opens sockets in lo..hi: every third port gets a TCP listener,
// every fifth a UDP socket, on loopback or the wildcard; ports already taken
// are left as they are. It returns what closes them.
func holdSome(lo, hi int) func() {
	var closers []func()
	for p := lo; p <= hi; p++ {
		host := "127.0.0.1"
		if p%2 == 0 {
			host = "0.0.0.0"
		}
		addr := net.JoinHostPort(host, strconv.Itoa(p))
		if p%3 == 0 {
			if l, err := net.Listen("tcp4", addr); err == nil {
				closers = append(closers, func() { l.Close() })
			}
		}
		if p%5 == 0 {
			if c, err := net.ListenPacket("udp4", addr); err == nil {
				closers = append(closers, func() { c.Close() })
			}
		}
	}
	return func() {
		for _, c := range closers {
			c()
		}
	}
}

type ssKey struct {
	proto Proto
	port  int
}

// ssSockets reads `ss -ltnupH` output: for each protocol and port in lo..hi
// of a socket overlapping 127.0.0.1, 0 then the pids ss shows for it.
func ssSockets(out string, lo, hi int) map[ssKey][]int {
	ss := map[ssKey][]int{}
	pidRe := regexp.MustCompile(`pid=(\d+)`)
	for line := range strings.Lines(out) {
		fs := strings.Fields(line)
		if len(fs) < 5 {
			continue
		}
		ap, err := netip.ParseAddrPort(strings.Replace(fs[4], "*:", "0.0.0.0:", 1))
		if err != nil {
			// "[::]:22", "0.0.0.0%lo:53"...
			s := fs[4]
			if i := strings.Index(s, "%"); i >= 0 {
				s = s[:i] + s[strings.LastIndex(s, ":"):]
			}
			if ap, err = netip.ParseAddrPort(s); err != nil {
				continue
			}
		}
		p := int(ap.Port())
		if p < lo || p > hi || !overlaps(loop4, ap.Addr()) {
			continue
		}
		k := ssKey{Proto(fs[0]), p}
		ss[k] = append(ss[k], 0)
		for _, m := range pidRe.FindAllStringSubmatch(line, -1) {
			pid, _ := strconv.Atoi(m[1])
			ss[k] = append(ss[k], pid)
		}
	}
	return ss
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
