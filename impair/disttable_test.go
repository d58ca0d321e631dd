package impair

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tcDistDirs are where Debian's and other distributions' iproute2 installs
// tc's distribution tables.
var tcDistDirs = []string{"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc", "/usr/share/tc"}

// readTCDist reads one of iproute2's published tables (NAME.dist: '#'
// comments, then whitespace-separated integers), or nil without iproute2.
func readTCDist(t *testing.T, name string) []int16 {
	t.Helper()
	for _, dir := range tcDistDirs {
		b, err := os.ReadFile(filepath.Join(dir, name+".dist"))
		if err != nil {
			continue
		}
		var out []int16
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, f := range strings.Fields(line) {
				v, err := strconv.ParseInt(f, 10, 16)
				if err != nil {
					t.Fatalf("%s/%s.dist: %q: %v", dir, name, f, err)
				}
				out = append(out, int16(v))
			}
		}
		return out
	}
	return nil
}

// TestDistTablesMatchIproute2 compares the generated tables entry by entry
// with the ones iproute2 ships (and tc hands to netem). Without iproute2's
// tables (not Linux, or the package absent) it skips; CI installs iproute2.
func TestDistTablesMatchIproute2(t *testing.T) {
	t.Parallel()
	for _, d := range []Distribution{DistNormal, DistPareto, DistParetoNormal} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			want := readTCDist(t, d.String())
			if want == nil {
				t.Skipf("iproute2's %s.dist is not installed (looked in %s): apt-get install iproute2", d, strings.Join(tcDistDirs, ", "))
			}
			got := distTable(d)
			if len(got) != len(want) {
				t.Fatalf("%d entries, iproute2's table has %d", len(got), len(want))
			}
			bad := 0
			for i := range want {
				if got[i] != want[i] {
					if bad < 5 {
						t.Errorf("entry %d: %d, iproute2's %d", i, got[i], want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d entries differ from iproute2's", bad, len(want))
			}
		})
	}
}
