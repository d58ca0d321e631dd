package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/netduel/netduel/report"
)

// defaultCells are the labels of the default two-link run's cells.
var defaultCells = []string{"clean (loopback)", "lossy (1% loss, 20ms each way)"}

// TestReadmeCIStep: .ci/readme-ci extracts the README's "Use in CI" commands
// (what .ci/run executes) with the published module replaced by this checkout,
// and every assertion in them names exactly one of the default run's cells:
// an unscoped rule applies to both links, and none holds on both.
func TestReadmeCIStep(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash and awk to run .ci/readme-ci:", err)
	}
	out, err := exec.Command("bash", "../../.ci/readme-ci", "../../README.md").Output()
	if err != nil {
		t.Fatalf(".ci/readme-ci: %v\n%s", err, out)
	}
	step := string(out)
	if !strings.Contains(step, "go run ./cmd/netduel run") || strings.Contains(step, "@latest") {
		t.Fatalf("the extracted step does not run this checkout:\n%s", step)
	}
	asserts := regexp.MustCompile(`--assert '([^']*)'`).FindAllStringSubmatch(step, -1)
	if len(asserts) < 2 {
		t.Fatalf("found %d assertions in the README's CI step:\n%s", len(asserts), step)
	}
	for _, m := range asserts {
		a, err := report.ParseAssertion(m[1])
		if err != nil {
			t.Errorf("README CI assertion %q: %v", m[1], err)
			continue
		}
		var hits []string
		for _, c := range defaultCells {
			if a.Cell != "" && strings.Contains(strings.ToLower(c), strings.ToLower(a.Cell)) {
				hits = append(hits, c)
			}
		}
		if len(hits) != 1 {
			t.Errorf("README CI assertion %q applies to cells %q: scope it to one of %q with @", m[1], hits, defaultCells)
		}
	}
}
