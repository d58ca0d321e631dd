package main

import (
	"bytes"
	"context"
	"net"
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
			t.Setenv(tokenEnv, tc.env)
			args := append([]string{"run", "--server", addr, "--duration", "100ms", "--test", "latency", "--proto", "udp", "-q"}, tc.args...)
			code, _, errs := runCLI(t, args...)
			if code != tc.want || !strings.Contains(errs, tc.error) {
				t.Errorf("exit %d, stderr %q: want exit %d naming %q", code, errs, tc.want, tc.error)
			}
		})
	}
}
