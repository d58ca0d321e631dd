package port

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary a helper process that holds a port (see
// startHolder) instead of running the tests.
const helperEnv = "NETDUEL_PORT_TEST_HOLDER"

// testChildren are other helper processes, by the variable that starts one.
var testChildren = map[string]func(){}

func TestMain(m *testing.M) {
	BecomeActivated()
	if network := os.Getenv(helperEnv); network != "" {
		holdPort(network)
		return
	}
	for env, child := range testChildren {
		if os.Getenv(env) != "" {
			child()
			return
		}
	}
	goleak.VerifyTestMain(m)
}

// holdPort listens (tcp4) or binds (udp4) on 127.0.0.1, port 0, prints the
// port, and holds it until stdin closes.
func holdPort(network string) {
	var addr net.Addr
	switch network {
	case "tcp4":
		l, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		defer l.Close()
		addr = l.Addr()
	default:
		c, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		defer c.Close()
		addr = c.LocalAddr()
	}
	_, p, _ := net.SplitHostPort(addr.String())
	fmt.Println(p)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
}

// holder is a child process holding a port.
type holder struct {
	cmd  *exec.Cmd
	port int
	done func()
}

// startHolder runs this test binary as a helper holding a port on 127.0.0.1.
func startHolder(t testing.TB, network string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+network)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := func() {
		stdin.Close()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		done()
		t.Fatalf("helper: %v", err)
	}
	var p int
	if _, err := fmt.Sscan(strings.TrimSpace(line), &p); err != nil {
		done()
		t.Fatalf("helper said %q", line)
	}
	t.Cleanup(done)
	return &holder{cmd: cmd, port: p, done: done}
}

// needIPv6 skips the test when this host has no IPv6 loopback.
func needIPv6(t testing.TB) {
	t.Helper()
	if ipv6Disabled() {
		t.Skip("IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6)")
	}
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	l.Close()
}

// comm is the name the OS gives process pid (Linux: /proc/PID/comm).
func comm(t testing.TB, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// waitGone waits until nothing holds port p for TCP on 127.0.0.1.
func waitGone(p int) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return
		}
	}
}

// fakeTable is a socket table whose owners cannot be seen, as for another
// user's process without root.
type fakeTable struct {
	socks []Socket
	err   error
}

func (f fakeTable) Sockets(want func(Proto, int) bool) ([]Socket, error) {
	var out []Socket
	for _, s := range f.socks {
		if want(s.Proto, int(s.Local.Port())) {
			out = append(out, s)
		}
	}
	return out, f.err
}
func (fakeTable) ResolveOwners([]*Socket) error { return nil }
