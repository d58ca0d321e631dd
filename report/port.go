package report

import "io"

// The netduel.port/v1 documents: PortCheckDoc (portcheck.go), PortFreeDoc
// (portfree.go) and PortConflictsDoc (portconflicts.go); what they share.

// PortRange is a range of ports, both ends included.
type PortRange struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
}

// portNDJSON writes a port document as NDJSON: the start event, one event per
// item, then the end event.
func portNDJSON[T any](w io.Writer, schema, command, version string, items []T, event func(T) any, end any) error {
	nd := NewNDJSON(w)
	if err := nd.emit(portStart(schema, command, version)); err != nil {
		return err
	}
	for _, it := range items {
		if err := nd.emit(event(it)); err != nil {
			return err
		}
	}
	return nd.emit(end)
}

func portStart(schema, command, version string) any {
	return struct {
		Event   string `json:"event"`
		Schema  string `json:"schema"`
		Command string `json:"command"`
		Version string `json:"netduel_version"`
	}{"start", schema, command, version}
}
