//go:build !linux

package main

import "github.com/urfave/cli/v2"

func emulateCommand() *cli.Command {
	return &cli.Command{
		Name:            "emulate",
		Usage:           "run any program across the emulated link (Linux only)",
		SkipFlagParsing: true,
		Action: func(*cli.Context) error {
			return runtimeErrorf("emulate runs programs in network namespaces, which only Linux has; 'netduel run --emulator netstack' works here")
		},
	}
}
