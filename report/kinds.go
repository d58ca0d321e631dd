package report

import (
	"strings"

	"github.com/netduel/netduel/duel"
)

// What the report asks of the registry of test kinds (duel.Kinds): what a
// result measures, and the protocols that are the comparison tables' columns.

// kindOf returns r's test kind; nil for a nil result or one of a protocol and
// test no kind has (a document from elsewhere).
func kindOf(r *duel.Result) *duel.Kind {
	if r == nil {
		return nil
	}
	return r.Kind()
}

// has reports whether r's kind measures f; false for a result of no kind.
func has(r *duel.Result, f duel.Figure) bool {
	k := kindOf(r)
	return k != nil && k.Has(f)
}

// columns are the comparison tables' columns: the registry's protocols, in order.
var columns = duel.Protos()

// shown says which of columns rep has a result for: a run of one protocol
// gets no column of dashes for the other. With no result at all, every one.
func shown(rep *duel.Report) []bool {
	out := make([]bool, len(columns))
	found := false
	for j, p := range columns {
		for i := range rep.Results {
			if rep.Results[i].Proto == p {
				out[j], found = true, true
				break
			}
		}
	}
	if !found {
		return allShown()
	}
	return out
}

// allShown shows every column.
func allShown() []bool {
	out := make([]bool, len(columns))
	for j := range out {
		out[j] = true
	}
	return out
}

// keepShown returns the items of a row, one per column, whose column is shown.
func keepShown[T any](items []T, show []bool) []T {
	var out []T
	for j, v := range items {
		if j < len(show) && show[j] {
			out = append(out, v)
		}
	}
	return out
}

// protoName is a protocol as headings show it: "TCP".
func protoName(p duel.Proto) string { return strings.ToUpper(string(p)) }

// lastResult returns the last of rep's results that match, or nil.
func lastResult(rep *duel.Report, match func(r *duel.Result) bool) *duel.Result {
	var found *duel.Result
	for i := range rep.Results {
		if r := &rep.Results[i]; match(r) {
			found = r
		}
	}
	return found
}

// perColumn returns, for each protocol, the last result of rep in cell whose
// kind is that protocol's kind of test; found is false when there is none.
func perColumn(rep *duel.Report, cell string, test duel.Test) (pair []*duel.Result, found bool) {
	pair = make([]*duel.Result, len(columns))
	for j, p := range columns {
		k, ok := duel.LookupKind(p, test)
		if !ok {
			continue
		}
		pair[j] = lastResult(rep, func(r *duel.Result) bool { return r.Cell == cell && r.Kind() == k })
		found = found || pair[j] != nil
	}
	return pair, found
}
