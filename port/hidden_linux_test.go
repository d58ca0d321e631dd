package port

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
)

// reservedEnv makes the test binary the child of TestReservedPortWarning.
const reservedEnv = "NETDUEL_PORT_TEST_RESERVED"

func init() { testChildren[reservedEnv] = reservedChild }

// TestReservedPortWarning reserves a port inside the ephemeral range in
// net.ipv4.ip_local_reserved_ports and checks it: the check says reserved, and
// not ephemeral (outgoing connections never get a reserved port). The sysctl
// is per network namespace, so the child that writes it runs in a namespace
// of its own, and still puts the old value back.
func TestReservedPortWarning(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writes net.ipv4.ip_local_reserved_ports (in a network namespace of its own)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), reservedEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	var got struct {
		Port           int
		Codes          []string
		Before, Inside string
		After          string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !slices.Contains(got.Codes, WarnReserved) || slices.Contains(got.Codes, WarnEphemeral) {
		t.Errorf("port %d reserved (%q): warnings %v, want reserved and not ephemeral", got.Port, got.Inside, got.Codes)
	}
	if got.After != got.Before {
		t.Errorf("sysctl not restored: %q, was %q", got.After, got.Before)
	}
}

// reservedChild is the child's side: in its own network namespace, reserve
// a free port of the ephemeral range, check it, restore the sysctl, and print
// what happened as JSON.
func reservedChild() {
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	before, err := os.ReadFile(reservedFile)
	if err != nil {
		fail(err)
	}
	lo, hi, _ := EphemeralRange()
	any4 := []netip.Addr{netip.IPv4Unspecified()}
	res, err := Free(context.Background(), FreeOptions{Lo: lo, Hi: hi, Addrs: any4})
	if err != nil || len(res.Ports) == 0 {
		fail(fmt.Errorf("no free port in %d-%d: %v", lo, hi, err))
	}
	p := res.Ports[0]
	if err := os.WriteFile(reservedFile, []byte(strconv.Itoa(p)), 0o644); err != nil {
		fail(err)
	}
	inside, _ := os.ReadFile(reservedFile)
	rs, cerr := Check(context.Background(), []int{p}, CheckOptions{Addrs: any4})
	if err := os.WriteFile(reservedFile, before, 0o644); err != nil {
		fail(err)
	}
	after, _ := os.ReadFile(reservedFile)
	if cerr != nil {
		fail(cerr)
	}
	var codes []string
	for _, w := range rs[0].Warnings {
		codes = append(codes, w.Code)
	}
	b, _ := json.Marshal(map[string]any{"Port": p, "Codes": codes, "Before": string(before), "Inside": string(inside), "After": string(after)})
	fmt.Println(string(b))
}
