package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// refuseEmpty refuses a flag given an empty value (an empty --size or --plot):
// it never means the default. Flags in skip (the link's, checked with their
// values in linkflags.go; --token, checked by parseToken) are left alone.
func refuseEmpty(c *cli.Context, flags []cli.Flag, skip map[string]bool) error {
	for _, f := range flags {
		names := f.Names()
		name := names[0]
		if skip[name] || !c.IsSet(name) {
			continue
		}
		var empty bool
		switch f.(type) {
		case *cli.StringFlag:
			empty = strings.TrimSpace(c.String(name)) == ""
		case *cli.StringSliceFlag:
			for _, v := range c.StringSlice(name) {
				empty = empty || strings.TrimSpace(v) == ""
			}
		}
		if empty {
			dash := "--"
			if len(name) == 1 {
				dash = "-"
			}
			return usageErrorf("%s%s is empty: give it a value, or leave the flag out for its default (see '%s --help')", dash, name, commandPath(c))
		}
	}
	return nil
}

// linkFlagSet are the emulated link's flags, whose values linkflags.go checks,
// and --token.
func linkFlagSet() map[string]bool {
	m := map[string]bool{"token": true}
	for _, f := range linkFlags() {
		m[f.Names()[0]] = true
	}
	return m
}
