package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// TestRedirectingServerExits3: a server whose welcome names a third local
// port is refused: exit 3 with a line saying why, and that port gets 0 bytes
// (it got 398 MB in 2 s, and the client exited 0).
func TestRedirectingServerExits3(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(string(proto), func(t *testing.T) {
			victim, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer victim.Close()
			vport := victim.Addr().(*net.TCPAddr).Port
			vudp, err := net.ListenPacket("udp", victim.Addr().String())
			if err != nil {
				t.Skipf("UDP port %d taken: %v", vport, err)
			}
			defer vudp.Close()
			var got atomic.Int64
			go func() {
				for {
					c, err := victim.Accept()
					if err != nil {
						return
					}
					n, _ := io.Copy(io.Discard, c)
					got.Add(n + 1)
					c.Close()
				}
			}()
			go func() {
				buf := make([]byte, 65536)
				for {
					n, _, err := vudp.ReadFrom(buf)
					if err != nil {
						return
					}
					got.Add(int64(n))
				}
			}()
			// The hostile server answers every hello with a welcome naming the victim.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
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
					go func() {
						defer c.Close()
						c.SetDeadline(time.Now().Add(10 * time.Second))
						if _, _, err := frame.NewReader(c, 1<<16).Next(); err != nil {
							return
						}
						body := fmt.Sprintf(`{"type":"welcome","cookie":7,"port":%d,"max_frame":4194304,"setup":{}}`, vport)
						buf := make([]byte, frame.HeaderLen+len(body))
						if _, err := frame.Encode(buf, frame.Header{Type: frame.TypeControl, Cookie: 7}, []byte(body)); err == nil {
							c.Write(buf)
						}
						io.Copy(io.Discard, c)
					}()
				}
			}()
			code, out, errs := runCLI(t, "run", "--server", ln.Addr().String(), "--proto", proto, "--test", "throughput", "--duration", "300ms", "-o", "json")
			if code != exitRuntime || !strings.Contains(errs, strconv.Itoa(vport)) || !strings.Contains(errs, "control connection's port") {
				t.Errorf("exit %d, stderr %q: want 3 and a line naming the port it was aimed at", code, errs)
			}
			if !strings.Contains(out, `"error"`) {
				t.Errorf("stdout %q: want the document with the error", out)
			}
			time.Sleep(50 * time.Millisecond)
			if n := got.Load(); n != 0 {
				t.Errorf("the third port got %d bytes (or connections), want 0", n)
			}
		})
	}
}
