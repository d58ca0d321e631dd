package port

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// serviceKey names a port of one protocol in the services database.
type serviceKey struct {
	proto Proto
	port  int
}

// services is the system's services database, read once, with the fallback
// table under it.
var services = sync.OnceValue(func() map[serviceKey]string {
	m := make(map[serviceKey]string, len(fallbackServices)*2)
	for p, name := range fallbackServices {
		m[serviceKey{TCP, p}] = name
		m[serviceKey{UDP, p}] = name
	}
	if f, err := os.Open(servicesFile()); err == nil {
		defer f.Close()
		for k, name := range parseServices(f) {
			m[k] = name
		}
	}
	return m
})

func servicesFile() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("SystemRoot"), `System32\drivers\etc\services`)
	}
	return "/etc/services"
}

// ServiceName returns the service registered for port and proto in the system's
// services database (/etc/services), or in a small built-in table of well-known
// ports when the database lacks it; "" if neither has one.
func ServiceName(proto Proto, port int) string {
	return services()[serviceKey{proto, port}]
}

// parseServices reads services(5) lines: "name port/proto [aliases] [# comment]".
// The first name given for a port wins.
func parseServices(r io.Reader) map[serviceKey]string {
	m := make(map[serviceKey]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(fs[1], "/")
		if !ok {
			continue
		}
		p, err := strconv.Atoi(num)
		if err != nil || p < 1 || p > MaxPort {
			continue
		}
		k := serviceKey{Proto(strings.ToLower(proto)), p}
		if k.proto != TCP && k.proto != UDP {
			continue
		}
		if _, seen := m[k]; !seen {
			m[k] = fs[0]
		}
	}
	return m
}

// fallbackServices names common well-known ports (IANA) for hosts without a
// services database (containers often have none).
var fallbackServices = map[int]string{
	7: "echo", 20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp",
	53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 80: "http", 88: "kerberos",
	110: "pop3", 111: "sunrpc", 119: "nntp", 123: "ntp", 135: "epmap", 137: "netbios-ns",
	138: "netbios-dgm", 139: "netbios-ssn", 143: "imap", 161: "snmp", 162: "snmptrap",
	179: "bgp", 389: "ldap", 443: "https", 445: "microsoft-ds", 465: "submissions",
	500: "isakmp", 514: "syslog", 515: "printer", 520: "rip", 546: "dhcpv6-client",
	547: "dhcpv6-server", 554: "rtsp", 587: "submission", 631: "ipp", 636: "ldaps",
	853: "domain-s", 873: "rsync", 989: "ftps-data", 990: "ftps", 993: "imaps", 995: "pop3s",
}
