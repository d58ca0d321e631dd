//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package port

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// activatedEnv makes the test binary the server of TestActivation.
const activatedEnv = "NETDUEL_PORT_TEST_ACTIVATED"

func init() { testChildren[activatedEnv] = activatedServer }

// activatedServer is a socket-activated server: it takes its listener from
// descriptor 3, after checking LISTEN_PID and LISTEN_FDS as sd_listen_fds(3)
// does, accepts one connection, writes what it saw on it, reads a datagram
// from descriptor 4 if there is one, and exits 7.
func activatedServer() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "activated server:", err)
		os.Exit(1)
	}
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fail(err)
	}
	c, err := l.Accept()
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(c, "pid=%d LISTEN_PID=%s LISTEN_FDS=%s LISTEN_FDNAMES=%s NETDUEL_PORT=%s\n",
		os.Getpid(), os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES"), os.Getenv("NETDUEL_PORT"))
	c.Close()
	os.Exit(7)
}

// TestActivation: the child started under socket activation accepts a
// connection on the inherited socket, LISTEN_PID is its own pid, the names
// and the port are right, and its exit status comes back.
func TestActivation(t *testing.T) {
	hs, err := Hold([]int{0}, HoldOptions{Protos: []Proto{TCP, UDP}, Addr: loop4})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Addr.Port() == 0 {
		t.Fatalf("held %+v", hs)
	}
	p := hs[0].Addr.Port()
	if hs[1].Addr.Port() != p {
		t.Fatalf("port 0: tcp got %d, udp %d: want one port for both", p, hs[1].Addr.Port())
	}
	cmd, err := ActivationCommand(hs, os.Args[0], []string{"server", "-test.run=^$"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, activatedEnv+"=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	CloseHeld(hs)
	c, err := net.Dial("tcp4", netip.AddrPortFrom(loop4, p).String())
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	werr := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("pid=%d LISTEN_PID=%d LISTEN_FDS=2 LISTEN_FDNAMES=tcp-%d:udp-%d NETDUEL_PORT=%d", cmd.Process.Pid, cmd.Process.Pid, p, p, p)
	if strings.TrimSpace(line) != want {
		t.Errorf("the server said %q\nwant          %q", strings.TrimSpace(line), want)
	}
	if cmd.ProcessState.ExitCode() != 7 {
		t.Errorf("exit %v, want 7", werr)
	}
}

// TestHoldHoldsThePort: while held, a Go server's bind fails; a port already
// taken fails Hold with the error's name, and leaves nothing open.
func TestHoldHoldsThePort(t *testing.T) {
	t.Parallel()
	for _, proto := range Protos {
		hs, err := Hold([]int{0}, HoldOptions{Protos: []Proto{proto}, Addr: loop4})
		if err != nil {
			t.Fatal(err)
		}
		p := int(hs[0].Addr.Port())
		if err := tryBind(serverSpec(proto, hs[0].Addr)); err == nil {
			t.Errorf("%s: bound port %d while it was held", proto, p)
		}
		_, err = Hold([]int{p}, HoldOptions{Protos: []Proto{proto}, Addr: loop4})
		if err == nil || !strings.Contains(err.Error(), "EADDRINUSE") {
			t.Errorf("%s: second hold: %v", proto, err)
		}
		CloseHeld(hs)
		if err := tryBind(serverSpec(proto, hs[0].Addr)); err != nil {
			t.Errorf("%s: port %d still taken after release: %v", proto, p, err)
		}
	}
}
