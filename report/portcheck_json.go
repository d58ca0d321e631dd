package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/netduel/netduel/port"
)

// portCheckJSON writes a check document as indented JSON, each result on a
// line of its own, as it goes: a full-range check is some 100 MB of JSON,
// which json.MarshalIndent would build in memory and then indent.
func portCheckJSON(w io.Writer, doc *PortCheckDoc) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	b := make([]byte, 0, 512)
	b = append(b, "{\n  \"schema\": "...)
	b = port.AppendJSONString(b, doc.Schema)
	b = append(b, ",\n  \"command\": "...)
	b = port.AppendJSONString(b, doc.Command)
	b = append(b, ",\n  \"netduel_version\": "...)
	b = port.AppendJSONString(b, doc.Version)
	b = append(b, ",\n  \"as\": "...)
	b = port.AppendJSONString(b, doc.As)
	b = append(b, ",\n  \"all_free\": "...)
	if doc.AllFree {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	if doc.Interrupted {
		b = append(b, ",\n  \"interrupted\": true"...)
	}
	if doc.Error != "" {
		b = append(b, ",\n  \"error\": "...)
		b = port.AppendJSONString(b, doc.Error)
	}
	ws, err := json.MarshalIndent(nonNil(doc.Warnings), "  ", "  ")
	if err != nil {
		return err
	}
	b = append(b, ",\n  \"warnings\": "...)
	b = append(b, ws...)
	b = append(b, ",\n  \"ports\": ["...)
	for i := range doc.Ports {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = doc.Ports[i].AppendJSON(b)
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if len(doc.Ports) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// portCheckNDJSON writes a check document as NDJSON: the start event, a port
// event per result, a warning event per PortWarning, then the end event.
func portCheckNDJSON(w io.Writer, doc *PortCheckDoc) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	nd := NewNDJSON(bw)
	if err := nd.emit(portStart(doc.Schema, doc.Command, doc.Version)); err != nil {
		return err
	}
	b := make([]byte, 0, 512)
	for i := range doc.Ports {
		b = append(b, `{"event":"port",`...)
		b = doc.Ports[i].AppendJSONFields(b)
		b = append(b, "}\n"...)
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if _, err := bw.Write(b); err != nil {
		return err
	}
	for _, pw := range doc.Warnings {
		if err := nd.emit(struct {
			Event string `json:"event"`
			PortWarning
		}{"warning", pw}); err != nil {
			return err
		}
	}
	if err := nd.emit(struct {
		Event       string `json:"event"`
		Results     int    `json:"results"`
		AllFree     bool   `json:"all_free"`
		Interrupted bool   `json:"interrupted,omitempty"`
		Error       string `json:"error,omitempty"`
	}{"end", len(doc.Ports), doc.AllFree, doc.Interrupted, doc.Error}); err != nil {
		return err
	}
	return bw.Flush()
}

// nonNil returns s, or an empty slice for nil (JSON [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
