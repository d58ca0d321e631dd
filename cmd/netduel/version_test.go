package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionOneString: `netduel version` and `netduel --version` print the
// same line, with the Go version. Not parallel: urfave/cli's global help and
// version flags race when two apps run at once in one process.
func TestVersionOneString(t *testing.T) {
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("version prints %q, --version %q: want one string", outs[0], outs[1])
	}
	if !strings.HasPrefix(outs[0], "netduel "+version+" (") || !strings.Contains(outs[0], runtime.Version()) {
		t.Errorf("version line %q lacks the version %q or the Go version %s", outs[0], version, runtime.Version())
	}
}

func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := func(rev, when, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "0a1dc63e1f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c"
	cases := []struct {
		name        string
		bi          *debug.BuildInfo
		short, line string
	}{
		{"checkout, clean", &debug.BuildInfo{GoVersion: "go1.26.3", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-12-01T09:40:00Z", "false")},
			"devel-0a1dc63e1f2a", "netduel devel-0a1dc63e1f2a (commit " + rev + ", 2026-12-01T09:40:00Z) go1.26.3 " + platform},
		{"checkout, local changes", &debug.BuildInfo{GoVersion: "go1.26.3", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-12-01T09:40:00Z", "true")},
			"devel-0a1dc63e1f2a-dirty", "netduel devel-0a1dc63e1f2a-dirty (commit " + rev + ", 2026-12-01T09:40:00Z, with uncommitted changes) go1.26.3 " + platform},
		{"go install @v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.3", Main: debug.Module{Version: "v1.2.0"}},
			"v1.2.0", "netduel v1.2.0 (no commit recorded: built outside a git checkout or with -buildvcs=false) go1.26.3 " + platform},
		{"no build info", nil,
			"devel", "netduel devel (no commit recorded: built outside a git checkout or with -buildvcs=false) " + runtime.Version() + " " + platform},
	}
	for _, c := range cases {
		short, line := describeBuild(c.bi)
		if short != c.short || line != c.line {
			t.Errorf("%s:\n got %q, %q\nwant %q, %q", c.name, short, line, c.short, c.line)
		}
	}
}
