package main

import "github.com/urfave/cli/v2"

// Placeholder: the port helper replaces this file.
func portCommand() *cli.Command { return &cli.Command{Name: "port"} }
