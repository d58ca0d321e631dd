// Package report renders netduel's results for people and machines: tables
// (tablewriter, with colour from fatih/color when the output is a terminal) and
// JSON. It knows nothing of how results were measured; engine packages know
// nothing of it.
package report
