package duel

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Ran reports whether the test started: false for a test the server refused
// or could not be reached for, whose figures are all unknown.
func (r *Result) Ran() bool { return r.Extent != NotRun }

// Counted reports whether the result has the receiver's count of what
// arrived: false when the test never ran, or its server's report is missing
// (interrupted, lost, refused as inconsistent).
func (r *Result) Counted() bool { return r.Extent == Measured }

// serverCounts are the JSON fields a ClientOnly result leaves out.
var serverCounts = map[string]bool{
	"received_frames": true, "lost_frames": true, "reordered_frames": true,
	"duplicate_frames": true, "corrupt_frames": true, "lost_pct": true,
	"goodput_bps": true, "jitter_ms": true, "intervals": true,
}

// notRunKeeps are the only JSON fields a NotRun result has.
var notRunKeeps = map[string]bool{
	"cell": true, "proto": true, "test": true, "size": true, "error": true,
	"link": true, "udp_checksum_off": true,
}

// resultFields is Result without its methods, for encoding/json.
type resultFields Result

// MarshalJSON writes the result's fields, leaving out those its Extent says
// were not measured: a figure nobody measured is absent, not a zero.
func (r Result) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(resultFields(r))
	if err != nil || r.Extent == Measured {
		return b, err
	}
	keep := func(k string) bool { return !serverCounts[k] }
	if r.Extent == NotRun {
		keep = func(k string) bool { return notRunKeeps[k] }
	}
	return filterObject(b, keep)
}

// UnmarshalJSON reads a result, its Extent from which fields are there:
// without sent_frames it never ran; without received_frames its server's
// count is missing.
func (r *Result) UnmarshalJSON(b []byte) error {
	var f resultFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var has struct {
		Sent     *json.RawMessage `json:"sent_frames"`
		Received *json.RawMessage `json:"received_frames"`
	}
	if err := json.Unmarshal(b, &has); err != nil {
		return err
	}
	*r = Result(f)
	switch {
	case has.Sent == nil:
		r.Extent = NotRun
	case has.Received == nil:
		r.Extent = ClientOnly
	default:
		r.Extent = Measured
	}
	return nil
}

// filterObject rewrites the JSON object b with only the members keep accepts,
// in their order.
func filterObject(b []byte, keep func(string) bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("filtering a result: not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if !keep(key) {
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
