package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// NDJSON streams a run as newline-delimited JSON events, one object per line:
// {"event":"start",...}, then {"event":"result",...} as each test ends, then
// {"event":"end",...}. Each line is written whole, so the stream is valid line by
// line even when the run is interrupted. Safe for concurrent use.
type NDJSON struct {
	mu sync.Mutex
	w  io.Writer
}

// NewNDJSON returns an event writer on w.
func NewNDJSON(w io.Writer) *NDJSON { return &NDJSON{w: w} }

func (n *NDJSON) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	n.mu.Lock()
	defer n.mu.Unlock()
	_, err = n.w.Write(b)
	return err
}

// Start writes the start event: the schema, version, server and plan size.
func (n *NDJSON) Start(rep *duel.Report, tests int) error {
	return n.emit(struct {
		Event    string    `json:"event"`
		Schema   string    `json:"schema"`
		Version  string    `json:"netduel_version"`
		Started  time.Time `json:"started"`
		Server   string    `json:"server"`
		Embedded bool      `json:"embedded"`
		Network  string    `json:"network"`
		Tests    int       `json:"tests"`
	}{"start", rep.Schema, rep.Version, rep.Started, rep.Server, rep.Embedded, rep.Network, tests})
}

// Result writes one test's interval events (the receiver's view arrives with the
// result, so they are written when the test ends), then its result event.
func (n *NDJSON) Result(r duel.Result) error {
	for _, iv := range r.Intervals {
		if err := n.emit(struct {
			Event string     `json:"event"`
			Proto duel.Proto `json:"proto"`
			Test  duel.Test  `json:"test"`
			stats.Interval
		}{"interval", r.Proto, r.Test, iv}); err != nil {
			return err
		}
	}
	// The result's own fields (duel.Result.MarshalJSON leaves out what was
	// not measured) after the event's name.
	return n.emitEvent("result", r)
}

// Checks writes one assertion event per check.
func (n *NDJSON) Checks(cs []Check) error {
	for _, c := range cs {
		if err := n.emitEvent("assertion", c); err != nil {
			return err
		}
	}
	return nil
}

// emitEvent writes v's JSON object, its own MarshalJSON's, with the event's
// name first. (Embedding v in a struct beside an event field does not do:
// the embedded type's MarshalJSON is promoted, and writes v alone.)
func (n *NDJSON) emitEvent(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) < 2 || b[0] != '{' {
		return fmt.Errorf("ndjson: a %s event is not a JSON object", event)
	}
	head := []byte(`{"event":"` + event + `"`)
	if len(b) > 2 { // not {}
		head = append(head, ',')
	}
	return n.emit(json.RawMessage(append(head, b[1:]...)))
}

// Finish writes the assertion events, the baseline event (if any) and the
// end event of rep (its results, whether it was interrupted, its error).
func (n *NDJSON) Finish(rep *duel.Report, x Extras) error {
	if err := n.Checks(x.Checks); err != nil {
		return err
	}
	if x.Baseline != nil {
		if err := n.emit(struct {
			Event string `json:"event"`
			*Baseline
		}{"baseline", x.Baseline}); err != nil {
			return err
		}
	}
	return n.End(len(rep.Results), rep.Interrupted, rep.Error)
}

// End writes the end event; errMsg is empty for a complete run.
func (n *NDJSON) End(results int, interrupted bool, errMsg string) error {
	return n.emit(struct {
		Event       string `json:"event"`
		Results     int    `json:"results"`
		Interrupted bool   `json:"interrupted"`
		Error       string `json:"error,omitempty"`
	}{"end", results, interrupted, errMsg})
}
