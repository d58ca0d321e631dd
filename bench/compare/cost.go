//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/report"
	"github.com/shirou/gopsutil/v4/process"
)

// Cost: CPU time per byte moved, and how long a port check of the whole
// unprivileged range takes (issue 14, item 2).

// The UDP CPU comparison runs both tools at this fixed rate, with 1472-byte
// datagrams: the same work on both sides, below what the loopback carries so
// that neither loses much (a --bitrate max search would spend CPU on trials
// the result's bytes do not count).
const (
	udpCPURate     = "1G"
	udpCPURateName = "1 Gbit/s"
)

// portRange is what the port check rows check, and portCheckMax the target.
const (
	portRange    = "1024-65535"
	portCheckMax = 2.0 // seconds
)

// usage is the CPU time a measurement took: the client's from the kernel's
// rusage of the child, the server's as the growth of its CPU times (from
// /proc/PID/stat) over the run. serverErr says why the server's is unknown.
type usage struct {
	client, server time.Duration
	serverErr      error
}

// cpuSample is one CPU per GB sample's parts.
type cpuSample struct {
	ClientS float64 `json:"client_cpu_s"`
	ServerS float64 `json:"server_cpu_s"`
	Bytes   uint64  `json:"bytes"` // received by the receiver's application
}

// perGB is the sample's CPU seconds, client and server, per 10^9 bytes.
func (s cpuSample) perGB() float64 { return (s.ClientS + s.ServerS) / (float64(s.Bytes) / 1e9) }

// execServed runs a client of the server named server (as serverSet knows
// it) and returns its stdout and the CPU time of both ends.
func (c *comparison) execServed(ctx context.Context, server, name string, args ...string) ([]byte, usage, error) {
	before, berr := c.serverCPU(server)
	r, err := c.execTimed(ctx, name, args...)
	after, aerr := c.serverCPU(server)
	u := usage{client: r.cpu, server: after - before, serverErr: firstErr(berr, aerr)}
	return r.out, u, err
}

func (c *comparison) serverCPU(name string) (time.Duration, error) {
	if c.servers == nil {
		return 0, errors.New("no servers")
	}
	return c.servers.cpuTime(name)
}

// takeCPU records a netduel result's CPU per GB: the bytes are the frames
// the receiver took in, whole (header included, as iperf3 counts its own).
func (c *comparison) takeCPU(id int) take {
	return func(r *netduelResult, u usage) error {
		if err := c.addCPU(id, true, u, r.ReceivedFrames*uint64(r.Size)); err != nil {
			return fmt.Errorf("%s: %w", c.metrics[id].Name, err)
		}
		if k, ok := duel.LookupKind(r.Proto, r.Test); ok && k.Has(duel.FigPacing) {
			m := c.metrics[id]
			m.NetduelLossPct = append(m.NetduelLossPct, r.LostPct)
		}
		return nil
	}
}

// addCPU records a CPU per GB sample for netduel or the competitor.
func (c *comparison) addCPU(id int, netduel bool, u usage, bytes uint64) error {
	if u.serverErr != nil {
		return fmt.Errorf("the server's CPU time: %w", u.serverErr)
	}
	if bytes == 0 {
		return errors.New("no bytes received: no CPU per GB")
	}
	s := cpuSample{ClientS: u.client.Seconds(), ServerS: u.server.Seconds(), Bytes: bytes}
	c.add(id, netduel, s.perGB())
	m := c.metrics[id]
	if netduel {
		m.NetduelCPU = append(m.NetduelCPU, s)
	} else {
		m.CompetitorCPU = append(m.CompetitorCPU, s)
	}
	return nil
}

// cpuText is " (client 0.4 + server 0.5)" from the medians of the samples'
// parts per GB, or "".
func cpuText(samples []cpuSample) string {
	if len(samples) == 0 {
		return ""
	}
	var cl, sv []float64
	for _, s := range samples {
		gb := float64(s.Bytes) / 1e9
		cl = append(cl, s.ClientS/gb)
		sv = append(sv, s.ServerS/gb)
	}
	mc, _ := median(cl)
	ms, _ := median(sv)
	return fmt.Sprintf(" (client %.2f + server %.2f)", mc, ms)
}

// procCPU is the user + system CPU time process pid has used (gopsutil:
// /proc/PID/stat on Linux).
func procCPU(pid int) (time.Duration, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, err
	}
	t, err := p.Times()
	if err != nil {
		return 0, err
	}
	return time.Duration((t.User + t.System) * float64(time.Second)), nil
}

// cpuTime is the user + system CPU time the server named name has used.
func (s *serverSet) cpuTime(name string) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.name == name {
			return procCPU(p.cmd.Process.Pid)
		}
	}
	return 0, fmt.Errorf("no server %q", name)
}

// portCheckMetrics are the port check rows, one per output format, with an
// absolute target: under 2 s.
func portCheckMetrics() []*Metric {
	var ms []*Metric
	for _, f := range report.Formats {
		ms = append(ms, &Metric{Name: "port check " + portRange + ", -o " + f, Unit: "s", TargetOp: "<=", TargetValue: portCheckMax})
	}
	return ms
}

// portCheckSteps time 'netduel port check 1024-65535 -o F' for each format,
// each a group of one step: its wall time, process start to exit, with the
// whole report written (to a pipe this program reads).
func (c *comparison) portCheckSteps() [][]step {
	var groups [][]step
	for i, f := range report.Formats {
		id := nMetrics + i
		groups = append(groups, []step{{tool: "netduel", what: "port check " + portRange + " -o " + f, run: func(ctx context.Context) error {
			var out drain
			r, err := c.execTimedTo(ctx, &out, c.bin, "port", "check", portRange, "-o", f)
			// Exit 1: a port in the range is taken, which a busy host has.
			var ee *exec.ExitError
			if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
				return err
			}
			if err := out.complete(); err != nil {
				return err
			}
			c.add(id, true, r.wall.Seconds())
			return nil
		}}})
	}
	return groups
}

// drain reads a command's whole stdout and keeps only its size and its last
// byte, as 'cat > /dev/null' would: a full-range port check writes 100 MB of
// JSON, and keeping it (a buffer doubling to 128 MB) took this process's CPU
// from the check's two: medians of 4 full-range JSON checks, 2.0 s kept
// against 1.5 s read and dropped (1.7 against 1.3 s with collections held).
type drain struct {
	n    int64
	last byte
}

func (d *drain) Write(p []byte) (int, error) {
	if len(p) > 0 {
		d.n += int64(len(p))
		d.last = p[len(p)-1]
	}
	return len(p), nil
}

// complete says why the output is no whole report: none, or cut short (every
// format ends with a newline).
func (d *drain) complete() error {
	switch {
	case d.n == 0:
		return errors.New("no output")
	case d.last != '\n':
		return fmt.Errorf("the report was cut short (%d bytes, no final newline)", d.n)
	}
	return nil
}
