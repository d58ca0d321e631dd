// Command netduel compares TCP and UDP side by side over a real or emulated link,
// and diagnoses port conflicts. main only wires the CLI: the engines live in their
// own packages (see ../shared/DESIGN.md §2).
package main

import (
	"os"
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }
