package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema loads a schema from docs/schema.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "docs", "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return s.Validate(v)
}

func TestRunOutputMatchesSchema(t *testing.T) {
	s := compileSchema(t, "netduel.run.v1.schema.json")
	var first, out, errb bytes.Buffer
	if code := run([]string{"netduel", "run", "--duration", "200ms", "-o", "json"}, &first, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if err := validate(t, s, first.String()); err != nil {
		t.Fatalf("plain output does not match the schema: %v\n%s", err, first.String())
	}
	// With every extra: intervals, assertions and a baseline.
	base := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(base, first.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"netduel", "run", "--duration", "200ms", "-o", "json", "--interval", "100ms",
		"--assert", "tcp.latency.lost_frames == 0", "--baseline", base, "--tolerance", "1000"}
	// Exit 1 is a possible verdict (loopback figures vary): the JSON is what counts.
	if code := run(args, &out, &errb); code != 0 && code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, key := range []string{`"intervals"`, `"assertions"`, `"baseline"`, `"rtt_histogram"`} {
		if !strings.Contains(out.String(), key) {
			t.Fatalf("output lacks %s", key)
		}
	}
	if err := validate(t, s, out.String()); err != nil {
		t.Fatalf("real output does not match the schema: %v\n%s", err, out.String())
	}
	// The schema must reject malformed documents, or it proves nothing.
	bad := map[string]func(string) string{
		"negative count":   func(d string) string { return strings.Replace(d, `"lost_frames": 0`, `"lost_frames": -1`, 1) },
		"number as string": func(d string) string { return strings.Replace(d, `"size": 64`, `"size": "64"`, 1) },
		"wrong schema":     func(d string) string { return strings.Replace(d, "netduel.run/v1", "netduel.run/v2", 1) },
		"unknown proto":    func(d string) string { return strings.Replace(d, `"proto": "udp"`, `"proto": "sctp"`, 1) },
		"histogram not base64": func(d string) string {
			return strings.Replace(d, `"rtt_histogram": "`, `"rtt_histogram": "not base64: `, 1)
		},
		// A result without error has every figure; one that never ran none.
		"counted result lacks goodput": func(d string) string {
			return regexp.MustCompile(`"goodput_bps": [0-9.e+]+,`).ReplaceAllString(d, "")
		},
		"never-run result has a figure": func(d string) string {
			// An error, no sent_frames (never ran), and still a duration.
			re := regexp.MustCompile(`"sent_frames": [0-9]+,`)
			loc := re.FindStringIndex(d)
			return d[:loc[0]] + `"error": "x",` + d[loc[1]:]
		},
		"extra field": func(d string) string {
			return strings.Replace(d, `"embedded": true`, `"embedded": true, "surprise": 1`, 1)
		},
	}
	rejectsMutations(t, s, out.String(), bad)
}

// rejectsMutations checks that the schema rejects each mutation of a valid
// document (or it proves nothing).
func rejectsMutations(t *testing.T, s *jsonschema.Schema, valid string, bad map[string]func(string) string) {
	t.Helper()
	for name, mutate := range bad {
		doc := mutate(valid)
		if doc == valid {
			t.Fatalf("%s: mutation did not apply", name)
		}
		if err := validate(t, s, doc); err == nil {
			t.Errorf("%s: the schema accepted a malformed document", name)
		}
	}
}

func TestSchemaFilesAreValidJSON(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "..", "docs", "schema"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		compileSchema(t, e.Name())
	}
}
