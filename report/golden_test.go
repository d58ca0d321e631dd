package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func f(v float64) *float64 { return &v }
func u(v uint64) *uint64   { return &v }

// fixture is a fixed report with every kind of result.
func fixture() *duel.Report {
	life := func(tcp bool) duel.Lifecycle {
		l := duel.Lifecycle{SocketUS: f(11.5), BindUS: f(40.2), ConnectUS: f(48.7), CloseUS: f(9.1), FirstByteUS: f(62.5), FirstReplyUS: f(70.4), Handshake: tcp, PeerSawClose: tcp}
		if tcp {
			l.ListenUS, l.AcceptUS, l.PeerSawCloseUS = f(2.8), f(79.1), f(22.4)
		}
		return l
	}
	return &duel.Report{
		Schema: duel.Schema, Version: "test", Started: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Server: "127.0.0.1:40000", Embedded: true, Network: "os",
		Results: []duel.Result{
			{Proto: "tcp", Test: "throughput", DurationS: 3, Size: 131072, SentFrames: 60000, ReceivedFrames: 60000,
				GoodputBps: 20.9e9, TCP: &duel.TCPInfo{Info: tcp.Info{Retransmits: 3, Cwnd: 22, Congestion: "cubic"}, RTTUS: 95}, Lifecycle: life(true),
				Intervals: []stats.Interval{{StartS: 0, EndS: 1, Frames: 20000, GoodputBps: 20.8e9}, {StartS: 1, EndS: 2, Frames: 20000, GoodputBps: 21e9}}},
			{Proto: "udp", Test: "throughput", DurationS: 3, Size: 1400, SentFrames: 800000, ReceivedFrames: 798000,
				LostFrames: 2000, ReorderedFrames: 12, DuplicateFrames: 1, CorruptFrames: 2, LostPct: 0.25, GoodputBps: 2.89e9,
				OfferedBps: f(2.99e9), RequestedBps: f(0), SenderRefused: u(150), Jitter: &duel.Jitter{MeanMs: 0.0021, MaxMs: 0.41, LastMs: 0.001}, Lifecycle: life(false)},
			{Proto: "tcp", Test: "latency", DurationS: 3, Size: 64, SentFrames: 210000, ReceivedFrames: 210000, GoodputBps: 13.4e6,
				RTT: &stats.RTTSummary{Count: 200000, Min: 12, Mean: 13.6, P50: 13, P90: 14, P99: 30, P999: 81, Max: 174},
				TCP: &duel.TCPInfo{Info: tcp.Info{Cwnd: 10, Congestion: "cubic"}, RTTUS: 12}, Lifecycle: life(true)},
			{Proto: "udp", Test: "latency", DurationS: 3, Size: 64, SentFrames: 240000, ReceivedFrames: 239990, LostFrames: 10,
				ReorderedFrames: 3, LostPct: 0.0041, GoodputBps: 14.6e6,
				RTT: &stats.RTTSummary{Count: 230000, Min: 11, Mean: 12.3, P50: 11, P90: 15, P99: 21, P999: 68, Max: 1140}, Lifecycle: life(false),
				Error: "example: the server went away"},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./report -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run 'go test ./report -update' if the change is intended):\n%s", name, path, got)
	}
}

func TestGoldenRun(t *testing.T) {
	rep := fixture()
	old := fixture()
	old.Results[0].GoodputBps = 25e9 // a regression
	old.Results[2].RTT.P99 = 40      // an improvement
	a, err := ParseAssertion("udp.throughput.lost_pct < 0.1")
	if err != nil {
		t.Fatal(err)
	}
	x := Extras{Checks: Evaluate([]Assertion{a}, rep.Results), Baseline: Compare(old, rep, "old.json", 10), ShowIntervals: true}
	for _, format := range []string{"table", "markdown", "csv"} {
		t.Run(format, func(t *testing.T) {
			var out, side bytes.Buffer
			if err := Render(&out, RunDoc{rep, x}, Options{Format: format, Side: &side}); err != nil {
				t.Fatal(err)
			}
			golden(t, "run."+format, out.Bytes())
			if format == "csv" {
				golden(t, "run.csv-side", side.Bytes())
			}
			for _, bad := range []string{"NaN", "Inf", "\x1b["} {
				if strings.Contains(out.String(), bad) {
					t.Errorf("output contains %q", bad)
				}
			}
		})
	}
}

// TestNothingDelivered renders a run in which everything was lost: no NaN, no
// Inf, no negative numbers anywhere.
func TestNothingDelivered(t *testing.T) {
	rep := &duel.Report{Schema: duel.Schema, Results: []duel.Result{
		{Proto: "udp", Test: "throughput", SentFrames: 1000, LostFrames: 1000, LostPct: 100, OfferedBps: f(1e6), Jitter: &duel.Jitter{}},
		{Proto: "udp", Test: "latency", SentFrames: 50, LostFrames: 50, LostPct: 100, RTT: &stats.RTTSummary{}},
		{Proto: "tcp", Test: "throughput"},
	}}
	for _, format := range Formats {
		var out, side bytes.Buffer
		if err := Render(&out, RunDoc{rep, Extras{}}, Options{Format: format, Side: &side}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, bad := range []string{"NaN", "Inf", "-1"} {
			if strings.Contains(out.String(), bad) {
				t.Errorf("%s output contains %q:\n%s", format, bad, out.String())
			}
		}
	}
}

func TestBaselineVerdicts(t *testing.T) {
	old, cur := fixture(), fixture()
	cur.Results[1].LostPct = 0.26    // +4%: within tolerance
	cur.Results[3].RTT.P50 = 12      // +9%, 1 µs: under the absolute floor
	cur.Results[2].RTT.P99 = 60      // +100%: worse
	cur.Results[0].GoodputBps = 30e9 // better
	b := Compare(old, cur, "old.json", 10)
	worse, better := 0, 0
	for _, c := range b.Comparisons {
		if c.Worse {
			worse++
			if c.Metric != "rtt_us.p99" || c.Result != "tcp latency" {
				t.Errorf("unexpected regression %+v", c)
			}
		}
		if c.Better {
			better++
		}
	}
	if worse != 1 || better != 1 || b.Regressions() != 1 {
		t.Fatalf("worse %d better %d: %+v", worse, better, b.Comparisons)
	}
}

// sweepFixture is a loss × delay sweep of throughput and latency results.
func sweepFixture() *duel.Report {
	rep := &duel.Report{Schema: duel.Schema, Version: "test", Server: "198.18.0.2:40000", Embedded: true, Network: duel.NetworkLinks, Sweep: true,
		Started: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	for _, loss := range []float64{0, 1, 5} {
		for _, delay := range []float64{0, 20} {
			li := &duel.LinkInfo{Emulator: "netstack", TCPStack: "gvisor", Congestion: "cubic", Loss: loss, DelayMs: delay, Queue: 1000, Netem: fmt.Sprintf("delay %gms loss random %g%%", delay, loss)}
			cell := fmt.Sprintf("loss %g%%, delay %gms", loss, delay)
			slow := 1 + loss*(1+delay/10)
			rep.Results = append(rep.Results,
				duel.Result{Cell: cell, Link: li, Proto: "tcp", Test: "throughput", SentFrames: 1000, ReceivedFrames: 1000, GoodputBps: 900e6 / slow},
				duel.Result{Cell: cell, Link: li, Proto: "udp", Test: "throughput", SentFrames: 1000, ReceivedFrames: uint64(1000 - 10*loss), LostFrames: uint64(10 * loss), LostPct: loss, GoodputBps: 500e6 * (1 - loss/100)},
				duel.Result{Cell: cell, Link: li, Proto: "tcp", Test: "latency", SentFrames: 100, ReceivedFrames: 100, RTT: &stats.RTTSummary{P99: 30 + 2000*delay + 200000*loss}},
				duel.Result{Cell: cell, Link: li, Proto: "udp", Test: "latency", SentFrames: 100, ReceivedFrames: uint64(100 - loss), LostFrames: uint64(loss), LostPct: loss, RTT: &stats.RTTSummary{P99: 25 + 2000*delay}},
			)
		}
	}
	return rep
}

func TestGoldenSweep(t *testing.T) {
	for _, format := range []string{"table", "markdown", "csv"} {
		t.Run(format, func(t *testing.T) {
			var out, side bytes.Buffer
			if err := Render(&out, RunDoc{sweepFixture(), Extras{}}, Options{Format: format, Side: &side}); err != nil {
				t.Fatal(err)
			}
			golden(t, "sweep."+format, out.Bytes())
		})
	}
}

// linksFixture is the default run's shape: the fixture's four results on a
// clean loopback, and again across an emulated lossy link.
func linksFixture() *duel.Report {
	rep := fixture()
	rep.Network = duel.NetworkLinks
	clean := rep.Results
	var out []duel.Result
	for _, r := range clean {
		r.Cell = "clean (loopback)"
		r.Link = &duel.LinkInfo{Emulator: "none", TCPStack: "linux", Congestion: "cubic"}
		out = append(out, r)
	}
	for _, r := range clean {
		r.Cell = "lossy (1% loss, 20ms each way)"
		r.Error = ""
		if r.Proto == "udp" && r.Test == "throughput" {
			// The default run paces its lossy UDP at 100M; this sender fell short.
			r.RequestedBps, r.OfferedBps = f(100e6), f(61.2e6)
			r.Warnings = []string{"offered 61.2 Mbit/s, 61% of the 100 Mbit/s asked for: the sender could not keep pace"}
		}
		r.Link = &duel.LinkInfo{Emulator: "tun", TCPStack: "linux", Congestion: "cubic", Loss: 1, LossModel: "random 1%",
			DelayMs: 20, Seed: 42, Netem: "delay 20ms loss random 1%",
			Up:          duel.LinkCounters{Counters: impair.Counters{Packets: 20000, Forwarded: 19800, Dropped: 200, DroppedUDP: 190}},
			Down:        duel.LinkCounters{Counters: impair.Counters{Packets: 900, Forwarded: 891, Dropped: 9}},
			ClientStack: &duel.StackCounters{TCPRetransmits: 18, DeviceDrops: 4},
			ServerStack: &duel.StackCounters{UDPChecksumErrors: 1},
			Check: &duel.LinkCheck{
				Up: duel.DirectionCheck{
					Loss:     &duel.CheckFigure{Configured: 1, Measured: 1, Low: 0.85, High: 1.16, OK: true, N: 20000},
					DelayP50: &duel.CheckFigure{Configured: 20, Measured: 20.4, Low: 19.98, High: 20.12, N: 19800},
					DelayP99: &duel.CheckFigure{Configured: 20, Measured: 20.6, Low: 19.98, High: 21.02, OK: true, N: 19800}},
				Down: duel.DirectionCheck{Loss: &duel.CheckFigure{Configured: 1, Measured: 1, Low: 0.22, High: 2.11, OK: true, N: 900}, OK: true}}}
		out = append(out, r)
	}
	rep.Results = out
	rep.PortConflicts = &duel.PortConflicts{Port: 41000, Experiments: conflictsFixture().Experiments[:1]}
	return rep
}

func TestGoldenLinks(t *testing.T) {
	for _, format := range []string{"table", "markdown"} {
		var out, side bytes.Buffer
		if err := Render(&out, RunDoc{linksFixture(), Extras{}}, Options{Format: format, Side: &side}); err != nil {
			t.Fatal(err)
		}
		golden(t, "links."+format, out.Bytes())
	}
}
