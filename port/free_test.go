package port

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"
)

func TestFree(t *testing.T) {
	res, err := Free(context.Background(), FreeOptions{Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ports) != 5 || res.Lo != 1024 || res.Hi != MaxPort {
		t.Fatalf("got %+v", res)
	}
	for _, p := range res.Ports {
		if p < 1024 || (p >= res.SkipLo && p <= res.SkipHi) {
			t.Errorf("port %d is outside the default range or inside the ephemeral range %d-%d", p, res.SkipLo, res.SkipHi)
		}
	}
	rs, err := Check(context.Background(), res.Ports, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.State != StateFree && r.State != StateUnavailable {
			t.Errorf("free port %d is %s for %s %s", r.Port, r.State, r.Proto, r.Address)
		}
	}
}

func TestFreeSkipsTakenPorts(t *testing.T) {
	// Hold TCP on one port and UDP on the next: a search of the three ports
	// from the first finds only the third. The ports are taken below the
	// ephemeral range, so that no other test's port-0 socket (go test runs
	// packages at once) can take the third between the check and the search.
	_, _, skipLo, _ := DefaultFreeRange()
	lo, hi := 10000, min(skipLo, 32768)-3
	if hi <= lo {
		t.Skipf("the ephemeral range starts at %d: no room below it", skipLo)
	}
	for attempt := 0; attempt < 20; attempt++ {
		p := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp4", netip.AddrPortFrom(loop4, uint16(p)).String())
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp4", netip.AddrPortFrom(loop4, uint16(p+1)).String())
		if err != nil {
			l.Close()
			continue
		}
		third, err := Check(context.Background(), []int{p + 2}, CheckOptions{})
		if err != nil || !AllFree(third) {
			l.Close()
			u.Close()
			continue
		}
		for _, table := range []SocketTable{nil, fakeTable{}} { // with and without the socket table's help
			res, err := Free(context.Background(), FreeOptions{Lo: p, Hi: p + 2, Count: 3, Start: p, Table: table})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Ports, []int{p + 2}) {
				t.Errorf("table %T: got %v in %d-%d, want [%d]", table, res.Ports, p, p+2, p+2)
			}
		}
		l.Close()
		u.Close()
		return
	}
	t.Skip("no three consecutive ports to experiment with")
}

func TestFreeBadRange(t *testing.T) {
	for _, o := range []FreeOptions{{Lo: 10, Hi: 5}, {Lo: 0, Hi: 5}, {Lo: 5, Hi: 70000}} {
		if _, err := Free(context.Background(), o); err == nil {
			t.Errorf("%d-%d: no error", o.Lo, o.Hi)
		}
	}
}

func BenchmarkCheckOne(b *testing.B) {
	res, err := Free(context.Background(), FreeOptions{})
	if err != nil || len(res.Ports) == 0 {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Check(context.Background(), res.Ports, CheckOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFreeCount1(b *testing.B) {
	for b.Loop() {
		res, err := Free(context.Background(), FreeOptions{Count: 1})
		if err != nil || len(res.Ports) != 1 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkCheckFullRange checks 1024-65535 for TCP and UDP on the default
// addresses: the target is under 2 s.
func BenchmarkCheckFullRange(b *testing.B) {
	ports, err := ParsePorts("1024-65535")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rs, err := Check(context.Background(), ports, CheckOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rs) != len(ports)*len(Protos)*len(DefaultAddrs) {
			b.Fatalf("%d results", len(rs))
		}
	}
}
