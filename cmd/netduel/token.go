package main

import (
	"os"

	"github.com/urfave/cli/v2"
)

// tokenEnv names the environment variable that can hold the shared token, so
// that it need not appear in a process listing.
const tokenEnv = "NETDUEL_TOKEN"

// tokenFlag is --token, for serve and run alike.
func tokenFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "token", EnvVars: []string{tokenEnv}, Usage: usage}
}

// parseToken returns the --token value (or NETDUEL_TOKEN's). An empty value
// given explicitly is bad input.
func parseToken(c *cli.Context) (string, error) {
	t := c.String("token")
	if c.IsSet("token") && t == "" {
		if _, fromEnv := os.LookupEnv(tokenEnv); fromEnv && os.Getenv(tokenEnv) == "" {
			return "", nil // an empty NETDUEL_TOKEN means none
		}
		return "", usageErrorf("--token '': want a shared secret (e.g. from 'openssl rand -hex 16'), or leave the flag out")
	}
	return t, nil
}
