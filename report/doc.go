// Package report renders netduel's results for people and machines: tables
// (tablewriter, with colour from fatih/color when the output is a terminal),
// Markdown, JSON, NDJSON and CSV. It knows nothing of how results were
// measured; engine packages know nothing of it.
//
// Every document (a run's RunDoc, the port commands' PortCheckDoc,
// PortFreeDoc and PortConflictsDoc) is rendered the same way: NewReporter
// looks its format up in one table (reporter.go) and returns a Reporter, a
// func(io.Writer) error; Render does both. What a result shows is asked of
// its test kind's figures (duel.Kind.Has), and the comparison tables have a
// column per protocol of the registry (duel.Protos).
package report
