package link

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/impair"
)

// TestTunECNOverTCP: with --ecn on the tun link, kernel TCP in the
// namespaces negotiates ECN (tcp_ecn = 1), so its data segments are
// ECT(0): the loss model's decisions on them mark CE instead of dropping
// (ecn_marked), while the non-ECT packets (SYN, pure ACKs) are still
// dropped. Every byte arrives. Without ECN on the link (Linux's default
// tcp_ecn = 2 only accepts it) nothing is marked.
func TestTunECNOverTCP(t *testing.T) {
	if err := TunAvailable(); err != nil {
		t.Skipf("needs the tun backend: %v", err)
	}
	for _, ecn := range []bool{true, false} {
		cfg := impair.Config{Loss: impair.RandomLoss(0.03), Delay: time.Millisecond, ECN: ecn, Seed: 11}
		l, err := Open(Tun, cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("netduel ecn "), (2<<20)/12)
		got, werr := tcpTransfer(l, data)
		up, _ := l.Counters()
		l.Close()
		if werr != nil || !bytes.Equal(got, data) {
			t.Fatalf("ecn=%v: write %v; received %d of %d bytes", ecn, werr, len(got), len(data))
		}
		// Up carries the data: at 3%, ~1500 segments give ~45
		// decisions; ECT data segments far outnumber the rest.
		switch {
		case ecn && (up.ECNMarked < 15 || up.Dropped > up.ECNMarked/2):
			t.Errorf("ecn: %+v; want most loss decisions on the data marked, not dropped", up)
		case !ecn && (up.ECNMarked != 0 || up.Dropped < 15):
			t.Errorf("no ecn: %+v; want drops and no marks", up)
		}
		t.Logf("ecn=%v: %d packets, %d dropped, %d marked", ecn, up.Packets, up.Dropped, up.ECNMarked)
	}
}

// tcpTransfer sends data over one TCP connection from the link's client to
// its server, and returns what the server read to the end.
func tcpTransfer(l *Link, data []byte) ([]byte, error) {
	ln, err := l.Server.Listen(context.Background(), "tcp4", net.JoinHostPort(l.ServerHost, "0"))
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	sum := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sum <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		sum <- b
	}()
	c, err := l.Client.Dial(context.Background(), "tcp4", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	_, werr := c.Write(data)
	c.Close()
	return <-sum, werr
}
