package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeToken: 'netduel serve --token' serves a client with the token (from
// the flag or NETDUEL_TOKEN) and refuses one without it or with another: a
// clear "authentication failed", exit 3.
func TestServeToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan int, 1)
	go func() {
		served <- runContext(ctx, []string{"netduel", "serve", "-q", "--listen", addr, "--token", "tok-123"}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	defer func() { cancel(); <-served }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start")
		}
	}
	cases := []struct {
		name  string
		args  []string
		env   string
		want  int
		error string
	}{
		{"flag", []string{"--token", "tok-123"}, "", exitOK, ""},
		{"env", nil, "tok-123", exitOK, ""},
		{"none", nil, "", exitRuntime, "authentication failed"},
		{"wrong", []string{"--token", "tok-124"}, "", exitRuntime, "authentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A process of its own: two urfave/cli apps in one process race.
			cmd := netduelCmd(append([]string{"run", "--server", addr, "--duration", "100ms", "--test", "latency", "--proto", "udp", "-q"}, tc.args...)...)
			cmd.Env = append(cmd.Env, tokenEnv+"="+tc.env)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			code := 0
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				code = ee.ExitCode()
			}
			errs := errb.String()
			if code != tc.want || !strings.Contains(errs, tc.error) {
				t.Errorf("exit %d, stderr %q: want exit %d naming %q", code, errs, tc.want, tc.error)
			}
		})
	}
}
