package report

import (
	"sort"

	"github.com/netduel/netduel/duel"
)

// unit is what a field measures, which decides the units an assertion may use.
type unit int

const (
	unitCount unit = iota // a plain number
	unitPct               // percent
	unitUS                // microseconds
	unitMS                // milliseconds
	unitS                 // seconds
	unitBps               // bits per second
)

// field is a numeric field of a result that assertions and baselines can name,
// by its JSON path ("rtt_us.p99").
type field struct {
	name string
	unit unit
	dir  better // which way is better, for baselines
	get  func(r *duel.Result) (float64, bool)
	has  duel.Figure // the figures a kind must measure to have it
}

// valid reports whether the field exists in a kind's results.
func (f field) valid(k *duel.Kind) bool { return k != nil && k.Has(f.has) }

// u64 and f64 read a figure every test that ran has; serverCount narrows
// one to the receiver's count, which a result without it (duel.Extent) lacks.
func u64(f func(r *duel.Result) uint64) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) { return float64(f(r)), r.Ran() }
}

func f64(f func(r *duel.Result) float64) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) { return finite(f(r)), r.Ran() }
}

// optCount reads a count only some results have (nil: absent).
func optCount(f func(r *duel.Result) *uint64) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) {
		if v := f(r); v != nil {
			return float64(*v), true
		}
		return 0, false
	}
}

func serverCount(get func(r *duel.Result) (float64, bool)) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) { v, ok := get(r); return v, ok && r.Counted() }
}

func rttField(name string, pick func(*duel.Result) float64) field {
	return field{"rtt_us." + name, unitUS, lower, func(r *duel.Result) (float64, bool) {
		if r.RTT == nil {
			return 0, false
		}
		return finite(pick(r)), true
	}, duel.FigRoundTrips}
}

func lifeField(name string, pick func(l *duel.Lifecycle) *float64) field {
	return field{"lifecycle." + name, unitUS, lower, func(r *duel.Result) (float64, bool) {
		if v := pick(&r.Lifecycle); v != nil {
			return finite(*v), true
		}
		return 0, false
	}, duel.FigFrames}
}

// fields lists every numeric result field by JSON path.
var fields = []field{
	{"duration_s", unitS, noCompare, f64(func(r *duel.Result) float64 { return r.DurationS }), duel.FigFrames},
	{"sent_frames", unitCount, noCompare, u64(func(r *duel.Result) uint64 { return r.SentFrames }), duel.FigFrames},
	{"received_frames", unitCount, higher, serverCount(u64(func(r *duel.Result) uint64 { return r.ReceivedFrames })), duel.FigFrames},
	{"lost_frames", unitCount, lower, serverCount(u64(func(r *duel.Result) uint64 { return r.LostFrames })), duel.FigFrames},
	{"reordered_frames", unitCount, lower, serverCount(u64(func(r *duel.Result) uint64 { return r.ReorderedFrames })), duel.FigFrames},
	{"duplicate_frames", unitCount, lower, serverCount(u64(func(r *duel.Result) uint64 { return r.DuplicateFrames })), duel.FigFrames},
	{"corrupt_frames", unitCount, lower, serverCount(u64(func(r *duel.Result) uint64 { return r.CorruptFrames })), duel.FigFrames},
	{"lost_pct", unitPct, lower, serverCount(f64(func(r *duel.Result) float64 { return r.LostPct })), duel.FigFrames},
	{"goodput_bps", unitBps, higher, serverCount(f64(func(r *duel.Result) float64 { return r.GoodputBps })), duel.FigFrames},
	{"offered_bps", unitBps, noCompare, func(r *duel.Result) (float64, bool) {
		if r.OfferedBps == nil {
			return 0, false
		}
		return finite(*r.OfferedBps), true
	}, duel.FigPacing},
	{"sender_refused", unitCount, lower, optCount(func(r *duel.Result) *uint64 { return r.SenderRefused }), duel.FigPacing},
	{"lost_before_link", unitCount, lower, optCount(func(r *duel.Result) *uint64 { return r.LostBeforeLink }), duel.FigPacing},
	{"lost_in_link", unitCount, lower, optCount(func(r *duel.Result) *uint64 { return r.LostInLink }), duel.FigPacing},
	rttField("min", func(r *duel.Result) float64 { return r.RTT.Min }),
	rttField("mean", func(r *duel.Result) float64 { return r.RTT.Mean }),
	rttField("p50", func(r *duel.Result) float64 { return r.RTT.P50 }),
	rttField("p90", func(r *duel.Result) float64 { return r.RTT.P90 }),
	rttField("p99", func(r *duel.Result) float64 { return r.RTT.P99 }),
	rttField("p999", func(r *duel.Result) float64 { return r.RTT.P999 }),
	rttField("max", func(r *duel.Result) float64 { return r.RTT.Max }),
	{"jitter_ms.mean", unitMS, lower, serverCount(jitter(func(j *duel.Jitter) float64 { return j.MeanMs })), duel.FigJitter},
	{"jitter_ms.max", unitMS, lower, serverCount(jitter(func(j *duel.Jitter) float64 { return j.MaxMs })), duel.FigJitter},
	{"tcp.retransmits", unitCount, lower, tcpInfo(func(t *duel.TCPInfo) float64 { return float64(t.Retransmits) }), duel.FigTCPInfo},
	{"tcp.rtt_us", unitUS, lower, tcpInfo(func(t *duel.TCPInfo) float64 { return t.RTTUS }), duel.FigTCPInfo},
	{"tcp.cwnd", unitCount, noCompare, tcpInfo(func(t *duel.TCPInfo) float64 { return float64(t.Cwnd) }), duel.FigTCPInfo},
	lifeField("connect_us", func(l *duel.Lifecycle) *float64 { return l.ConnectUS }),
	lifeField("first_byte_us", func(l *duel.Lifecycle) *float64 { return l.FirstByteUS }),
	lifeField("first_reply_us", func(l *duel.Lifecycle) *float64 { return l.FirstReplyUS }),
	lifeField("close_us", func(l *duel.Lifecycle) *float64 { return l.CloseUS }),
}

func jitter(pick func(*duel.Jitter) float64) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) {
		if r.Jitter == nil {
			return 0, false
		}
		return finite(pick(r.Jitter)), true
	}
}

func tcpInfo(pick func(*duel.TCPInfo) float64) func(r *duel.Result) (float64, bool) {
	return func(r *duel.Result) (float64, bool) {
		if r.TCP == nil {
			return 0, false
		}
		return finite(pick(r.TCP)), true
	}
}

func lookupField(name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// FieldNames lists the fields valid for a protocol and test, sorted.
func FieldNames(k *duel.Kind) []string {
	var out []string
	for _, f := range fields {
		if f.valid(k) {
			out = append(out, f.name)
		}
	}
	sort.Strings(out)
	return out
}
