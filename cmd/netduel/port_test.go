package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/netduel/netduel/port"
	"github.com/netduel/netduel/report"
)

// heldPort listens on 127.0.0.1 for the rest of the test.
func heldPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// freePort finds a port free for TCP and UDP.
func freePort(t *testing.T) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"netduel", "port", "free"}, &out, &errb); code != 0 {
		t.Fatalf("port free: exit %d: %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func TestPortExitCodes(t *testing.T) {
	free, held := freePort(t), heldPort(t)
	cases := []struct {
		name string
		args []string
		code int
		msg  string // part of the one-line message on stderr
	}{
		{"free port", []string{"port", "check", free}, exitOK, ""},
		{"free port, flags after", []string{"port", "check", free, "-o", "json", "--proto", "udp"}, exitOK, ""},
		{"held port", []string{"port", "check", held}, exitFailed, "not free: " + held},
		{"held port, udp only", []string{"port", "check", "--proto", "udp", held}, exitOK, ""},
		{"held port in a list", []string{"port", "check", free + "," + held, "--addr", "127.0.0.1"}, exitFailed, "not free"},
		{"port 0", []string{"port", "check", "0"}, exitUsage, "port 0 is out of range"},
		{"port too high", []string{"port", "check", "65536"}, exitUsage, "out of range"},
		{"reversed range", []string{"port", "check", "10-5"}, exitUsage, "range 10-5 is reversed: write 5-10"},
		{"not a number", []string{"port", "check", "http"}, exitUsage, "not a number"},
		{"no port", []string{"port", "check"}, exitUsage, "needs a port"},
		{"unknown proto", []string{"port", "check", "80", "--proto", "sctp"}, exitUsage, `unknown protocol "sctp"`},
		{"bad addr", []string{"port", "check", "80", "--addr", "localhost"}, exitUsage, "--addr"},
		{"bad output", []string{"port", "check", "80", "-o", "yaml"}, exitUsage, `-o "yaml"`},
		{"unknown flag", []string{"port", "check", "80", "--frobnicate"}, exitUsage, "frobnicate"},
		{"free", []string{"port", "free", "--count", "2", "--proto", "tcp"}, exitOK, ""},
		{"free, none left", []string{"port", "free", "--range", held + "-" + held, "--proto", "tcp", "--addr", "127.0.0.1"}, exitFailed, "found 0 of 1"},
		{"free, bad count", []string{"port", "free", "--count", "0"}, exitUsage, "--count 0"},
		{"free, bad range", []string{"port", "free", "--range", "9-1"}, exitUsage, "reversed"},
		{"free, list as range", []string{"port", "free", "--range", "1,2"}, exitUsage, "one range"},
		{"free, argument", []string{"port", "free", "8080"}, exitUsage, "takes only flags"},
		{"conflicts, bad port", []string{"port", "conflicts", "--port", "70000"}, exitUsage, "--port 70000"},
		{"conflicts, held port", []string{"port", "conflicts", "--port", held}, exitFailed, "is not free"},
		{"conflicts, argument", []string{"port", "conflicts", "x"}, exitUsage, "takes only flags"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"netduel"}, tc.args...), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errb.String())
			}
			msg := errb.String()
			if tc.msg != "" && !strings.Contains(msg, tc.msg) {
				t.Errorf("stderr %q lacks %q", msg, tc.msg)
			}
			if code == exitUsage && (strings.Count(msg, "\n") != 1 || out.Len() != 0) {
				t.Errorf("usage errors are one line on stderr and nothing on stdout: %q / %q", msg, out.String())
			}
		})
	}
}

func TestPortCheckJSONMatchesSchema(t *testing.T) {
	s := compileSchema(t, "netduel.port.v1.schema.json")
	held := heldPort(t)
	var out, errb bytes.Buffer
	// 80 brings the well-known warnings, the held port an owner.
	if code := run([]string{"netduel", "port", "check", "80," + held, "-o", "json"}, &out, &errb); code != exitFailed && code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if err := validate(t, s, out.String()); err != nil {
		t.Fatalf("real output does not match the schema: %v\n%s", err, out.String())
	}
	var doc report.PortCheckDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range doc.Ports {
		if strconv.Itoa(r.Port) == held && r.Proto == port.TCP && r.Address == "127.0.0.1" {
			found = true
			if r.State != port.StateInUse || r.Owner == nil || r.Owner.PID != os.Getpid() || r.SocketState != "LISTEN" {
				t.Errorf("held port: %+v owner %+v", r, r.Owner)
			}
		}
	}
	if !found {
		t.Fatal("no result for the held port on 127.0.0.1")
	}
	bad := map[string]func(string) string{
		"wrong schema":   func(d string) string { return strings.Replace(d, "netduel.port/v1", "netduel.port/v2", 1) },
		"unknown state":  func(d string) string { return strings.Replace(d, `"state":"in_use"`, `"state":"busy"`, 1) },
		"port as string": func(d string) string { return strings.Replace(d, `"port":80,`, `"port":"80",`, 1) },
		"port 0":         func(d string) string { return strings.Replace(d, `"port":80,`, `"port":0,`, 1) },
		"unknown proto":  func(d string) string { return strings.Replace(d, `"proto":"udp"`, `"proto":"sctp"`, 1) },
		"owner without pid": func(d string) string {
			return strings.Replace(d, `"pid":`+strconv.Itoa(os.Getpid())+",", "", 1)
		},
		"unknown warning code": func(d string) string {
			return strings.Replace(d, `"warnings":["well_known"`, `"warnings":["spooky"`, 1)
		},
		"warning without ports": func(d string) string {
			return strings.Replace(d, `"proto": "tcp",
      "ports": [`, `"proto": "tcp",
      "nowhere": [`, 1)
		},
		"bind as pascal": func(d string) string { return strings.Replace(d, `"as": "go"`, `"as": "pascal"`, 1) },
		"extra field": func(d string) string {
			return strings.Replace(d, `"all_free": false`, `"all_free": false, "surprise": 1`, 1)
		},
		"free's field": func(d string) string {
			return strings.Replace(d, `"all_free": false`, `"all_free": false, "requested": 1`, 1)
		},
	}
	rejectsMutations(t, s, out.String(), bad)
}

func TestPortFreeAndConflictsJSONMatchSchema(t *testing.T) {
	s := compileSchema(t, "netduel.port.v1.schema.json")
	for _, args := range [][]string{
		{"port", "free", "--count", "3", "-o", "json"},
		{"port", "free", "--range", "40000-40100", "-o", "json"},
		{"port", "conflicts", "-o", "json"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"netduel"}, args...), &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if err := validate(t, s, out.String()); err != nil {
			t.Errorf("%v: output does not match the schema: %v\n%s", args, err, out.String())
		}
	}
}

// TestPortFormats runs every subcommand in every format: exit 0, something on
// stdout, no colour when not a terminal.
func TestPortFormats(t *testing.T) {
	free := freePort(t)
	for _, cmd := range [][]string{{"port", "check", free}, {"port", "free", "--count", "2"}, {"port", "conflicts"}} {
		for _, format := range report.Formats {
			var out, errb bytes.Buffer
			if code := run(append(append([]string{"netduel"}, cmd...), "-o", format), &out, &errb); code != exitOK {
				t.Fatalf("%v -o %s: exit %d: %s", cmd, format, code, errb.String())
			}
			if out.Len() == 0 || strings.Contains(out.String(), "\x1b[") {
				t.Errorf("%v -o %s: empty or coloured output:\n%s", cmd, format, out.String())
			}
			if format == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("%v -o json: not JSON", cmd)
			}
		}
	}
	// The table of 'port free' is one port per line, for shell scripts.
	var out, errb bytes.Buffer
	if code := run([]string{"netduel", "port", "free", "--count", "3"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 3 {
		t.Fatalf("got %q", out.String())
	}
	for _, l := range lines {
		if p, err := strconv.Atoi(l); err != nil || p < 1024 || p > 65535 {
			t.Errorf("line %q is not a port", l)
		}
	}
}
