package port

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	cases := []struct {
		args []string
		want []int
		err  string // part of the message
	}{
		{[]string{"8080"}, []int{8080}, ""},
		{[]string{"8443,8080"}, []int{8080, 8443}, ""},
		{[]string{"8000-8003", "8002,1"}, []int{1, 8000, 8001, 8002, 8003}, ""},
		{[]string{" 80 , 443 "}, []int{80, 443}, ""},
		{[]string{"65535"}, []int{65535}, ""},
		{[]string{"5-5"}, []int{5}, ""},
		{[]string{"0"}, nil, "port 0 is out of range"},
		{[]string{"65536"}, nil, "port 65536 is out of range"},
		{[]string{"99999999999999999999"}, nil, "out of range"},
		{[]string{"10-5"}, nil, "range 10-5 is reversed: write 5-10"},
		{[]string{"1-2-3"}, nil, "more than one '-'"}, // said: port "2-3" is not a number
		{[]string{"http"}, nil, `port "http" is not a number`},
		{[]string{"-5"}, nil, "missing a number"},
		{[]string{"80,"}, nil, "empty port"},
		{[]string{"+80"}, nil, "not a number"},
		{[]string{}, nil, "no port given"},
	}
	for _, tc := range cases {
		got, err := ParsePorts(tc.args...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.args, got, err, tc.want)
		}
	}
}

func TestFormatPorts(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{80}, "80"}, {[]int{80, 443, 8000, 8001, 8002}, "80,443,8000-8002"}, {[]int{1, 2, 4}, "1-2,4"},
	} {
		if got := FormatPorts(tc.in); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseProtosAndAddrs(t *testing.T) {
	if got, err := ParseProtos("UDP, tcp,udp"); err != nil || !slices.Equal(got, []Proto{TCP, UDP}) {
		t.Errorf("protos: %v %v", got, err)
	}
	for _, bad := range []string{"sctp", "", "tcp,"} {
		if _, err := ParseProtos(bad); err == nil {
			t.Errorf("protos %q: no error", bad)
		}
	}
	got, err := ParseAddrs("[::1],127.0.0.1", "::ffff:127.0.0.1")
	if err != nil || !slices.Equal(got, []netip.Addr{netip.IPv6Loopback(), loop4}) {
		t.Errorf("addrs: %v %v", got, err)
	}
	for _, bad := range []string{"localhost", "fe80::1%eth0", "", "1.2.3"} {
		if _, err := ParseAddrs(bad); err == nil {
			t.Errorf("addr %q: no error", bad)
		}
	}
	if lo, hi, err := ParseRange("2000-3000"); err != nil || lo != 2000 || hi != 3000 {
		t.Errorf("range: %d %d %v", lo, hi, err)
	}
	if _, _, err := ParseRange("1-2,5"); err == nil {
		t.Error("a list is not a range")
	}
}

// FuzzParsePorts: no input panics; whatever parses is ascending, unique, in
// 1-65535, and survives FormatPorts and ParsePorts again unchanged; every
// error is one line.
func FuzzParsePorts(f *testing.F) {
	for _, seed := range []string{"8080", "8080,8443", "8000-8010", "1-65535", "0", "65536", "10-5", "", ",", "-",
		"1--2", " 1 , 2 ", "80,80,80", "9999999999999999999999", "1-", "-1", "１２", "80\n", "0x50", "1-2-3", "65535-65535"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Errorf("%q: multi-line error %q", s, err)
			}
			return
		}
		if len(ports) == 0 {
			t.Fatalf("%q: no ports and no error", s)
		}
		for i, p := range ports {
			if p < 1 || p > MaxPort || (i > 0 && p <= ports[i-1]) {
				t.Fatalf("%q: bad list %v", s, ports[:min(len(ports), 20)])
			}
		}
		again, err := ParsePorts(FormatPorts(ports))
		if err != nil || !slices.Equal(again, ports) {
			t.Fatalf("%q: round trip through %q failed: %v", s, FormatPorts(ports), err)
		}
	})
}
