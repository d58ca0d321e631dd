package duel

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNoLinkNoCounters: a result measured without an emulated link
// (emulator none) has no seed and no per-direction counters in its JSON,
// which wrote zeros (as if a forwarder had passed and dropped nothing); an
// emulated link keeps them, and both read back.
func TestNoLinkNoCounters(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		emulator string
		has      bool
	}{{"none", false}, {"tun", true}, {"netstack", true}} {
		l := LinkInfo{Emulator: c.emulator, TCPStack: "linux", Congestion: "cubic", Seed: 7}
		l.Up.Forwarded = 3
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{`"seed"`, `"client_to_server"`, `"server_to_client"`} {
			if strings.Contains(string(b), k) != c.has {
				t.Errorf("emulator %s: %s present %v, want %v: %s", c.emulator, k, !c.has, c.has, b)
			}
		}
		var back LinkInfo
		if err := json.Unmarshal(b, &back); err != nil || back.Emulator != c.emulator || c.has && (back.Seed != 7 || back.Up.Forwarded != 3) {
			t.Errorf("emulator %s: read back %+v, %v", c.emulator, back, err)
		}
	}
}
