package main

import (
	"errors"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/report"
)

// parseRate parses a bit rate, the same way for every rate flag: a number of
// bits per second with an optional k, M or G suffix (powers of 1000) and an
// optional "bit/s", "bps" or "b" after it, or tc's units (10mbit, 512kibit,
// 2MBps = 2 megabytes/s). tc's lower-case kbps, mbps, gbps and tbps, bytes to
// tc but bits to this syntax, are refused as ambiguous.
func parseRate(flag, s string) (float64, error) {
	orig := s
	s = strings.TrimSpace(s)
	for _, u := range []struct{ unit, prefix string }{{"kbps", "kilo"}, {"mbps", "mega"}, {"gbps", "giga"}, {"tbps", "tera"}} {
		if n, ok := strings.CutSuffix(s, u.unit); ok { // lower case: tc's bytes, not netduel's bits
			up := strings.ToUpper(u.unit[:1])
			return 0, usageErrorf("--%s %q: tc reads %s as %sbytes/s, netduel's %sbps as %sbits/s: write %s%sbit for bits/s or %s%sBps for bytes/s",
				flag, orig, u.unit, u.prefix, up, u.prefix, n, u.unit[:1], n, up)
		}
	}
	bad := func() error {
		zero := "0 = unpaced"
		switch flag {
		case "max-bitrate":
			zero = "0 = no limit"
		case "rate":
			return usageErrorf("--rate %q: want a link rate in bits/s such as 100M, 1.5G or 500k, or in tc's units such as 100mbit or 2MBps", orig)
		}
		return usageErrorf("--%s %q: want a bit rate such as 100M, 1.5G or 500k, or in tc's units such as 100mbit or 2MBps (bits/s; %s)", flag, orig, zero)
	}
	if bps, ok, err := impair.ParseTCRate(s); ok {
		switch {
		case err != nil:
			return 0, usageErrorf("--%s: %v", flag, err)
		case bps > 1e13:
			return 0, usageErrorf("--%s %q: at most 10tbit", flag, orig)
		}
		return bps, nil
	}
	for _, suf := range []string{"bit/s", "bps", "b"} {
		s = strings.TrimSuffix(s, suf)
	}
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'm', 'M':
			mult, s = 1e6, s[:n-1]
		case 'g', 'G':
			mult, s = 1e9, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v*mult > 1e13 {
		return 0, bad()
	}
	return v * mult, nil
}

// parseSize parses a byte count with an optional K/KiB or M/MiB suffix (powers of 1024).
func parseSize(flag, s string) (int, error) {
	orig := s
	s = strings.TrimSpace(s)
	mult := 1
	for _, suf := range []struct {
		s string
		m int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"K", 1 << 10}, {"k", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, suf.s) {
			s, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > math.MaxInt32/mult {
		return 0, usageErrorf("--%s %q: want a size in bytes such as 1400, 64 or 128K", flag, orig)
	}
	return v * mult, nil
}

// parseList splits a comma list and checks each item against the allowed values,
// keeping the order given and dropping repeats.
func parseList[T ~string](flag, s string, allowed ...T) ([]T, error) {
	var out []T
	seen := map[T]bool{}
	for _, word := range strings.Split(s, ",") {
		item := T(strings.ToLower(strings.TrimSpace(word)))
		if !slices.Contains(allowed, item) {
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = string(a)
			}
			return nil, usageErrorf("--%s %q: %q is not one of %s", flag, s, item, strings.Join(names, ", "))
		}
		if !seen[item] {
			seen[item] = true
			out = append(out, item)
		}
	}
	return out, nil
}

func checkOutput(s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return usageErrorf("-o %q: want one of %s", s, strings.Join(allowed, ", "))
}

// hostPort checks a HOST:PORT flag value: an IP address or host name (empty
// for a listener, allowZero: every address, port 0 allowed), and a port.
func hostPort(flag, s string, allowZero bool) error {
	if i := strings.Index(s, "://"); i >= 0 {
		return usageErrorf("--%s %q: want HOST:PORT without a scheme, e.g. %s", flag, s, strings.TrimRight(s[i+3:], "/"))
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return usageErrorf("--%s %q: want HOST:PORT, e.g. 127.0.0.1:9400 (IPv6: [::1]:9400)", flag, s)
	}
	p, err := strconv.Atoi(portStr)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !allowZero) {
		lo := 1
		if allowZero {
			lo = 0
		}
		return usageErrorf("--%s %q: the port must be a number from %d to 65535", flag, s, lo)
	}
	switch {
	case host == "" && !allowZero:
		return usageErrorf("--%s %q: name the host, e.g. 127.0.0.1%s", flag, s, s)
	case host != "" && !validHost(host):
		return usageErrorf("--%s %q: %q is not an IP address or host name (letters, digits, '-', '.'; no spaces or path), e.g. 127.0.0.1:%s",
			flag, s, host, portStr)
	}
	return nil
}

// validHost says whether h is an IP address or a DNS host name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// checkPlotFile checks a --plot file name's extension.
func checkPlotFile(name string) error {
	ext := strings.ToLower(filepath.Ext(name))
	ok := false
	for _, e := range report.PlotFormats {
		ok = ok || ext == e
	}
	if !ok {
		return usageErrorf("--plot %q: the file name must end in %s", name, strings.Join(report.PlotFormats, ", "))
	}
	if err := checkWritable(name); err != nil {
		return usageErrorf("--plot %q: cannot write there: %v (name a file in a directory you can write)", name, err)
	}
	return nil
}

// checkWritable checks, before a run, that a file it will write can be
// written: an existing file is opened for writing (not truncated), a new one
// created and removed again.
func checkWritable(name string) error {
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return errors.New("it is a directory")
	case err == nil:
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return pathErr(err)
		}
		return f.Close()
	case errors.Is(err, fs.ErrNotExist):
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return pathErr(err)
		}
		f.Close()
		return os.Remove(name)
	default:
		return pathErr(err)
	}
}

// pathErr drops the path from an *fs.PathError: the message names it already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parsePercent reads a percentage from 0 to 100: "0.1%" or "0.1".
func parsePercent(flag, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
		return 0, usageErrorf("--%s %q: want a percentage from 0 to 100, e.g. 0.1%%", flag, s)
	}
	return v, nil
}

// parseTolerance reads --tolerance: a percentage, "10%" or "10".
func parseTolerance(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1000 {
		return 0, usageErrorf("--tolerance %q: want a percentage from 0 to 1000, e.g. 10%%", s)
	}
	return v, nil
}
