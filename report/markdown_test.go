package report

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
)

// markdownReports are the reports whose Markdown tables the tests check.
func markdownReports() map[string]*duel.Report {
	return map[string]*duel.Report{"run": fixture(), "sweep": sweepFixture(), "links": linksFixture()}
}

func renderMarkdown(t *testing.T, rep *duel.Report) string {
	t.Helper()
	var out, side bytes.Buffer
	if err := Render(&out, RunDoc{rep, Extras{}}, Options{Format: "markdown", Side: &side}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// markdownColumns counts a table row's cells as GitHub does: split at every
// pipe not escaped by a backslash.
func markdownColumns(row string) int {
	row = strings.TrimSpace(row)
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// TestMarkdownColumns: every row of every Markdown table has its header's
// number of columns (a bare | inside a cell, as in "TCP x | UDP y", would add
// one on GitHub).
func TestMarkdownColumns(t *testing.T) {
	t.Parallel()
	for name, rep := range markdownReports() {
		want, tables := -1, 0
		for i, line := range strings.Split(renderMarkdown(t, rep), "\n") {
			if !strings.HasPrefix(line, "|") {
				want = -1
				continue
			}
			if want < 0 {
				want = markdownColumns(line)
				tables++
				continue
			}
			if got := markdownColumns(line); got != want {
				t.Errorf("%s line %d: %d columns, the header has %d: %s", name, i+1, got, want, line)
			}
		}
		if tables == 0 {
			t.Errorf("%s: no table", name)
		}
	}
}

// TestMarkdownGFM renders the tables with cmark-gfm (GitHub's own Markdown
// library): every row has the header's cells. It skips where cmark-gfm is
// missing (apt-get install cmark-gfm).
func TestMarkdownGFM(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("cmark-gfm")
	if err != nil {
		t.Skip("cmark-gfm not installed (apt-get install cmark-gfm)")
	}
	rowRE := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE := regexp.MustCompile(`<t[hd][ >]`)
	for name, rep := range markdownReports() {
		cmd := exec.Command(bin, "-e", "table")
		cmd.Stdin = strings.NewReader(renderMarkdown(t, rep))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: cmark-gfm: %v", name, err)
		}
		tables := strings.Split(string(out), "<table>")[1:]
		if len(tables) == 0 {
			t.Fatalf("%s: cmark-gfm found no table", name)
		}
		for ti, table := range tables {
			want := -1
			for _, row := range rowRE.FindAllStringSubmatch(table, -1) {
				n := len(cellRE.FindAllString(row[1], -1))
				if want < 0 {
					want = n
				} else if n != want {
					t.Errorf("%s table %d: a row of %d cells under a header of %d: %s", name, ti+1, n, want, row[1])
				}
			}
		}
		if name != "sweep" {
			continue
		}
		// GitHub drops the cells past the header's count: the columns shift
		// and the counts still agree. Every grid cell must hold "TCP x | UDP y".
		for _, row := range rowRE.FindAllStringSubmatch(tables[0], -1)[1:] {
			cells := regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(row[1], -1)
			for _, c := range cells[1:] {
				if !regexp.MustCompile(`^\S.* \| \S.*$`).MatchString(c[1]) {
					t.Errorf("sweep: grid cell %q is not \"TCP x | UDP y\" (columns shifted)", c[1])
				}
			}
		}
	}
}
