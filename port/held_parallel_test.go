package port

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestHeldPortExperimentsInParallel: two runs at once (two embedded servers'
// runs in one process) each bind their own port; the experiments' sockets
// were once set on shared values, so one run could bind the other's port.
func TestHeldPortExperimentsInParallel(t *testing.T) {
	t.Parallel()
	res, err := Free(context.Background(), FreeOptions{Count: 2})
	if err != nil || len(res.Ports) < 2 {
		t.Fatalf("no two free ports: %v", err)
	}
	var wg sync.WaitGroup
	got := make([][]Experiment, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got[i] = HeldPortExperiments(uint16(res.Ports[i]))
			}
		}()
	}
	wg.Wait()
	for i, exps := range got {
		for _, e := range exps {
			for _, s := range e.Steps {
				if !strings.Contains(s.Socket, ":"+strconv.Itoa(res.Ports[i])) {
					t.Errorf("%s on port %d made socket %s", e.Name, res.Ports[i], s.Socket)
				}
			}
		}
	}
}
