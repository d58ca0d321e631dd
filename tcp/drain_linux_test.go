package tcp

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// TestWaitSent: WaitSent says whether everything written has left: not while
// the peer, not reading, holds the sender's bytes back; yes once it has read
// them.
func TestWaitSent(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no IPv4 loopback:", err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	defer peer.Close()
	// More than the peer's receive buffer and our send buffer can hold in flight.
	conn.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 64<<10)
	for {
		if _, err := conn.Write(buf); err != nil {
			break // the write deadline: the buffers are full
		}
	}
	if WaitSent(context.Background(), conn, 20*time.Millisecond) {
		t.Fatal("WaitSent said all was sent while the peer was not reading")
	}
	go io.Copy(io.Discard, peer)
	if !WaitSent(context.Background(), conn, 10*time.Second) {
		t.Fatal("WaitSent did not see the send queue empty once the peer read it")
	}
}
