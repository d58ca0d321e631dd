package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
)

// TestFormats: the formats, in the order -o's help and docs/output.md list them.
func TestFormats(t *testing.T) {
	t.Parallel()
	if want := []string{"table", "json", "ndjson", "csv", "markdown"}; !slices.Equal(Formats, want) {
		t.Errorf("Formats = %q, want %q", Formats, want)
	}
}

// TestEveryDocumentEveryFormat: every document renders in every format
// through the one table, writes something, and an empty format is the table.
func TestEveryDocumentEveryFormat(t *testing.T) {
	t.Parallel()
	docs := map[string]func() Document{
		"run":       func() Document { return RunDoc{Report: fixture()} },
		"check":     func() Document { return portFixture() },
		"free":      func() Document { return freeFixture() },
		"conflicts": func() Document { return conflictsFixture() },
	}
	for name, doc := range docs {
		for _, format := range append([]string{""}, Formats...) {
			var out bytes.Buffer
			rep, err := NewReporter(doc(), Options{Format: format})
			if err != nil {
				t.Fatalf("%s %q: %v", name, format, err)
			}
			if err := rep(&out); err != nil || out.Len() == 0 {
				t.Errorf("%s %q: %d bytes, error %v", name, format, out.Len(), err)
			}
			if format != "" {
				continue
			}
			var table bytes.Buffer
			if err := Render(&table, doc(), Options{Format: "table"}); err != nil || !bytes.Equal(table.Bytes(), out.Bytes()) {
				t.Errorf("%s: the empty format is not the table (error %v)", name, err)
			}
		}
	}
}

// TestUnknownFormat: a format no reporter has is an error naming it, not a
// table by default.
func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := Render(&out, RunDoc{Report: fixture()}, Options{Format: "yaml"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"yaml"`)) || out.Len() > 0 {
		t.Errorf("err = %v, %d bytes written; want an error naming \"yaml\" and nothing written", err, out.Len())
	}
}

// TestInterruptedRunLine: an interrupted run's last line reads "Run
// interrupted after 2 finished tests", not "Run interrupted: interrupted
// ...", in a table and in Markdown; another failure keeps "Run failed: ...".
func TestInterruptedRunLine(t *testing.T) {
	for _, tc := range []struct {
		rep        duel.Report
		format     string
		want, nope string
	}{
		{duel.Report{Interrupted: true, Error: "interrupted after 2 finished tests"}, "table", "Run interrupted after 2 finished tests", "interrupted: interrupted"},
		{duel.Report{Interrupted: true, Error: "interrupted after 2 finished tests"}, "markdown", "**Run interrupted** after 2 finished tests", "interrupted:** interrupted"},
		{duel.Report{Error: "server 127.0.0.1:9 unreachable"}, "table", "Run failed: server 127.0.0.1:9 unreachable", "Run interrupted"},
	} {
		var out bytes.Buffer
		if err := runErrorLine(&out, &tc.rep, Style{Markdown: tc.format == "markdown"}); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); !strings.Contains(got, tc.want) || strings.Contains(got, tc.nope) {
			t.Errorf("%s: %q, want %q", tc.format, got, tc.want)
		}
	}
}
