package port

import (
	"context"
	"net"
	"runtime"
	"slices"
	"testing"
)

func TestConflicts(t *testing.T) {
	exps, err := Conflicts(context.Background(), ConflictsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != len(experiments) {
		t.Fatalf("%d experiments, want %d", len(exps), len(experiments))
	}
	v6 := !ipv6Disabled()
	for _, e := range exps {
		t.Run(e.Name, func(t *testing.T) {
			if e.Port < 1 || e.Observed == "" || e.Explanation == "" || len(e.Steps) == 0 {
				t.Errorf("incomplete: %+v", e)
			}
			for _, os := range OSes {
				if e.Expected[os] == "" {
					t.Errorf("no expectation for %s", os)
				}
			}
			if e.Outcome == OutcomeNotAvail && !v6 {
				t.Skipf("not available here: %s", e.Observed)
			}
			if e.Outcome == OutcomeSetupFailed {
				t.Fatalf("setup failed: %+v", e.Steps)
			}
			switch runtime.GOOS {
			case "linux", "darwin":
				if e.AsExpected == nil || !*e.AsExpected {
					t.Errorf("observed %q (%s), documented %q; steps %+v", e.Observed, e.Outcome, e.Expected[runtime.GOOS], e.Steps)
				}
			}
			if tr := e.Traffic; tr != nil {
				if tr.Sent != trafficN || len(tr.Received) != 2 || tr.Received[0]+tr.Received[1] != tr.Sent {
					t.Errorf("traffic %+v: every connection or datagram should reach one socket", tr)
				}
			}
		})
	}
}

func TestHeldPortExperiments(t *testing.T) {
	res, err := Free(context.Background(), FreeOptions{})
	if err != nil || len(res.Ports) == 0 {
		t.Fatalf("no free port: %v", err)
	}
	p := res.Ports[0]
	exps := HeldPortExperiments(uint16(p))
	var names, outcomes []string
	for _, e := range exps {
		names, outcomes = append(names, e.Name), append(outcomes, e.Outcome)
		if e.Port != p {
			t.Errorf("%s ran on %d, want %d", e.Name, e.Port, p)
		}
	}
	if want := []string{"tcp_udp_same_port", "two_tcp_listeners", "udp_double_bind"}; !slices.Equal(names, want) {
		t.Fatalf("experiments %v, want %v", names, want)
	}
	if want := []string{OutcomeBothBind, OutcomeSecondFails, OutcomeSecondFails}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
	// With the port still held, the first binds say so.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := HeldPortExperiments(uint16(l.Addr().(*net.TCPAddr).Port))
	if held[0].Outcome != OutcomeSetupFailed || held[1].Outcome != OutcomeSetupFailed || held[0].AsExpected != nil {
		t.Errorf("held port: %+v", held[:2])
	}
}

func TestConflictsOnGivenPort(t *testing.T) {
	res, err := Free(context.Background(), FreeOptions{})
	if err != nil || len(res.Ports) == 0 {
		t.Fatalf("no free port: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Conflicts(ctx, ConflictsOptions{Port: res.Ports[0]}); err == nil {
		t.Error("a cancelled context should stop the experiments")
	}
}
