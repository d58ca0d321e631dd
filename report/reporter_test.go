package report

import (
	"bytes"
	"slices"
	"testing"
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
