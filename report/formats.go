package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// Formats every reporting command accepts with -o.
var Formats = []string{"table", "json", "ndjson", "csv", "markdown"}

// csvHeader names RunCSV's columns; units are in the names.
var csvHeader = []string{
	"proto", "test", "duration_s", "size", "sent_frames", "received_frames",
	"lost_frames", "reordered_frames", "duplicate_frames", "corrupt_frames", "lost_pct",
	"goodput_bps", "offered_bps",
	"rtt_min_us", "rtt_mean_us", "rtt_p50_us", "rtt_p90_us", "rtt_p99_us", "rtt_p999_us", "rtt_max_us",
	"jitter_mean_ms", "jitter_max_ms",
	"tcp_retransmits", "tcp_rtt_us", "tcp_cwnd", "tcp_congestion", "error",
	"cell", "link_emulator", "link_tcp_stack", "link_loss_pct", "link_delay_ms", "link_jitter_ms", "link_rate_bps",
	"link_dropped", "link_forwarded",
}

// RunCSV writes one row per result after a header row. Fields a result does not
// have (the RTT of a throughput test, say) are empty.
func RunCSV(w io.Writer, rep *duel.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(finite(v), 'f', -1, 64) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, r := range rep.Results {
		row := []string{r.Proto, r.Test, f(r.DurationS), strconv.Itoa(r.Size), u(r.SentFrames), u(r.ReceivedFrames),
			u(r.LostFrames), u(r.ReorderedFrames), u(r.DuplicateFrames), u(r.CorruptFrames), f(r.LostPct),
			f(r.GoodputBps), ""}
		if r.OfferedBps != nil {
			row[12] = f(*r.OfferedBps)
		}
		if s := r.RTT; s != nil {
			row = append(row, f(s.Min), f(s.Mean), f(s.P50), f(s.P90), f(s.P99), f(s.P999), f(s.Max))
		} else {
			row = append(row, "", "", "", "", "", "", "")
		}
		if j := r.Jitter; j != nil {
			row = append(row, f(j.Mean), f(j.Max))
		} else {
			row = append(row, "", "")
		}
		if t := r.TCP; t != nil {
			row = append(row, u(uint64(t.Retransmits)), f(t.RTTUS), u(uint64(t.Cwnd)), t.Congestion)
		} else {
			row = append(row, "", "", "", "")
		}
		row = append(row, r.Error, r.Cell)
		if l := r.Link; l != nil {
			row = append(row, l.Emulator, l.TCPStack, f(l.Loss), f(l.DelayMs), f(l.JitterMs), f(l.RateBps),
				u(l.Up.Dropped+l.Down.Dropped+l.Up.QueueDrops+l.Down.QueueDrops), u(l.Up.Forwarded+l.Down.Forwarded))
		} else {
			row = append(row, "", "", "", "", "", "", "", "", "")
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// NDJSON streams a run as newline-delimited JSON events, one object per line:
// {"event":"start",...}, then {"event":"result",...} as each test ends, then
// {"event":"end",...}. Each line is written whole, so the stream is valid line by
// line even when the run is interrupted. Safe for concurrent use.
type NDJSON struct {
	mu sync.Mutex
	w  io.Writer
}

// NewNDJSON returns an event writer on w.
func NewNDJSON(w io.Writer) *NDJSON { return &NDJSON{w: w} }

func (n *NDJSON) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	n.mu.Lock()
	defer n.mu.Unlock()
	_, err = n.w.Write(b)
	return err
}

// Start writes the start event: the schema, version, server and plan size.
func (n *NDJSON) Start(rep *duel.Report, tests int) error {
	return n.emit(struct {
		Event    string    `json:"event"`
		Schema   string    `json:"schema"`
		Version  string    `json:"netduel_version"`
		Started  time.Time `json:"started"`
		Server   string    `json:"server"`
		Embedded bool      `json:"embedded"`
		Network  string    `json:"network"`
		Tests    int       `json:"tests"`
	}{"start", rep.Schema, rep.Version, rep.Started, rep.Server, rep.Embedded, rep.Network, tests})
}

// Result writes one test's interval events (the receiver's view arrives with the
// result, so they are written when the test ends), then its result event.
func (n *NDJSON) Result(r duel.Result) error {
	for _, iv := range r.Intervals {
		if err := n.emit(struct {
			Event string `json:"event"`
			Proto string `json:"proto"`
			Test  string `json:"test"`
			stats.Interval
		}{"interval", r.Proto, r.Test, iv}); err != nil {
			return err
		}
	}
	return n.emit(struct {
		Event string `json:"event"`
		duel.Result
	}{"result", r})
}

// Checks writes one assertion event per check.
func (n *NDJSON) Checks(cs []Check) error {
	for _, c := range cs {
		if err := n.emit(struct {
			Event string `json:"event"`
			Check
		}{"assertion", c}); err != nil {
			return err
		}
	}
	return nil
}

// Finish writes the assertion events, the baseline event (if any) and the end event.
func (n *NDJSON) Finish(results int, x Extras, interrupted bool, errMsg string) error {
	if err := n.Checks(x.Checks); err != nil {
		return err
	}
	if x.Baseline != nil {
		if err := n.emit(struct {
			Event string `json:"event"`
			*Baseline
		}{"baseline", x.Baseline}); err != nil {
			return err
		}
	}
	return n.End(results, interrupted, errMsg)
}

// End writes the end event; errMsg is empty for a complete run.
func (n *NDJSON) End(results int, interrupted bool, errMsg string) error {
	return n.emit(struct {
		Event       string `json:"event"`
		Results     int    `json:"results"`
		Interrupted bool   `json:"interrupted"`
		Error       string `json:"error,omitempty"`
	}{"end", results, interrupted, errMsg})
}
