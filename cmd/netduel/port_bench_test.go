package main

import (
	"io"
	"testing"

	"github.com/netduel/netduel/report"
)

// BenchmarkPortCheckFullRange runs 'netduel port check 1024-65535' in every
// output format, check and rendering together, to io.Discard: the target is
// under 2 s each (DESIGN.md §9). A port taken on this host exits 1, which is
// fine here.
func BenchmarkPortCheckFullRange(b *testing.B) {
	for _, format := range report.Formats {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				if code := run([]string{"netduel", "port", "check", "1024-65535", "-o", format}, io.Discard, io.Discard); code != exitOK && code != exitFailed {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
