package report

import (
	"encoding/json"
	"io"
)

// writeIndentedJSON writes v as indented JSON with a trailing newline. Floats that are
// NaN or Inf (which encoding/json refuses) must never reach it: results are
// sanitised at their source; this is the last check.
func writeIndentedJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}
