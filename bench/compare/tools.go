//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tools: iperf3 and sockperf from apt-get, netduel from the repository.

// ensureTools installs iperf3 and sockperf with apt-get when they are missing.
func ensureTools(ctx context.Context, logf func(string, ...any), stderr io.Writer) error {
	var missing []string
	for _, t := range []string{"iperf3", "sockperf"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("%s missing and apt-get not found: install them with your package manager", strings.Join(missing, " and "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s missing, and installing with apt-get needs root: run 'sudo apt-get install -y %s', then run this again", strings.Join(missing, " and "), strings.Join(missing, " "))
	}
	aptRun := func(args ...string) error {
		logf("apt-get %s", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		return cmd.Run()
	}
	install := append([]string{"install", "-y"}, missing...)
	if err := aptRun(install...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := aptRun("update"); err != nil {
			return fmt.Errorf("apt-get update: %w", err)
		}
		if err := aptRun(install...); err != nil {
			return fmt.Errorf("apt-get install %s: %w", strings.Join(missing, " "), err)
		}
	}
	for _, t := range missing {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s still missing after apt-get install", t)
		}
	}
	return nil
}

// buildNetduel builds ./cmd/netduel of the module the working directory is in.
func buildNetduel(ctx context.Context, dir string, logf func(string, ...any), stderr io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the netduel module: run from the repository, or pass --netduel-bin")
	}
	bin := filepath.Join(dir, "netduel")
	logf("go build -o %s ./cmd/netduel", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/netduel")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building netduel: %w", err)
	}
	return bin, nil
}

// toolVersions returns each tool's version line.
func toolVersions(ctx context.Context, netduel string) map[string]string {
	v := map[string]string{}
	first := func(name string, args ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
		return firstLine(stripANSI(string(out)))
	}
	v["iperf3"] = first("iperf3", "--version")
	v["sockperf"] = strings.TrimPrefix(first("sockperf", "--version"), "sockperf, ")
	v["netduel"] = first(netduel, "version")
	return v
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
