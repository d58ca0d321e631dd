package report

import (
	"bufio"
	"encoding/json"
	"io"
	"unsafe"

	"github.com/netduel/netduel/port"
)

// PortWarnings groups the warnings of rs: one PortWarning per distinct warning
// and protocol, in the order they first appear, with the ports whose results
// carry it. It is linear in len(rs): a full-range check has half a million
// results, whose warning slices port.Check shares between results alike.
func PortWarnings(rs []port.Result) []PortWarning {
	type key struct {
		wn    port.Warning
		proto port.Proto
	}
	type group struct {
		key
		ports port.PortSet
	}
	var (
		order  []*group
		byKey  = map[key]*group{}
		last   *port.Warning // the warning slice of the previous result ...
		lastN  int
		lastPr port.Proto
		lastGs []*group // ... and its groups
	)
	for i := range rs {
		r := &rs[i]
		if len(r.Warnings) == 0 {
			continue
		}
		if d := unsafe.SliceData(r.Warnings); d != last || len(r.Warnings) != lastN || r.Proto != lastPr {
			last, lastN, lastPr = d, len(r.Warnings), r.Proto
			lastGs = lastGs[:0]
			for _, wn := range r.Warnings {
				k := key{wn, r.Proto}
				g := byKey[k]
				if g == nil {
					g = &group{key: k}
					byKey[k] = g
					order = append(order, g)
				}
				lastGs = append(lastGs, g)
			}
		}
		for _, g := range lastGs {
			g.ports.Add(r.Port)
		}
	}
	out := make([]PortWarning, 0, len(order))
	for _, g := range order {
		pw := PortWarning{Warning: g.wn, Proto: g.proto}
		for _, r := range g.ports.Ranges() {
			pw.Ports = append(pw.Ports, PortRange{Lo: r[0], Hi: r[1]})
		}
		out = append(out, pw)
	}
	return out
}

// portCheckJSON writes a check document as indented JSON, each result on a
// line of its own, as it goes: a full-range check is some 100 MB of JSON,
// which json.MarshalIndent would build in memory and then indent.
func portCheckJSON(w io.Writer, doc *PortCheck) error {
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
func portCheckNDJSON(w io.Writer, doc *PortCheck) error {
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
		Event   string `json:"event"`
		Results int    `json:"results"`
		AllFree bool   `json:"all_free"`
	}{"end", len(doc.Ports), doc.AllFree}); err != nil {
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
