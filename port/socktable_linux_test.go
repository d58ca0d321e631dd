package port

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseProcNet(t *testing.T) {
	const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 0000000000000000
   3: garbage
`
	socks, err := parseProcNet(strings.NewReader(tcp), TCP, func(_ Proto, p int) bool { return p == 8080 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), State: SockListen, UID: 1000, id: 4242},
		{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), State: SockTimeWait, UID: 0, id: 0},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %+v", socks)
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, socks[i], want[i])
		}
	}
	const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  1: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 99 2 0000000000000000 0
`
	socks, err = parseProcNet(strings.NewReader(udp6), UDP, func(Proto, int) bool { return true }, nil)
	if err != nil || len(socks) != 1 {
		t.Fatalf("udp6: %+v %v", socks, err)
	}
	if s := socks[0]; s.Local != netip.MustParseAddrPort("[::1]:53") || s.State != SockBound || s.UID != 101 {
		t.Errorf("udp6: %+v", s)
	}
}

func TestOverlaps(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		bind, local string
		want        bool
	}{
		{"127.0.0.1", "127.0.0.1", true}, {"127.0.0.1", "0.0.0.0", true}, {"0.0.0.0", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false}, {"127.0.0.1", "::", true}, {"127.0.0.1", "::1", false},
		{"::1", "::", true}, {"::1", "0.0.0.0", false}, {"::", "::1", true}, {"127.0.0.1", "::ffff:127.0.0.1", true},
	} {
		if got := overlaps(a(tc.bind), a(tc.local)); got != tc.want {
			t.Errorf("overlaps(%s, %s) = %v", tc.bind, tc.local, got)
		}
	}
}

func TestParseServices(t *testing.T) {
	m := parseServices(strings.NewReader("# comment\nhttp 80/tcp www # WorldWideWeb\nhttp 80/udp\ndomain 53/udp\nbad 99999/tcp\nx y/tcp\nwww 80/tcp\n"))
	if m[serviceKey{TCP, 80}] != "http" || m[serviceKey{UDP, 53}] != "domain" || len(m) != 3 {
		t.Errorf("got %v", m)
	}
	if ServiceName(TCP, 22) != "ssh" {
		t.Errorf("22/tcp: %q", ServiceName(TCP, 22))
	}
}
