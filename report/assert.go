package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/netduel/netduel/duel"
)

// Assertion is a pass/fail rule on a result field:
// PROTO.TEST.FIELD OP NUMBER[UNIT], e.g. "udp.throughput.lost_pct < 1".
type Assertion struct {
	Expr  string     // as written
	Proto duel.Proto // "tcp" or "udp"
	Test  duel.Test  // "throughput" or "latency"
	Field string     // JSON path inside the result, e.g. "rtt_us.p99"
	Op    string     // < <= > >= == !=
	Value float64    // in the field's own unit
	// Cell, if set, limits the assertion to the cells (links) whose label
	// contains it, case-insensitively ("… @ lossy"); otherwise it applies to
	// every cell.
	Cell   string
	field  field
	suffix string
}

var ops = []string{"<=", ">=", "==", "!=", "<", ">"}

// ParseAssertion parses an assertion. Errors say what is wrong and what is valid:
// an unknown field lists the valid fields for that protocol and test.
func ParseAssertion(expr string) (Assertion, error) {
	a := Assertion{Expr: expr}
	s := strings.TrimSpace(expr)
	if rule, cell, ok := strings.Cut(s, "@"); ok {
		s, a.Cell = strings.TrimSpace(rule), strings.TrimSpace(cell)
		if a.Cell == "" {
			return a, fmt.Errorf("--assert %q: nothing after @: name a cell (link), e.g. '... @ loss 1%%, delay 20ms', or drop the @", expr)
		}
	}
	opAt, op := -1, ""
	for i := 0; i < len(s) && opAt < 0; i++ {
		for _, o := range ops {
			if strings.HasPrefix(s[i:], o) {
				opAt, op = i, o
				break
			}
		}
	}
	if opAt < 0 {
		return a, fmt.Errorf("--assert %q: no operator; want PROTO.TEST.FIELD OP NUMBER, with OP one of < <= > >= == !=, e.g. 'udp.throughput.lost_pct < 1'", expr)
	}
	for _, bad := range []struct{ got, want string }{{"=<", "<="}, {"=>", ">="}, {"=!", "!="}} {
		if strings.Contains(s, bad.got) {
			return a, fmt.Errorf("--assert %q: %q is not an operator: write %q (OP is one of < <= > >= == !=)", expr, bad.got, bad.want)
		}
	}
	a.Op = op
	lhs, rhs := strings.TrimSpace(s[:opAt]), strings.TrimSpace(s[opAt+len(op):])
	parts := strings.SplitN(lhs, ".", 3)
	if len(parts) != 3 {
		return a, fmt.Errorf("--assert %q: %q should be PROTO.TEST.FIELD, e.g. tcp.latency.rtt_us.p99", expr, lhs)
	}
	var err error
	a.Field = parts[2]
	if a.Proto, err = duel.ParseProto(parts[0]); err != nil {
		return a, fmt.Errorf("--assert %q: %w", expr, err)
	}
	if a.Test, err = duel.ParseTest(parts[1]); err != nil {
		return a, fmt.Errorf("--assert %q: %w", expr, err)
	}
	kind, ok := duel.LookupKind(a.Proto, a.Test)
	if !ok {
		return a, fmt.Errorf("--assert %q: netduel has no %s %s test", expr, a.Proto, a.Test)
	}
	f, ok := lookupField(a.Field)
	if !ok || !f.valid(kind) {
		return a, fmt.Errorf("--assert %q: unknown field %q for %s; valid fields: %s",
			expr, a.Field, kind, strings.Join(FieldNames(kind), ", "))
	}
	a.field = f
	v, suffix, err := parseValue(rhs, f.unit)
	if err != nil {
		return a, fmt.Errorf("--assert %q: %w", expr, err)
	}
	a.Value, a.suffix = v, suffix
	return a, nil
}

// parseValue reads NUMBER[UNIT] and converts it to the field's unit.
func parseValue(s string, u unit) (float64, string, error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' || s[i] == '+' || s[i] == 'e' && i > 0 && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '-')) {
		i++
	}
	num, suffix := s[:i], strings.TrimSpace(s[i:])
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("%q is not a number", s)
	}
	scale, err := unitScale(suffix, u)
	if err != nil {
		return 0, "", err
	}
	return v * scale, suffix, nil
}

// unitScale returns the factor from the written unit to the field's unit.
func unitScale(suffix string, u unit) (float64, error) {
	if suffix == "" {
		return 1, nil
	}
	// Times, as powers of ten of a second.
	times := map[string]int{"ns": -9, "us": -6, "µs": -6, "ms": -3, "s": 0}
	base := map[unit]int{unitUS: -6, unitMS: -3, unitS: 0}
	rates := map[string]float64{"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "bps": 1, "kbps": 1e3, "Mbps": 1e6, "Gbps": 1e9}
	switch {
	case u == unitPct && suffix == "%":
		return 1, nil
	case isTime(u) && hasKey(times, suffix):
		return math.Pow10(times[suffix] - base[u]), nil
	case u == unitBps && rates[suffix] != 0:
		return rates[suffix], nil
	}
	want := map[unit]string{
		unitCount: "no unit (a plain count)", unitPct: "% or no unit",
		unitUS: "us, ms or s", unitMS: "us, ms or s", unitS: "us, ms or s",
		unitBps: "k, M or G (bits/s)",
	}[u]
	return 0, fmt.Errorf("unit %q does not fit this field: use %s", suffix, want)
}

func isTime(u unit) bool { return u == unitUS || u == unitMS || u == unitS }

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// Check is one assertion's outcome against one result.
type Check struct {
	Assertion string  `json:"assertion"`
	Result    string  `json:"result"` // "tcp latency", plus the cell in a sweep
	Actual    float64 `json:"actual"`
	Present   bool    `json:"present"` // the result had the field
	Pass      bool    `json:"pass"`
	// Error is the result's error: its test failed (or never ran), which
	// fails the assertion whatever the value.
	Error string `json:"error,omitempty"`
	field string // the assertion's field, for the table's units
}

// MarshalJSON leaves actual out of a check whose result lacks the field
// (Present false): a value nobody measured is absent, never a zero.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	if c.Present {
		return json.Marshal(plain(c))
	}
	return json.Marshal(struct {
		plain
		Actual *float64 `json:"actual,omitempty"`
	}{plain: plain(c)})
}

// Evaluate checks the assertions against every result of their protocol and
// test. An assertion that matches no result fails (a CI rule must not pass
// silently because its test did not run).
func Evaluate(as []Assertion, results []duel.Result) []Check {
	var out []Check
	for _, a := range as {
		kind, _ := duel.LookupKind(a.Proto, a.Test)
		matched := false
		for i := range results {
			r := &results[i]
			if kind == nil || r.Kind() != kind {
				continue
			}
			if a.Cell != "" && !strings.Contains(strings.ToLower(r.Cell), strings.ToLower(a.Cell)) {
				continue
			}
			matched = true
			v, ok := a.field.get(r)
			name := duel.KindName(r.Proto, r.Test)
			if r.Cell != "" {
				name += " · " + r.Cell
			}
			if !ok {
				v = 0
			}
			c := Check{Assertion: a.Expr, Result: name, Actual: v, Present: ok, Error: r.Error, field: a.Field}
			c.Pass = ok && r.Error == "" && compare(v, a.Op, a.Value)
			out = append(out, c)
		}
		if !matched {
			name := duel.KindName(a.Proto, a.Test)
			if a.Cell != "" {
				name += " @ " + a.Cell
			}
			out = append(out, Check{Assertion: a.Expr, Result: name + " (not run)"})
		}
	}
	return out
}

func compare(v float64, op string, want float64) bool {
	switch op {
	case "<":
		return v < want
	case "<=":
		return v <= want
	case ">":
		return v > want
	case ">=":
		return v >= want
	case "==":
		return v == want
	case "!=":
		return v != want
	}
	return false
}

// Failed counts the failed checks.
func Failed(cs []Check) int {
	n := 0
	for _, c := range cs {
		if !c.Pass {
			n++
		}
	}
	return n
}

// assertTable writes the assertions with their actual values and pass/fail.
func assertTable(w io.Writer, cs []Check, st Style) error {
	if len(cs) == 0 {
		return nil
	}
	blankLine(w)
	st.section(w, "Assertions")
	t := st.newTable(w, "assertion", "result", "actual", "verdict")
	for _, c := range cs {
		actual := "no value"
		if c.Present {
			actual = metricText(c.field, c.Actual) // in the field's unit: 16.4 Gbit/s
		}
		verdict := st.better("pass")
		switch {
		case !c.Pass && c.Error != "":
			verdict = st.paint(colorRed, "FAIL: the test failed: "+c.Error)
		case !c.Pass:
			verdict = st.paint(colorRed, "FAIL")
		}
		if err := t.Append(c.Assertion, c.Result, actual, verdict); err != nil {
			return err
		}
	}
	return t.Render()
}
