package duel

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
)

// The client faces an untrusted server (DESIGN §4): it sends data only to the
// control connection's address and port, and checks every figure the server
// reports before a report shows it. A figure that cannot be true marks the
// result as an error, and none of the server's counters is kept.

// BadServerError says the server broke the protocol in a way that could misuse
// the client (a welcome naming another port, say): the run stops.
type BadServerError struct {
	Addr string
	Err  error
}

func (e *BadServerError) Error() string {
	return fmt.Sprintf("server %s refused as hostile or broken: %v", e.Addr, e.Err)
}

func (e *BadServerError) Unwrap() error { return e.Err }

// maxSetupUS bounds a server's reported socket set-up times (a minute).
const maxSetupUS = 60e6

// checkWelcome checks a welcome against the control connection's remote
// address: data goes to that address and port number, and to nothing else.
func checkWelcome(w welcome, server netip.AddrPort) error {
	if w.Cookie == 0 {
		return errors.New("the welcome has no session cookie")
	}
	if w.Port != int(server.Port()) {
		return fmt.Errorf("the welcome names port %d for data, not the control connection's port %d; "+
			"a server may not aim this client's traffic anywhere else", w.Port, server.Port())
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"tcp_socket_us", w.Setup.TCPSocketUS}, {"tcp_bind_us", w.Setup.TCPBindUS}, {"tcp_listen_us", w.Setup.TCPListenUS},
		{"udp_socket_us", w.Setup.UDPSocketUS}, {"udp_bind_us", w.Setup.UDPBindUS},
	} {
		if !inRange(f.v, 0, maxSetupUS) {
			return fmt.Errorf("the welcome's setup.%s = %g is not a time from 0 to %g µs", f.name, f.v, maxSetupUS)
		}
	}
	return nil
}

// window is what the client knows for certain about a test, to check the
// server's figures against.
type window struct {
	spec    TestSpec
	sent    uint64        // frames the client sent
	elapsed time.Duration // from the hello to the server's result, on the client's clock
	// from and to bound the test on the client's wall clock, when the server
	// shares it (SameHost); zero otherwise.
	from, to time.Time
}

// clockSlack is how far a same-host server's timestamps may stray outside the
// client's window (clock reads on either side of a syscall).
const clockSlack = time.Second

// validateView checks the server's receiver-side view of a test against what
// the client knows. It returns the first figure that cannot be true.
func validateView(v ServerView, win window) error {
	switch v.Wait {
	case "", stack.WaitBlocking, stack.WaitBusyPoll, stack.WaitNetpoller:
	default:
		return fmt.Errorf("wait %q is none of %s, %s, %s", cleanServerText(v.Wait), stack.WaitBlocking, stack.WaitBusyPoll, stack.WaitNetpoller)
	}
	// Time spans: nothing the server saw can last longer than the client waited.
	maxSpan := win.elapsed + win.elapsed/100 + clockSlack
	if v.Span < 0 || v.Span > maxSpan {
		return fmt.Errorf("span_ns %d is outside 0..%d (the test lasted %v on this side)", int64(v.Span), int64(maxSpan), win.elapsed)
	}
	if !win.from.IsZero() {
		lo, hi := win.from.Add(-clockSlack).UnixNano(), win.to.Add(clockSlack).UnixNano()
		for _, t := range []struct {
			name string
			ns   int64
		}{{"accept_unix_ns", v.AcceptUnixNs}, {"first_unix_ns", v.FirstUnixNs}, {"closed_unix_ns", v.ClosedUnixNs}} {
			if t.ns != 0 && (t.ns < lo || t.ns > hi) {
				return fmt.Errorf("%s %d is outside the test (%d..%d on this host's clock)", t.name, t.ns, lo, hi)
			}
		}
	}
	k := win.spec.Kind()
	if k == nil {
		return fmt.Errorf("no %s test", win.spec)
	}
	return k.half.check(v, win)
}

// maxCopies is twice n, saturating.
func maxCopies(n uint64) uint64 {
	if n > math.MaxUint64/2 {
		return math.MaxUint64
	}
	return 2 * n
}

func checkJitter(j stats.JitterSummary, elapsed time.Duration) error {
	maxMs := float64(elapsed) / float64(time.Millisecond)
	if !inRange(j.MaxMs, 0, maxMs) || !inRange(j.MeanMs, 0, j.MaxMs) || !inRange(j.LastMs, 0, j.MaxMs) {
		return fmt.Errorf("jitter mean %g, max %g, last %g ms: want 0 <= mean, last <= max <= %g", j.MeanMs, j.MaxMs, j.LastMs, maxMs)
	}
	return nil
}

// checkIntervals checks the server's per-interval figures: the intervals the
// spec asked for, in order, each within what the whole run counted.
func checkIntervals(ivs []stats.Interval, v ServerView, win window, body uint64) error {
	spec := win.spec
	if len(ivs) == 0 {
		return nil
	}
	if spec.Interval <= 0 {
		return fmt.Errorf("%d intervals reported, none asked for", len(ivs))
	}
	// At most the ceiling: servers before stats.IntervalCount added a
	// sliver interval where the duration was a few ns over a multiple.
	n := min(int((spec.Duration+spec.Interval-1)/spec.Interval), stats.MaxIntervals)
	if len(ivs) > n {
		return fmt.Errorf("%d intervals reported, at most %d asked for", len(ivs), n)
	}
	every := spec.Interval.Seconds()
	eps := every * 1e-6
	maxMs := float64(win.elapsed) / float64(time.Millisecond)
	// Goodput counts verified body bytes where they arrived (a TCP frame's
	// bytes can fall in the interval before the one that completes it), so
	// the bound is on the whole run: the intervals' bytes add up to no more
	// than the frames received, plus one frame in flight at the end.
	maxBits := float64(v.Received+1) * float64(body) * 8 * (1 + 1e-9)
	var frames uint64
	var bits float64
	for i, iv := range ivs {
		start := float64(i) * every
		end := start + every
		// The last interval stretches to the run's stragglers, at most to
		// the end of the exchange.
		endOK := inRange(iv.EndS, end-eps, end+eps)
		if i == len(ivs)-1 {
			endOK = inRange(iv.EndS, end-eps, max(end, maxMs/1000)+eps)
		}
		switch {
		case !inRange(iv.StartS, start-eps, start+eps) || !endOK:
			return fmt.Errorf("interval %d spans %g..%g s, want %g..%g s", i, iv.StartS, iv.EndS, start, end)
		case iv.Frames > v.Received || iv.Lost > win.sent:
			return fmt.Errorf("interval %d: %d frames, %d lost, beyond the run's %d received of %d sent", i, iv.Frames, iv.Lost, v.Received, win.sent)
		case !inRange(iv.GoodputBps, 0, maxBits/(iv.EndS-iv.StartS)):
			return fmt.Errorf("interval %d: goodput %g bit/s, more than the run's %d frames could carry", i, iv.GoodputBps, v.Received)
		case iv.LastS != nil && (i != len(ivs)-1 || !inRange(*iv.LastS, 0, iv.EndS+eps)):
			return fmt.Errorf("interval %d: last arrival at %g s, outside the run's last interval (%g..%g s)", i, *iv.LastS, iv.StartS, iv.EndS)
		case iv.JitterMs != nil && spec.Proto == ProtoTCP:
			return fmt.Errorf("interval %d: jitter %g ms of a stream (jitter is UDP's)", i, *iv.JitterMs)
		case iv.JitterMs != nil && !inRange(*iv.JitterMs, 0, maxMs) || !inRange(iv.RTTP50US, 0, maxMs*1000) || !inRange(iv.RTTP99US, 0, maxMs*1000):
			return fmt.Errorf("interval %d: jitter %s ms, rtt p50 %g, p99 %g µs", i, jitterText(iv.JitterMs), iv.RTTP50US, iv.RTTP99US)
		}
		frames += iv.Frames
		bits += iv.GoodputBps * (iv.EndS - iv.StartS)
		if frames > v.Received {
			return fmt.Errorf("intervals hold %d frames or more, the run %d", frames, v.Received)
		}
		if bits > maxBits {
			return fmt.Errorf("intervals hold %.0f bytes or more, the run's %d frames %d", bits/8, v.Received, v.Received*body)
		}
	}
	return nil
}

// inRange says lo <= v <= hi, false for NaN.
func inRange(v, lo, hi float64) bool { return v >= lo && v <= hi }

// maxServerError bounds the server's error text shown in a result.
const maxServerError = 200

// cleanServerText makes a server's free text safe to print: control
// characters (terminal escapes, newlines) become spaces, and it is cut short.
func cleanServerText(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxServerError {
		cut := maxServerError
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// jitterText is an interval's jitter for an error message: "none" when absent.
func jitterText(j *float64) string {
	if j == nil {
		return "none"
	}
	return fmt.Sprint(*j)
}
