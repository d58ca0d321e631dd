package report

import (
	"slices"
	"testing"
)

// TestRowRender: of comparable values the best is marked better (bold in
// Markdown), however many protocols there are; equal or incomparable values
// are left as they are.
func TestRowRender(t *testing.T) {
	t.Parallel()
	md := Style{Markdown: true}
	for _, c := range []struct {
		name string
		r    row
		want []any
	}{
		{"two, higher", row{label: "x", dir: higher, cells: []cell{num("1", 1), num("2", 2)}}, []any{"x", "1", "**2**"}},
		{"two, lower", row{label: "x", dir: lower, cells: []cell{num("1", 1), num("2", 2)}}, []any{"x", "**1**", "2"}},
		{"three, lower", row{label: "x", dir: lower, cells: []cell{num("3", 3), num("1", 1), num("2", 2)}}, []any{"x", "3", "**1**", "2"}},
		{"equal", row{label: "x", dir: higher, cells: []cell{num("2", 2), num("2", 2)}}, []any{"x", "2", "2"}},
		{"one text", row{label: "x", dir: higher, cells: []cell{num("2", 2), txt("—")}}, []any{"x", "2", "—"}},
		{"no compare", row{label: "x", dir: noCompare, cells: []cell{num("1", 1), num("2", 2)}}, []any{"x", "1", "2"}},
	} {
		if got := c.r.render(md); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
