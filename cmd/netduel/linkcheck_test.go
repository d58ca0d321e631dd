package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestLinkCheckMatchesSchema runs across an emulated netstack link: the
// result carries the link's self-check, in the schema, and the table shows
// it under the link line.
func TestLinkCheckMatchesSchema(t *testing.T) {
	s := compileSchema(t, "netduel.run.v1.schema.json")
	for _, format := range []string{"json", "table"} {
		var out, errb bytes.Buffer
		args := []string{"netduel", "run", "--emulator", "netstack", "--loss", "1%", "--duplicate", "1%",
			"--test", "latency", "--duration", "300ms", "-o", format}
		if code := run(args, &out, &errb); code != 0 && code != 1 {
			t.Fatalf("%s: exit %d: %s", format, code, errb.String())
		}
		switch format {
		case "json":
			if !strings.Contains(out.String(), `"check"`) || !strings.Contains(out.String(), `"loss_pct"`) {
				t.Fatalf("no link.check:\n%s", out.String())
			}
			if err := validate(t, s, out.String()); err != nil {
				t.Fatalf("output does not match the schema: %v\n%s", err, out.String())
			}
		default:
			if !strings.Contains(out.String(), "self-check UDP latency →: loss ") {
				t.Fatalf("no self-check line:\n%s", out.String())
			}
		}
	}
}
