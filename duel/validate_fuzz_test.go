package duel

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// FuzzServerResult feeds a decoded server result message through the client's
// checks and merge: nothing panics, and whatever passes the checks gives a
// result that keeps the Result's promises (finite, non-negative, counts within
// what was sent).
func FuzzServerResult(f *testing.F) {
	for _, hv := range hostileViews {
		v := hv.view
		if len(v) > 0 && containsVerb(v) {
			v = fmt.Sprintf(v, 100, 101, 136000, 135999)
		}
		f.Add([]byte(`{"type":"result","view":`+v+`}`), uint64(100), false, true)
	}
	f.Add([]byte(honestResult(fin{SentFrames: 100}, 1360)), uint64(100), true, true)
	f.Add([]byte(`{"type":"result","view":{"received":10,"unique":10,"lost":90,"body_bytes":13600,"span_ns":1000000,"jitter":{"samples":9,"mean_ms":0.1,"max_ms":0.5,"last_ms":0.2},"intervals":[{"start_s":0,"end_s":0.1,"frames":10,"goodput_bps":1000}]}}`), uint64(100), false, true)
	f.Fuzz(func(t *testing.T, msg []byte, sent uint64, tcp, throughput bool) {
		sent %= 1 << 32 // the client's own count: at most billions
		var r result
		if json.Unmarshal(msg, &r) != nil {
			return
		}
		spec := TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: time.Second, Size: 1400, Interval: 100 * time.Millisecond}
		if tcp {
			spec.Proto = ProtoTCP
		}
		if throughput {
			spec.Test = TestThroughput
		}
		now := time.Now()
		win := window{spec: spec, sent: sent, elapsed: 2 * time.Second, from: now.Add(-2 * time.Second), to: now}
		if validateView(r.View, win) != nil {
			return
		}
		d := dataOutcome{sentFrames: sent, connectAt: win.from, finAt: now}
		d.send.Frames, d.send.Duration, d.send.Bytes = sent, time.Second, sent*1400
		d.pp.Sent, d.pp.Duration = sent, time.Second
		c := &Client{SameHost: true}
		var res Result
		c.merge(&res, spec, welcome{Cookie: 1}, d, r.View, true)
		checkSane(t, res)
		if res.ReceivedFrames > 2*max(sent, 1) && sent < 1<<62 {
			t.Errorf("received %d of %d sent", res.ReceivedFrames, sent)
		}
	})
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == '[' {
			return true
		}
	}
	return false
}
