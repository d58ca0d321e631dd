package report

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadReport: any file is a report or an error, and a report read back
// renders in every format without a panic.
func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"schema":"netduel.run/v1","results":[{"proto":"udp","test":"throughput","sent_frames":5,"received_frames":5,"goodput_bps":1e6,"jitter_ms":{"mean":1,"max":2,"last":1}}]}`))
	f.Add([]byte(`{"schema":"netduel.run/v1","sweep":true,"results":[{"cell":"a","proto":"tcp","test":"latency","rtt_us":{"p50":10,"p99":20},"link":{"emulator":"tun","loss":1}}]}`))
	f.Add([]byte(`{"schema":"netduel.run/v1","results":[{"proto":"quic","test":"x","lost_pct":-5}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "r.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := ReadReport(path)
		if err != nil {
			return
		}
		for _, format := range Formats {
			if err := Render(io.Discard, RunDoc{Report: rep}, Options{Format: format, Side: io.Discard}); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
	})
}
