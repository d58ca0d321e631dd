package stack

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: skipped (CI runs as root)")
	}
}

func TestNamespaceIsolatesSockets(t *testing.T) {
	needRoot(t)
	ns, err := NewNamespace("test")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	in := &OS{NS: ns, Congestion: "cubic"}
	ln, err := in.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	// Inside the namespace, its loopback answers.
	c, err := in.Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial inside the namespace: %v", err)
	}
	buf := make([]byte, 2)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Close()
	// From the host's namespace the same address is another loopback: refused.
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the host reached a listener inside the namespace")
	}
	// The thread check refuses a namespace that is not the thread's.
	other, err := NewNamespace("other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Do(func() error { return ns.check() }); err == nil {
		t.Fatal("check passed in the wrong namespace")
	}
}
