package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCSVColumnsDocumented: docs/output.md lists exactly the columns runCSV
// writes, in order.
func TestCSVColumnsDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/output.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "## CSV columns")
	if start < 0 {
		t.Fatal(`docs/output.md has no "## CSV columns" section`)
	}
	section := doc[start+len("## CSV columns"):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\|").FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	if got, want := strings.Join(documented, ","), strings.Join(csvHeader(), ","); got != want {
		t.Errorf("docs/output.md lists %d CSV columns:\n%s\nthe writer has %d:\n%s", len(documented), got, len(csvHeader()), want)
	}
}

// TestCSVRowsMatchHeader: every row has the header's number of fields, for
// results with and without each optional part (a link, RTT, TCP info).
func TestCSVRowsMatchHeader(t *testing.T) {
	t.Parallel()
	for name, rep := range markdownReports() {
		var out bytes.Buffer
		if err := runCSV(&out, rep); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll() // FieldsPerRecord 0: every row as long as the header
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(rows) != len(rep.Results)+1 {
			t.Errorf("%s: %d rows, want a header and %d", name, len(rows), len(rep.Results))
		}
	}
}
