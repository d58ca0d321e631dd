package main

import "github.com/urfave/cli/v2"

// Placeholder while the core is being written; replaced by the real run command.
func runCommand() *cli.Command { return &cli.Command{Name: "run", Flags: runFlags(), Action: runAction} }
func serveCommand() *cli.Command { return &cli.Command{Name: "serve"} }
func runFlags() []cli.Flag { return nil }
func runAction(c *cli.Context) error { return runtimeErrorf("not yet implemented") }
