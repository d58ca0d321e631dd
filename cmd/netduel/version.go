package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version names this build in documents (netduel_version) and logs: the module
// version `go install ...@v1.2.0` recorded, or, for a build from a checkout,
// "devel" and the commit ("devel-0a1dc63e1f2a-dirty" with uncommitted changes).
var version, versionText = describeBuild(readBuildInfo())

func readBuildInfo() *debug.BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	return bi
}

// describeBuild returns the short version and the one line `netduel version` and
// `netduel --version` print: the version, the commit with its time and whether
// the tree had local changes, the Go version and the platform. All of it comes
// from the build info the Go toolchain embeds (go version -m shows it).
func describeBuild(bi *debug.BuildInfo) (short, line string) {
	short, goVersion := "devel", runtime.Version()
	var rev, when string
	dirty := false
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			short = v
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if short == "devel" && rev != "" {
		short += "-" + rev[:min(12, len(rev))]
		if dirty {
			short += "-dirty"
		}
	}
	var vcs []string
	if rev != "" {
		vcs = append(vcs, "commit "+rev)
		if when != "" {
			vcs = append(vcs, when)
		}
		if dirty {
			vcs = append(vcs, "with uncommitted changes")
		}
	} else {
		vcs = append(vcs, "no commit recorded: built outside a git checkout or with -buildvcs=false")
	}
	line = fmt.Sprintf("netduel %s (%s) %s %s/%s", short, strings.Join(vcs, ", "), goVersion, runtime.GOOS, runtime.GOARCH)
	return short, line
}

func init() {
	// --version prints what the version command prints.
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintln(c.App.Writer, versionText) }
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, commit and Go version of this build",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unexpected argument %q: version takes none", c.Args().First())
			}
			fmt.Fprintln(c.App.Writer, versionText)
			return nil
		},
	}
}
