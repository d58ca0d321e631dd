//go:build linux

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stack"
)

// rssKB reads a process's resident set size from /proc.
func rssKB(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkServe64Clients runs 'netduel serve' in a child process and 64
// clients at once against it (half TCP throughput, half UDP throughput at 20
// Mbit/s, 1 s each), and reports the server's peak resident memory (target:
// under 100 MB) and how many sessions succeeded.
func BenchmarkServe64Clients(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := netduelCmd("serve", "-q", "--listen", addr, "--max-clients-per-ip", "64") // every client is 127.0.0.1
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	peak := 0
	var ok, failed int
	for i := 0; i < b.N; i++ {
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				peak = max(peak, rssKB(srv.Process.Pid))
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for c := 0; c < 64; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				spec := duel.TestSpec{Proto: duel.ProtoTCP, Test: duel.TestThroughput, Duration: time.Second, Size: 128 << 10}
				if c%2 == 1 {
					spec = duel.TestSpec{Proto: duel.ProtoUDP, Test: duel.TestThroughput, Duration: time.Second, Size: 1400, Bitrate: 20e6}
				}
				cl := &duel.Client{Network: &stack.OS{}, Server: addr, SameHost: true, Settle: 100 * time.Millisecond}
				r, err := cl.RunTest(context.Background(), spec)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || r.Error != "" || r.ReceivedFrames == 0 {
					failed++
					return
				}
				ok++
			}()
		}
		wg.Wait()
		close(stop)
		<-sampled
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(ok)/float64(b.N), "sessions-ok")
	b.ReportMetric(float64(failed)/float64(b.N), "sessions-failed")
}
