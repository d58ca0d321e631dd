package port

import (
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseExcludedPortRanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want []ExcludedRange
	}{
		{"netsh_excludedportrange_tcp.txt", []ExcludedRange{{1080, 1179, false}, {2869, 2869, false}, {5357, 5357, false}, {50000, 50059, true}, {54235, 54334, false}}},
		{"netsh_excludedportrange_udp_de.txt", []ExcludedRange{{49665, 49764, false}}}, // localised headings
	} {
		got, err := ParseExcludedPortRanges(readFixture(t, tc.file))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v %v, want %v", tc.file, got, err, tc.want)
		}
	}
	got, _ := ParseExcludedPortRanges(strings.NewReader("0 5\n10 5\n1 70000\n5 6 7\nx y\n"))
	if len(got) != 0 {
		t.Errorf("garbage gave %v", got)
	}
}

func TestParseLsofListeners(t *testing.T) {
	t.Parallel()
	got, err := ParseLsofListeners(readFixture(t, "lsof_listen_darwin.txt"))
	if err != nil || len(got) != 6 || got[1] != (LsofListener{Command: "ControlCe", PID: 601, User: "alice", Port: 7000}) || got[5].Port != 8000 {
		t.Errorf("got %+v %v", got, err)
	}
}

// checkHidden checks TCP and UDP port p on 127.0.0.1 with the given hidden
// ranges standing in for the OS's.
func checkHidden(t *testing.T, p int, hidden []hiddenRange) []Result {
	t.Helper()
	rs, err := Check(context.Background(), []int{p}, CheckOptions{Addrs: []netip.Addr{loop4}, Table: fakeTable{}, hidden: hidden})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func warningOf(r Result, code string) *Warning {
	for i := range r.Warnings {
		if r.Warnings[i].Code == code {
			return &r.Warnings[i]
		}
	}
	return nil
}

// TestHiddenWarnings: Windows' excluded ranges (from netsh output) and macOS's
// AirPlay ports (from lsof output) give their warnings to exactly the ports
// and protocols they cover, whatever OS runs the test.
func TestHiddenWarnings(t *testing.T) {
	t.Parallel()
	tcpEx, _ := ParseExcludedPortRanges(readFixture(t, "netsh_excludedportrange_tcp.txt"))
	ls, _ := ParseLsofListeners(readFixture(t, "lsof_listen_darwin.txt"))
	hidden := append(excludedRanges(TCP, tcpEx), airplayRanges(13, ls)...)
	for _, tc := range []struct {
		port     int
		code     string
		tcp, udp bool
		message  string
		advice   string
	}{
		{1100, WarnExcluded, true, false, "excluded port range of TCP (1080-1179", "netsh int ipv4 add excludedportrange protocol=tcp"},
		{50010, WarnExcluded, true, false, "administered excluded port range of TCP (50000-50059)", "netsh int ipv4 delete excludedportrange protocol=tcp startport=50000 numberofports=60"},
		{5000, WarnAirPlay, true, false, "ControlCenter, pid 601", "AirPlay Receiver"},
		{7000, WarnAirPlay, true, false, "ControlCenter, pid 601", "AirPlay Receiver"},
		{1180, WarnExcluded, false, false, "", ""},
		{5001, WarnAirPlay, false, false, "", ""},
	} {
		rs := checkHidden(t, tc.port, hidden)
		for _, r := range rs {
			w := warningOf(r, tc.code)
			want := (r.Proto == TCP && tc.tcp) || (r.Proto == UDP && tc.udp)
			if (w != nil) != want {
				t.Errorf("port %d %s: %s warning %v, want %v", tc.port, r.Proto, tc.code, w, want)
				continue
			}
			if w != nil && (!strings.Contains(w.Message, tc.message) || !strings.Contains(w.Advice, tc.advice)) {
				t.Errorf("port %d %s: %+v", tc.port, r.Proto, *w)
			}
		}
	}
	if got := airplayRanges(11, ls); len(got) != 0 {
		t.Errorf("macOS 11 has no AirPlay Receiver: %v", got)
	}
	if got := airplayRanges(12, nil); len(got) != 2 || strings.Contains(got[0].message, "pid") {
		t.Errorf("AirPlay off: %+v", got)
	}
}

func TestReservedRanges(t *testing.T) {
	t.Parallel()
	got := reservedRanges("8080,9000-9100, \n", "test")
	if len(got) != 2 || got[0].lo != 8080 || got[0].hi != 8080 || got[1].lo != 9000 || got[1].hi != 9100 || got[0].code != WarnReserved {
		t.Errorf("got %+v", got)
	}
	if got := reservedRanges("\n", "test"); len(got) != 0 {
		t.Errorf("empty: %+v", got)
	}
	if got := reservedRanges("8080,8079-8081,x,0,9-", "test"); len(got) != 1 || got[0].lo != 8079 || got[0].hi != 8081 {
		t.Errorf("overlaps and garbage: %+v", got)
	}
}

// TestHiddenOverlap: overlapping ranges of one code give a result that code
// once.
func TestHiddenOverlap(t *testing.T) {
	t.Parallel()
	ex := excludedRanges(TCP, []ExcludedRange{{Lo: 1000, Hi: 1200}, {Lo: 1100, Hi: 1100, Admin: true}})
	for _, r := range checkHidden(t, 1100, ex) {
		n := 0
		for _, w := range r.Warnings {
			if w.Code == WarnExcluded {
				n++
			}
		}
		if want := map[Proto]int{TCP: 1, UDP: 0}[r.Proto]; n != want {
			t.Errorf("%s: %d excluded warnings, want %d", r.Proto, n, want)
		}
	}
}

func FuzzParseExcludedPortRanges(f *testing.F) {
	for _, name := range []string{"netsh_excludedportrange_tcp.txt", "netsh_excludedportrange_udp_de.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, _ := ParseExcludedPortRanges(strings.NewReader(s))
		for _, r := range rs {
			if r.Lo < 1 || r.Hi > MaxPort || r.Lo > r.Hi {
				t.Fatalf("bad range %+v from %q", r, s)
			}
		}
	})
}

func FuzzParseLsofListeners(f *testing.F) {
	b, err := os.ReadFile("testdata/lsof_listen_darwin.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, s string) {
		ls, _ := ParseLsofListeners(strings.NewReader(s))
		for _, l := range ls {
			if l.Port < 1 || l.Port > MaxPort {
				t.Fatalf("bad port %+v from %q", l, s)
			}
		}
		_ = airplayRanges(12, ls)
	})
}
