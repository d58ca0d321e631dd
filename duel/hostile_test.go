package duel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// fakeServer is a hostile server on loopback: it speaks the control protocol
// with a welcome and a result of the test's choosing, and swallows data on
// its TCP and UDP port (the same number, as a real server's).
type fakeServer struct {
	ln   net.Listener
	pc   net.PacketConn
	port int
	// welcome returns the welcome's JSON for a hello; result the result's for
	// a fin, given the body length of the hello's frames.
	welcome func(port int) string
	result  func(f fin, body int) string
	data    atomic.Uint64 // data bytes received, TCP and UDP
	noRead  bool          // TCP data connections are never read (set before the client starts)
	quit    chan struct{} // closed when the test ends
	wg      sync.WaitGroup
}

func startFake(t *testing.T, welcome func(port int) string, result func(f fin, body int) string) *fakeServer {
	t.Helper()
	fs := &fakeServer{welcome: welcome, result: result, quit: make(chan struct{})}
	fs.ln, fs.pc = listenBoth(t)
	fs.port = fs.ln.Addr().(*net.TCPAddr).Port
	fs.wg.Add(2)
	go func() {
		defer fs.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, _, err := fs.pc.ReadFrom(buf)
			if err != nil {
				return
			}
			fs.data.Add(uint64(n))
		}
	}()
	go func() {
		defer fs.wg.Done()
		for {
			conn, err := fs.ln.Accept()
			if err != nil {
				return
			}
			fs.wg.Add(1)
			go func() {
				defer fs.wg.Done()
				defer conn.Close()
				fs.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() { close(fs.quit); fs.ln.Close(); fs.pc.Close(); fs.wg.Wait() })
	return fs
}

// listenBoth binds TCP and UDP on the same loopback port number.
func listenBoth(t *testing.T) (net.Listener, net.PacketConn) {
	t.Helper()
	for i := 0; i < 20; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			return ln, pc
		}
		ln.Close()
	}
	t.Fatal("no port free for both TCP and UDP")
	return nil, nil
}

func (fs *fakeServer) addr() string { return "127.0.0.1:" + strconv.Itoa(fs.port) }

func (fs *fakeServer) serve(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	rd := frame.NewReader(conn, frame.MaxFrameSize)
	h, body, err := rd.Next()
	if err != nil {
		return
	}
	var hl hello
	_ = json.Unmarshal(body, &hl)
	if h.Cookie != 0 { // a data connection: swallow it
		if fs.noRead {
			<-fs.quit // holds the connection, unread, until the test ends
			return
		}
		n, _ := io.Copy(io.Discard, conn)
		fs.data.Add(uint64(n))
		return
	}
	if writeRaw(conn, fs.welcome(fs.port)) != nil {
		return
	}
	var f fin
	if _, err := readControl(rd, msgFin, &f); err != nil {
		return
	}
	_ = writeRaw(conn, fs.result(f, max(hl.Test.Size-frame.HeaderLen, 0)))
}

// writeRaw sends a control frame whose body is the JSON text given.
func writeRaw(conn net.Conn, body string) error {
	buf := make([]byte, frame.HeaderLen+len(body))
	if _, err := frame.Encode(buf, frame.Header{Type: frame.TypeControl, Cookie: 7}, []byte(body)); err != nil {
		return err
	}
	_, err := conn.Write(buf)
	return err
}

func welcomeJSON(port int) string {
	return fmt.Sprintf(`{"type":"welcome","cookie":7,"port":%d,"max_frame":4194304,"setup":{}}`, port)
}

// honestResult is what a real server answers when every frame (of body
// bytes each) arrived.
func honestResult(f fin, body int) string {
	return fmt.Sprintf(`{"type":"result","view":{"received":%d,"unique":%d,"requests":%d,"echoed":%d,"body_bytes":%d}}`, f.SentFrames, f.SentFrames, f.SentFrames, f.SentFrames, f.SentFrames*uint64(body))
}

// byteCounter is a third party on loopback: TCP and UDP on one port, counting
// every byte that reaches it.
type byteCounter struct {
	ln    net.Listener
	pc    net.PacketConn
	bytes atomic.Uint64
	conns atomic.Uint64
	wg    sync.WaitGroup
}

func startCounter(t *testing.T) *byteCounter {
	bc := &byteCounter{}
	bc.ln, bc.pc = listenBoth(t)
	bc.wg.Add(2)
	go func() {
		defer bc.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, _, err := bc.pc.ReadFrom(buf)
			if err != nil {
				return
			}
			bc.bytes.Add(uint64(n))
		}
	}()
	go func() {
		defer bc.wg.Done()
		for {
			conn, err := bc.ln.Accept()
			if err != nil {
				return
			}
			bc.conns.Add(1)
			n, _ := io.Copy(io.Discard, conn)
			bc.bytes.Add(uint64(n))
			conn.Close()
		}
	}()
	t.Cleanup(func() { bc.ln.Close(); bc.pc.Close(); bc.wg.Wait() })
	return bc
}

func (bc *byteCounter) port() int { return bc.ln.Addr().(*net.TCPAddr).Port }

// TestRedirectingWelcomeRefused: a server whose welcome names a third party's
// port must not get the client's data sent there (it got 398 MB in 2 s).
func TestRedirectingWelcomeRefused(t *testing.T) {
	t.Parallel()
	for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
		t.Run(string(proto), func(t *testing.T) {
			t.Parallel()
			victim := startCounter(t)
			fs := startFake(t, func(int) string { return welcomeJSON(victim.port()) }, honestResult)
			c := &Client{Server: fs.addr(), Settle: 10 * time.Millisecond}
			spec := TestSpec{Proto: proto, Test: TestThroughput, Duration: 300 * time.Millisecond, Size: DefaultSize(proto, TestThroughput)}
			_, err := c.RunTest(context.Background(), spec)
			var be *BadServerError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), strconv.Itoa(victim.port())) {
				t.Fatalf("err = %v, want a BadServerError naming port %d", err, victim.port())
			}
			time.Sleep(50 * time.Millisecond) // anything in flight lands
			if n, k := victim.bytes.Load(), victim.conns.Load(); n != 0 || k != 0 {
				t.Errorf("the third port got %d bytes on %d connections, want 0", n, k)
			}
			if n := fs.data.Load(); n != 0 {
				t.Errorf("the refused server got %d data bytes, want 0", n)
			}
		})
	}
}

// TestWelcomeChecks: a welcome must carry a cookie and sane setup times.
func TestWelcomeChecks(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"no cookie":         `{"type":"welcome","cookie":0,"port":%d}`,
		"negative bind":     `{"type":"welcome","cookie":7,"port":%d,"setup":{"tcp_bind_us":-1e308}}`,
		"huge listen":       `{"type":"welcome","cookie":7,"port":%d,"setup":{"tcp_listen_us":1e300}}`,
		"port out of range": `{"type":"welcome","cookie":7,"port":%d99999}`,
	}
	for name, tmpl := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := startFake(t, func(p int) string { return fmt.Sprintf(tmpl, p) }, honestResult)
			c := &Client{Server: fs.addr()}
			_, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 200 * time.Millisecond, Size: 64})
			if !errors.As(err, new(*BadServerError)) {
				t.Fatalf("err = %v, want a BadServerError", err)
			}
			if n := fs.data.Load(); n != 0 {
				t.Errorf("%d data bytes sent after a bad welcome", n)
			}
		})
	}
}

const maxU64 = "18446744073709551615"

// hostileViews are server results that cannot be true, as JSON views for a
// fin of f.SentFrames frames.
var hostileViews = []struct {
	name, view string
}{
	{"counts 2^64-1", `{"received":` + maxU64 + `,"unique":` + maxU64 + `,"lost":` + maxU64 + `}`},
	{"received over sent", `{"received":%[2]d,"unique":%[2]d}`},
	{"lost inconsistent", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"lost":5}`},
	{"duplicates not in received", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"duplicate":3}`},
	{"corrupt 2^64-1", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"corrupt":` + maxU64 + `}`},
	{"reordered over unique", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"reordered":%[2]d}`},
	{"jitter max -1e308", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"jitter":{"samples":3,"mean_ms":0,"max_ms":-1e308,"last_ms":0}}`},
	{"jitter mean over max", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"jitter":{"mean_ms":5,"max_ms":1}}`},
	{"jitter of a year", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"jitter":{"mean_ms":1,"max_ms":3.1e10}}`},
	{"span negative", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"span_ns":-5}`},
	{"span of a year", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"span_ns":31536000000000000}`},
	{"body bytes 2^64-1", `{"received":%[1]d,"unique":%[1]d,"body_bytes":` + maxU64 + `}`},
	{"body bytes zero", `{"received":%[1]d,"unique":%[1]d,"body_bytes":0}`},
	{"body bytes one short", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[4]d}`},
	{"accept in 2100", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"accept_unix_ns":4102444800000000000}`},
	{"first before 1970", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"first_unix_ns":-1}`},
	{"intervals not asked for", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"intervals":[{"start_s":0,"end_s":0.1,"frames":1}]}`},
	{"interval at 1e308", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"intervals":[{"start_s":1e308,"end_s":1e308,"frames":1}]}`},
	{"interval goodput -1e308", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"intervals":[{"start_s":0,"end_s":0.1,"frames":1,"goodput_bps":-1e308}]}`},
	{"wait unknown", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"wait":"\u001b[31mteleport"}`},
	{"too many intervals", `{"received":%[1]d,"unique":%[1]d,"body_bytes":%[3]d,"intervals":[` + strings.Repeat(`{"start_s":0,"end_s":0.1},`, 40) + `{}]}`},
}

// TestHostileServerReports: a server's impossible figures mark the result as
// an error and none of them reaches the result (the client printed received =
// lost = 2^64-1 > sent and jitter max -1e308 as they came).
func TestHostileServerReports(t *testing.T) {
	t.Parallel()
	for _, hv := range hostileViews {
		for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
			if proto == ProtoTCP && strings.Contains(hv.name, "jitter") {
				continue // TCP results show no jitter; the check is the same code
			}
			t.Run(string(proto)+"/"+hv.name, func(t *testing.T) {
				t.Parallel()
				fs := startFake(t, welcomeJSON, func(f fin, body int) string {
					v := hv.view
					if strings.Contains(v, "%") {
						all := f.SentFrames * uint64(body)
						v = fmt.Sprintf(v, f.SentFrames, f.SentFrames+1, all, all-1)
					}
					return `{"type":"result","view":` + v + `}`
				})
				c := &Client{Server: fs.addr(), SameHost: true, Settle: 10 * time.Millisecond}
				spec := TestSpec{Proto: proto, Test: TestThroughput, Duration: 200 * time.Millisecond, Size: 1400, Bitrate: 10e6}
				if strings.Contains(hv.name, "interval") && hv.name != "intervals not asked for" {
					spec.Interval = 100 * time.Millisecond
				}
				r, err := c.RunTest(context.Background(), spec)
				if err != nil {
					t.Fatalf("RunTest: %v", err)
				}
				checkHostileRejected(t, r)
				checkSane(t, r)
			})
		}
	}
}

// checkHostileRejected checks a result of TestHostileServerReports: marked as
// an error for the server's inconsistent report, with none of the server's
// figures in it.
func checkHostileRejected(t *testing.T, r Result) {
	t.Helper()
	if !strings.Contains(r.Error, "inconsistent") {
		t.Fatalf("result error %q, want the report called inconsistent", r.Error)
	}
	if r.SentFrames == 0 {
		t.Fatal("nothing sent: the check compared nothing")
	}
	if r.ReceivedFrames != 0 || r.LostFrames != 0 || r.CorruptFrames != 0 || r.DuplicateFrames != 0 || r.ReorderedFrames != 0 ||
		len(r.Intervals) != 0 || r.Lifecycle.AcceptUS != nil || r.Lifecycle.FirstByteUS != nil {
		t.Errorf("the server's figures reached the result: %+v", r)
	}
	if r.Jitter != nil {
		t.Errorf("jitter %+v from an inconsistent report", *r.Jitter)
	}
	if r.Extent != ClientOnly {
		t.Errorf("extent %d, want ClientOnly: the server's counts are not known", r.Extent)
	}
}

// TestHonestFakeAccepted: the fake with an honest answer passes the checks,
// so the hostile cases fail for their figures, not for the fake.
func TestHonestFakeAccepted(t *testing.T) {
	t.Parallel()
	for _, proto := range []Proto{ProtoTCP, ProtoUDP} {
		for _, test := range []Test{TestThroughput, TestLatency} {
			t.Run(string(proto)+"/"+string(test), func(t *testing.T) {
				t.Parallel()
				fs := startFake(t, welcomeJSON, honestResult)
				c := &Client{Server: fs.addr(), SameHost: true, Settle: 10 * time.Millisecond}
				spec := TestSpec{Proto: proto, Test: test, Duration: 200 * time.Millisecond, Size: DefaultSize(proto, test), Bitrate: 10e6}
				r, err := c.RunTest(context.Background(), spec)
				if err != nil {
					t.Fatalf("RunTest: %v", err)
				}
				if test == TestThroughput && r.Error != "" {
					t.Fatalf("result error %q from an honest report", r.Error)
				}
				checkSane(t, r)
			})
		}
	}
}

// TestServerErrorTextCleaned: a server's error text reaches the result
// without terminal escapes or line breaks, and cut short.
func TestServerErrorTextCleaned(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 5000)
	fs := startFake(t, welcomeJSON, func(f fin, body int) string {
		return fmt.Sprintf(`{"type":"result","view":{"received":%d,"unique":%d,"body_bytes":%d,"error":"\u001b[2J\nboom\r%s"}}`, f.SentFrames, f.SentFrames, f.SentFrames*uint64(body), long)
	})
	c := &Client{Server: fs.addr(), Settle: 10 * time.Millisecond}
	r, err := c.RunTest(context.Background(), TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: 100 * time.Millisecond, Size: 200, Bitrate: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.Error, "\x1b\n\r") || len(r.Error) > 2*maxServerError || !strings.Contains(r.Error, "boom") {
		t.Errorf("result error %.120q: want the text without control characters, at most ~%d bytes", r.Error, maxServerError)
	}
}

// checkSane asserts a result's promises: no NaN or Inf, counts within what
// was sent.
func checkSane(t *testing.T, r Result) {
	t.Helper()
	fs := []float64{r.DurationS, r.LostPct, r.GoodputBps}
	for _, p := range []*float64{r.OfferedBps, r.RequestedBps} {
		if p != nil {
			fs = append(fs, *p)
		}
	}
	if r.Jitter != nil {
		fs = append(fs, r.Jitter.MeanMs, r.Jitter.MaxMs, r.Jitter.LastMs)
	}
	for _, iv := range r.Intervals {
		fs = append(fs, iv.StartS, iv.EndS, iv.GoodputBps, iv.RTTP50US, iv.RTTP99US)
		if iv.JitterMs != nil {
			fs = append(fs, *iv.JitterMs)
		}
	}
	l := r.Lifecycle
	for _, p := range []*float64{l.SocketUS, l.BindUS, l.ListenUS, l.ConnectUS, l.AcceptUS, l.FirstByteUS, l.CloseUS, l.PeerSawCloseUS} {
		if p != nil {
			fs = append(fs, *p)
		}
	}
	for i, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
			t.Errorf("figure %d = %g: want finite, 0..1e15", i, f)
		}
	}
	if r.LostFrames > r.SentFrames || r.LostPct > 100 {
		t.Errorf("lost %d of %d (%g%%)", r.LostFrames, r.SentFrames, r.LostPct)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("the result does not encode: %v", err)
	}
}

// TestControlTimeoutAdapts: control deadlines grow with the path's connect
// time (a lossy or long path backs TCP's retransmissions off), within bounds.
func TestControlTimeoutAdapts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, connect, want time.Duration }{
		{10 * time.Second, 0, 12600 * time.Millisecond},
		{10 * time.Second, time.Millisecond, 12600 * time.Millisecond},
		{20 * time.Second, time.Millisecond, 20 * time.Second},
		{10 * time.Second, time.Second, 63 * time.Second},
		{10 * time.Second, 10 * time.Second, 2 * time.Minute},
	} {
		if got := controlTimeout(tc.base, tc.connect); got != tc.want {
			t.Errorf("controlTimeout(%v, %v) = %v, want %v", tc.base, tc.connect, got, tc.want)
		}
	}
}

// TestServerThatStopsReading: a server that never reads the TCP data
// connection ends the test in bounded time (its duration and twice the
// server's idle timeout) with the reason, for a throughput stream and for a
// latency request too large for the socket buffers (the client waited for
// ever in its write).
func TestServerThatStopsReading(t *testing.T) {
	t.Parallel()
	for _, test := range []Test{TestThroughput, TestLatency} {
		t.Run(string(test), func(t *testing.T) {
			t.Parallel()
			fs := startFake(t, func(p int) string {
				return fmt.Sprintf(`{"type":"welcome","cookie":7,"port":%d,"max_frame":4194304,"setup":{},"idle_ns":100000000}`, p)
			}, honestResult)
			fs.noRead = true
			c := &Client{Server: fs.addr(), Settle: 10 * time.Millisecond}
			spec := TestSpec{Proto: ProtoTCP, Test: test, Duration: 200 * time.Millisecond, Size: DefaultSize(ProtoTCP, test)}
			if test == TestLatency {
				spec.Size = 4 << 20
			}
			// Without the bound the write waited for ever: the context ends
			// it here, so the old code fails instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			began := time.Now()
			r, err := c.RunTest(ctx, spec)
			took := time.Since(began)
			if err != nil {
				t.Fatalf("RunTest: %v", err)
			}
			if !strings.Contains(r.Error, "stopped taking data") {
				t.Fatalf("result error %q, want the server's stall named", r.Error)
			}
			if took > 5*time.Second {
				t.Fatalf("the test took %v: want its 200ms and the 200ms grace, and the fin's wait", took)
			}
			t.Logf("ended after %v: %s", took, r.Error)
		})
	}
}
