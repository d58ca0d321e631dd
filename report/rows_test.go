package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
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

// TestOfferedRateAgainstRequested: the offered rate says how far it is from
// the rate asked for when it is under 95% of it or over 105% (a 1 kbit/s
// request whose first 1400-byte frame alone is 11.2 kbit was shown bare).
func TestOfferedRateAgainstRequested(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		req, offered float64
		want         string
	}{
		{1e3, 11.2e3, "(1120% of requested)"},
		{100e6, 90e6, "(90% of requested)"},
		{100e6, 100.4e6, ""},
	} {
		r := &duel.Result{Proto: duel.ProtoUDP, Test: duel.TestThroughput, RequestedBps: &c.req, OfferedBps: &c.offered}
		var got string
		for _, rw := range throughputRows([]*duel.Result{r}) {
			if rw.label == "offered rate" {
				got = rw.cells[0].text
			}
		}
		if c.want == "" && strings.Contains(got, "of requested") || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("requested %g, offered %g: %q, want %q", c.req, c.offered, got, c.want)
		}
	}
}
