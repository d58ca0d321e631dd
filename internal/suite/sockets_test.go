package suite

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/tcp"
)

// TestSockets: on every Network, over both transports, a server socket binds
// port 0 and gets a real port, a client reaches it, bytes go both ways intact,
// and closing ends the exchange as the transport says it should (TCP: the
// peer reads EOF, and a closed listener refuses; UDP: a closed socket's read
// fails with net.ErrClosed).
func TestSockets(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, n network, proto string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		switch proto {
		case "tcp":
			streamSockets(ctx, t, n)
		case "udp":
			datagramSockets(ctx, t, n)
		}
	})
}

// port returns addr's port, failing the test when it is 0.
func port(t *testing.T, addr net.Addr) {
	t.Helper()
	_, p, err := net.SplitHostPort(addr.String())
	if err != nil || p == "0" {
		t.Fatalf("bound %v: want a real port (%v)", addr, err)
	}
}

func streamSockets(ctx context.Context, t *testing.T, n network) {
	var tr stack.Trace
	ln, err := n.server.Listen(stack.WithTrace(ctx, &tr), "tcp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port(t, ln.Addr())
	if !tr.HasBind {
		t.Errorf("listen trace %+v: the bind is not timed", tr)
	}
	type echoed struct {
		n   int64
		err error
	}
	done := make(chan echoed, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- echoed{err: err}
			return
		}
		defer c.Close()
		n, err := io.Copy(c, c) // until the client's FIN
		done <- echoed{n, err}
	}()
	c, err := n.client.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("netduel "), 25000) // 200 kB: more than one window
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = tcp.CloseWrite(c)
		}
		werr <- err
	}()
	got, err := io.ReadAll(c) // until the server closes
	if err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo of %d bytes came back as %d bytes, or changed", len(msg), len(got))
	}
	if e := <-done; e.err != nil || e.n != int64(len(msg)) {
		t.Fatalf("server echoed %d bytes (%v) of %d, then should have read EOF", e.n, e.err, len(msg))
	}
	addr := ln.Addr().String()
	ln.Close()
	if c, err := n.client.Dial(ctx, "tcp", addr); err == nil {
		c.Close()
		t.Fatalf("a closed listener's port %s accepted a connection", addr)
	}
}

func datagramSockets(ctx context.Context, t *testing.T, n network) {
	var tr stack.Trace
	pc, err := n.server.ListenPacket(stack.WithTrace(ctx, &tr), "udp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port(t, pc.LocalAddr())
	if !tr.HasBind {
		t.Errorf("listen trace %+v: the bind is not timed", tr)
	}
	c, err := n.client.Dial(ctx, "udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	pc.SetReadDeadline(deadline)
	c.SetReadDeadline(deadline)
	buf := make([]byte, 2048)
	for _, size := range []int{1, 512, 1472} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		k, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%d-byte datagram: %v", size, err)
		}
		if !bytes.Equal(buf[:k], msg) {
			t.Fatalf("sent %d bytes, received %d, or changed", size, k)
		}
		if from.String() != c.LocalAddr().String() {
			t.Errorf("datagram from %v, the client is %v", from, c.LocalAddr())
		}
		if _, err := pc.WriteTo(buf[:k], from); err != nil {
			t.Fatal(err)
		}
		if k, err = c.Read(buf); err != nil || !bytes.Equal(buf[:k], msg) {
			t.Fatalf("reply to %d bytes: %d bytes, %v", size, k, err)
		}
	}
	pc.Close()
	if _, _, err := pc.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed socket: %v, want net.ErrClosed", err)
	}
}
