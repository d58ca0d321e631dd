package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// csvColumn is one column of runCSV: its name (with the unit) and its value
// for a result, "" where the result has none.
type csvColumn struct {
	name  string
	value func(r *duel.Result) string
}

func csvFloat(v float64) string { return strconv.FormatFloat(finite(v), 'f', -1, 64) }
func csvUint(v uint64) string   { return strconv.FormatUint(v, 10) }

// csvOpt formats an optional number.
func csvOpt[T any](v *T, f func(T) string) string {
	if v == nil {
		return ""
	}
	return f(*v)
}

// when leaves a figure's cell empty where it was not measured (duel.Extent):
// measured is (*duel.Result).Ran, or Counted for the receiver's count.
func when(measured func(*duel.Result) bool, f func(r *duel.Result) string) func(r *duel.Result) string {
	return func(r *duel.Result) string {
		if !measured(r) {
			return ""
		}
		return f(r)
	}
}

// rttCol, jitterCol, tcpCol and linkCol make columns of a result's optional parts.
func rttCol(name string, f func(*stats.RTTSummary) float64) csvColumn {
	return csvColumn{name, func(r *duel.Result) string {
		if r.RTT == nil {
			return ""
		}
		return csvFloat(f(r.RTT))
	}}
}

func jitterCol(name string, f func(*duel.Jitter) float64) csvColumn {
	return csvColumn{name, func(r *duel.Result) string {
		if r.Jitter == nil {
			return ""
		}
		return csvFloat(f(r.Jitter))
	}}
}

func tcpCol(name string, f func(*duel.TCPInfo) string) csvColumn {
	return csvColumn{name, func(r *duel.Result) string {
		if r.TCP == nil {
			return ""
		}
		return f(r.TCP)
	}}
}

func linkCol(name string, f func(*duel.LinkInfo) string) csvColumn {
	return csvColumn{name, func(r *duel.Result) string {
		if r.Link == nil {
			return ""
		}
		return f(r.Link)
	}}
}

// emulated leaves a link's cell empty where no emulator ran (emulator
// none): it has no seed, and counted no packets.
func emulated(f func(*duel.LinkInfo) string) func(*duel.LinkInfo) string {
	return func(l *duel.LinkInfo) string {
		if l.Emulator == "none" {
			return ""
		}
		return f(l)
	}
}

// csvColumns are runCSV's columns in order; docs/output.md lists each (a test
// compares the two).
var csvColumns = []csvColumn{
	{"proto", func(r *duel.Result) string { return string(r.Proto) }},
	{"test", func(r *duel.Result) string { return string(r.Test) }},
	{"duration_s", when((*duel.Result).Ran, func(r *duel.Result) string { return csvFloat(r.DurationS) })},
	{"size", func(r *duel.Result) string { return strconv.Itoa(r.Size) }},
	{"sent_frames", when((*duel.Result).Ran, func(r *duel.Result) string { return csvUint(r.SentFrames) })},
	{"received_frames", when((*duel.Result).Counted, func(r *duel.Result) string { return csvUint(r.ReceivedFrames) })},
	{"lost_frames", when((*duel.Result).Counted, func(r *duel.Result) string { return csvUint(r.LostFrames) })},
	{"reordered_frames", when((*duel.Result).Counted, func(r *duel.Result) string { return csvUint(r.ReorderedFrames) })},
	{"duplicate_frames", when((*duel.Result).Counted, func(r *duel.Result) string { return csvUint(r.DuplicateFrames) })},
	{"corrupt_frames", when((*duel.Result).Counted, func(r *duel.Result) string { return csvUint(r.CorruptFrames) })},
	{"lost_pct", when((*duel.Result).Counted, func(r *duel.Result) string { return csvFloat(r.LostPct) })},
	{"goodput_bps", when((*duel.Result).Counted, func(r *duel.Result) string { return csvFloat(r.GoodputBps) })},
	{"offered_bps", func(r *duel.Result) string { return csvOpt(r.OfferedBps, csvFloat) }},
	{"requested_bps", func(r *duel.Result) string { return csvOpt(r.RequestedBps, csvFloat) }},
	rttCol("rtt_min_us", func(s *stats.RTTSummary) float64 { return s.Min }),
	rttCol("rtt_mean_us", func(s *stats.RTTSummary) float64 { return s.Mean }),
	rttCol("rtt_p50_us", func(s *stats.RTTSummary) float64 { return s.P50 }),
	rttCol("rtt_p90_us", func(s *stats.RTTSummary) float64 { return s.P90 }),
	rttCol("rtt_p99_us", func(s *stats.RTTSummary) float64 { return s.P99 }),
	rttCol("rtt_p999_us", func(s *stats.RTTSummary) float64 { return s.P999 }),
	rttCol("rtt_max_us", func(s *stats.RTTSummary) float64 { return s.Max }),
	jitterCol("jitter_mean_ms", func(j *duel.Jitter) float64 { return j.MeanMs }),
	jitterCol("jitter_max_ms", func(j *duel.Jitter) float64 { return j.MaxMs }),
	tcpCol("tcp_retransmits", func(t *duel.TCPInfo) string { return csvUint(uint64(t.Retransmits)) }),
	tcpCol("tcp_rtt_us", func(t *duel.TCPInfo) string { return csvFloat(t.RTTUS) }),
	tcpCol("tcp_cwnd", func(t *duel.TCPInfo) string { return csvUint(uint64(t.Cwnd)) }),
	tcpCol("tcp_congestion", func(t *duel.TCPInfo) string { return t.Congestion }),
	{"error", func(r *duel.Result) string { return r.Error }},
	{"cell", func(r *duel.Result) string { return r.Cell }},
	linkCol("link_emulator", func(l *duel.LinkInfo) string { return l.Emulator }),
	linkCol("link_tcp_stack", func(l *duel.LinkInfo) string { return l.TCPStack }),
	linkCol("link_loss_pct", func(l *duel.LinkInfo) string { return csvFloat(l.Loss) }),
	linkCol("link_delay_ms", func(l *duel.LinkInfo) string { return csvFloat(l.DelayMs) }),
	linkCol("link_jitter_ms", func(l *duel.LinkInfo) string { return csvFloat(l.JitterMs) }),
	linkCol("link_rate_bps", func(l *duel.LinkInfo) string { return csvFloat(l.RateBps) }),
	linkCol("link_seed", emulated(func(l *duel.LinkInfo) string { return csvUint(l.Seed) })),
	linkCol("link_dropped", emulated(func(l *duel.LinkInfo) string {
		return csvUint(l.Up.Dropped + l.Down.Dropped + l.Up.QueueDrops + l.Down.QueueDrops)
	})),
	linkCol("link_forwarded", emulated(func(l *duel.LinkInfo) string { return csvUint(l.Up.Forwarded + l.Down.Forwarded) })),
	linkCol("link_forwarder_mode", func(l *duel.LinkInfo) string { return l.Forwarder }),
}

// csvHeader returns runCSV's header row.
func csvHeader() []string {
	h := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		h[i] = c.name
	}
	return h
}

// runCSV writes one row per result after a header row. Fields a result does not
// have (the RTT of a throughput test, say) are empty.
func runCSV(w io.Writer, rep *duel.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader()); err != nil {
		return err
	}
	row := make([]string, len(csvColumns))
	for i := range rep.Results {
		for j, c := range csvColumns {
			row[j] = c.value(&rep.Results[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
