package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PortFreeDoc is the netduel.port/v1 document of 'netduel port free'.
type PortFreeDoc struct {
	Schema  string `json:"schema"`
	Command string `json:"command"`
	Version string `json:"netduel_version"`
	// Ports are the free ports found, in search order.
	Ports []int `json:"ports"`
	// Requested is how many were asked for (--count); fewer found exits 1.
	Requested int        `json:"requested"`
	Range     PortRange  `json:"range"`
	Excluded  *PortRange `json:"excluded"`
	Protos    []string   `json:"protos"`
	Addresses []string   `json:"addresses"`
}

func (doc *PortFreeDoc) writeJSON(w io.Writer) error { return writeIndentedJSON(w, doc) }

func (doc *PortFreeDoc) writeNDJSON(w io.Writer) error {
	return portNDJSON(w, doc.Schema, doc.Command, doc.Version, doc.Ports, func(p int) any {
		return struct {
			Event string `json:"event"`
			Port  int    `json:"port"`
		}{"port", p}
	}, struct {
		Event     string `json:"event"`
		Found     int    `json:"found"`
		Requested int    `json:"requested"`
	}{"end", len(doc.Ports), doc.Requested})
}

func (doc *PortFreeDoc) writeCSV(w, _ io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"port"}); err != nil {
		return err
	}
	for _, p := range doc.Ports {
		if err := cw.Write([]string{strconv.Itoa(p)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTable writes the ports alone, one per line, for shell scripts; in
// Markdown, a heading and a table.
func (doc *PortFreeDoc) writeTable(w io.Writer, st Style) error {
	if !st.Markdown {
		for _, p := range doc.Ports {
			fmt.Fprintln(w, p)
		}
		return nil
	}
	fmt.Fprintf(w, "%s  (%s, %s)\n\n", st.heading("netduel port free"), strings.Join(doc.Protos, ", "), freeWhere(doc))
	t := st.newTable(w, "port")
	for _, p := range doc.Ports {
		if err := t.Append([]any{strconv.Itoa(p)}); err != nil {
			return err
		}
	}
	return t.Render()
}

// FreeSummary says where Free looked and what it found, for stderr.
func FreeSummary(doc *PortFreeDoc) string {
	return fmt.Sprintf("found %d of %d free for %s in %s", len(doc.Ports), doc.Requested,
		strings.Join(doc.Protos, "+"), freeWhere(doc))
}

func freeWhere(doc *PortFreeDoc) string {
	s := fmt.Sprintf("%d-%d", doc.Range.Lo, doc.Range.Hi)
	if doc.Excluded != nil {
		s += fmt.Sprintf(" without the ephemeral range %d-%d", doc.Excluded.Lo, doc.Excluded.Hi)
	}
	return s
}
