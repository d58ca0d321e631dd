//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/netduel/netduel/duel"
)

// Parsers.

// netduelResult is the part of a netduel.run/v1 result the comparison uses.
type netduelResult struct {
	Proto duel.Proto `json:"proto"`
	Test  duel.Test  `json:"test"`
	Size  int        `json:"size"`
	// ReceivedFrames × Size are the bytes the receiver took in.
	ReceivedFrames uint64  `json:"received_frames"`
	GoodputBps     float64 `json:"goodput_bps"`
	LostPct        float64 `json:"lost_pct"`
	RTT            *struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"rtt_us"`
	Wait  *duel.Waits `json:"wait"`
	Error string      `json:"error"`
}

type netduelReport struct {
	Schema  string          `json:"schema"`
	Results []netduelResult `json:"results"`
}

func parseNetduel(b []byte) (*netduelReport, error) {
	var r netduelReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("netduel JSON: %w", err)
	}
	if !strings.HasPrefix(r.Schema, "netduel.run/") {
		return nil, fmt.Errorf("netduel JSON: schema %q, want netduel.run/v1", r.Schema)
	}
	return &r, nil
}

// find returns the result of a test kind named "proto/test", checked for
// the fields that kind has.
func (r *netduelReport) find(key string) (*netduelResult, error) {
	proto, test, _ := strings.Cut(key, "/")
	kind, ok := duel.LookupKind(duel.Proto(proto), duel.Test(test))
	if !ok {
		return nil, fmt.Errorf("netduel has no %s test", key)
	}
	for i := range r.Results {
		res := &r.Results[i]
		if k, _ := duel.LookupKind(res.Proto, res.Test); k != kind {
			continue
		}
		if res.Error != "" {
			return nil, fmt.Errorf("netduel %s: %s", kind, res.Error)
		}
		if kind.Has(duel.FigRoundTrips) && res.RTT == nil {
			return nil, fmt.Errorf("netduel %s: no rtt_us in the result", kind)
		}
		return res, nil
	}
	return nil, fmt.Errorf("netduel JSON: no %s result", key)
}

// iperfResult is what the comparison takes from an iperf3 -J report.
type iperfResult struct {
	Goodput float64 // bits/s received (TCP), or sent rate × (1 − loss) (UDP)
	LostPct float64 // UDP
	UDP     bool
	Bytes   uint64 // received by the receiver: end.sum_received.bytes
}

type iperfSum struct {
	Bytes         float64  `json:"bytes"`
	BitsPerSecond float64  `json:"bits_per_second"`
	LostPercent   *float64 `json:"lost_percent"`
}

func parseIperf3(b []byte) (iperfResult, error) {
	var doc struct {
		Start struct {
			TestStart struct {
				Protocol string `json:"protocol"`
			} `json:"test_start"`
		} `json:"start"`
		End struct {
			Sum         *iperfSum `json:"sum"`
			SumReceived *iperfSum `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return iperfResult{}, fmt.Errorf("iperf3 JSON: %w", err)
	}
	if doc.Error != "" {
		return iperfResult{}, fmt.Errorf("iperf3: %s", doc.Error)
	}
	if strings.EqualFold(doc.Start.TestStart.Protocol, "UDP") {
		s := doc.End.Sum
		if s == nil || s.LostPercent == nil {
			return iperfResult{}, errors.New("iperf3 JSON: UDP report without end.sum.lost_percent")
		}
		lost := *s.LostPercent
		// Bytes received: iperf3 3.12 and later report them in
		// end.sum_received; older ones only what was sent, less the loss.
		received := s.Bytes * (1 - lost/100)
		if r := doc.End.SumReceived; r != nil && r.Bytes > 0 {
			received = r.Bytes
		}
		return iperfResult{Goodput: s.BitsPerSecond * (1 - lost/100), LostPct: lost, UDP: true, Bytes: uint64(received)}, nil
	}
	if doc.End.SumReceived == nil {
		return iperfResult{}, errors.New("iperf3 JSON: TCP report without end.sum_received")
	}
	return iperfResult{Goodput: doc.End.SumReceived.BitsPerSecond, Bytes: uint64(doc.End.SumReceived.Bytes)}, nil
}

// sockperfResult holds sockperf ping-pong's latencies, in microseconds, as
// sockperf prints them: half round trips.
type sockperfResult struct {
	Avg, P50, P99, Max float64
	Observations       int
}

var (
	ansiRE       = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	percentileRE = regexp.MustCompile(`--->\s+percentile\s+([0-9.]+)\s*=\s*([0-9.]+)`)
	maxRE        = regexp.MustCompile(`--->\s+<MAX> observation\s*=\s*([0-9.]+)`)
	avgRE        = regexp.MustCompile(`avg-latency=([0-9.]+)`)
	totalRE      = regexp.MustCompile(`Total (\d+) observations`)
)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// parseSockperf reads sockperf ping-pong's summary, e.g.
//
//	sockperf: ---> percentile 99.000 =   36.834
//	sockperf: ---> percentile 50.000 =   12.919
func parseSockperf(b []byte) (sockperfResult, error) {
	var r sockperfResult
	var have50, have99 bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := stripANSI(sc.Text())
		if m := percentileRE.FindStringSubmatch(line); m != nil {
			p, err1 := strconv.ParseFloat(m[1], 64)
			v, err2 := strconv.ParseFloat(m[2], 64)
			if err1 != nil || err2 != nil {
				continue
			}
			switch p {
			case 50:
				r.P50, have50 = v, true
			case 99:
				r.P99, have99 = v, true
			}
		} else if m := maxRE.FindStringSubmatch(line); m != nil {
			r.Max, _ = strconv.ParseFloat(m[1], 64)
		} else if m := avgRE.FindStringSubmatch(line); m != nil {
			r.Avg, _ = strconv.ParseFloat(m[1], 64)
		} else if m := totalRE.FindStringSubmatch(line); m != nil {
			r.Observations, _ = strconv.Atoi(m[1])
		}
	}
	if !have50 || !have99 {
		msg := "no 'percentile 50.000' and 'percentile 99.000' lines in sockperf's output"
		if l := lastLine(stripANSI(string(b))); l != "" {
			msg += " (last line: " + l + ")"
		}
		return r, errors.New(msg)
	}
	return r, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
