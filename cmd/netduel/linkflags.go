package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// linkFlags are run's flags for the emulated link (DESIGN §6). Values are
// netem's, for one direction: netduel applies them in both.
func linkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "emulator", Value: link.Auto, Usage: "link backend: auto (tun where it can, else netstack), tun (kernel TCP, root), netstack (gVisor TCP), none (OS loopback, no impairment)"},
		&cli.StringFlag{Name: "profile", Usage: "preset link `NAME`: " + profileList()},
		&cli.StringFlag{Name: "loss", Usage: "random loss `PERCENT` per direction (5% or 5); a comma list sweeps"},
		&cli.StringFlag{Name: "loss-model", Usage: "netem loss `MODEL`: 'random P', 'state p13 [p31 [p32 [p23 [p14]]]]' or 'gemodel p [r [1-h [1-k]]]' (overrides --loss)"},
		&cli.StringFlag{Name: "delay", Usage: "delay `D` per direction (--delay 10ms adds 20ms to the round trip); a comma list sweeps"},
		&cli.DurationFlag{Name: "jitter", Usage: "delay variation `D` (needs --delay)"},
		&cli.StringFlag{Name: "distribution", Usage: "jitter distribution: uniform (default), normal, pareto, paretonormal"},
		&cli.StringFlag{Name: "reorder", Usage: "`PERCENT` of packets sent at once, ahead of delayed ones (needs --delay)"},
		&cli.IntFlag{Name: "reorder-gap", Usage: "netem's gap `N`: reorder every Nth packet"},
		&cli.StringFlag{Name: "duplicate", Usage: "`PERCENT` of packets duplicated"},
		&cli.StringFlag{Name: "corrupt", Usage: "`PERCENT` of packets with one bit flipped"},
		&cli.StringFlag{Name: "rate", Usage: "link `RATE` in bits/s with k/M/G suffixes (serialisation delay, drop-tail queue)"},
		&cli.IntFlag{Name: "queue", Usage: "queue limit in `PACKETS` (netem's limit; default 1000)"},
		&cli.Uint64Flag{Name: "seed", Usage: "random seed for a reproducible link (0 = random)"},
		&cli.StringFlag{Name: "cc", Value: "cubic", Usage: "TCP congestion control pinned on both ends (the machine's default may be bbr, which hides loss); netstack offers reno and cubic"},
	}
}

// profile is a preset link, with its netem equivalent.
type profile struct {
	name, netem, desc string
	cfg               impair.Config
}

var profiles = []profile{
	{"lan", "delay 100us 50us", "a wired LAN", impair.Config{Delay: 100 * time.Microsecond, Jitter: 50 * time.Microsecond}},
	{"wifi", "delay 3ms 2ms distribution normal loss random 0.5% rate 100mbit", "a busy Wi-Fi hop",
		impair.Config{Delay: 3 * time.Millisecond, Jitter: 2 * time.Millisecond, Distribution: impair.DistNormal, Loss: impair.RandomLoss(0.005), Rate: 100e6}},
	{"lte", "delay 25ms 8ms distribution normal loss random 1% rate 30mbit", "a mobile LTE link",
		impair.Config{Delay: 25 * time.Millisecond, Jitter: 8 * time.Millisecond, Distribution: impair.DistNormal, Loss: impair.RandomLoss(0.01), Rate: 30e6}},
	{"satellite", "delay 300ms 10ms loss random 0.5% rate 10mbit", "a geostationary satellite hop",
		impair.Config{Delay: 300 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: impair.RandomLoss(0.005), Rate: 10e6}},
	{"lossy", "delay 10ms loss random 5%", "a badly lossy path",
		impair.Config{Delay: 10 * time.Millisecond, Loss: impair.RandomLoss(0.05)}},
}

func profileList() string {
	var names []string
	for _, p := range profiles {
		names = append(names, p.name)
	}
	return strings.Join(names, ", ")
}

// linkSetup is run's validated link configuration: the cells to run, each a
// link configuration, with its label.
type linkSetup struct {
	emulator string
	cc       string
	cells    []cell
	grid     bool // a loss × delay sweep
}

type cell struct {
	label   string
	cfg     impair.Config
	none    bool    // the clean OS loopback of the default run
	udpRate float64 // > 0: pace UDP throughput at this rate in this cell (unless --bitrate is set)
}

// defaultLossyRate paces UDP on the default run's lossy link, so that its loss is
// the link's and not an overflowing queue's: TCP slows down under loss, UDP keeps
// its pace and loses frames.
const defaultLossyRate = 100e6

// anyLinkFlag says whether the user asked for an emulated link.
func anyLinkFlag(c *cli.Context) bool {
	for _, f := range []string{"profile", "loss", "loss-model", "delay", "jitter", "distribution", "reorder", "reorder-gap", "duplicate", "corrupt", "rate", "queue", "seed"} {
		if c.IsSet(f) {
			return true
		}
	}
	return false
}

// parseLink reads the link flags. With none of them and no --server, the
// default run compares a clean link with a lossy one.
func parseLink(c *cli.Context, remote bool) (*linkSetup, error) {
	ls := &linkSetup{emulator: c.String("emulator"), cc: c.String("cc")}
	switch ls.emulator {
	case link.Auto, link.Tun, link.Netstack, link.None:
	default:
		return nil, usageErrorf("--emulator %q: want auto, tun, netstack or none", ls.emulator)
	}
	if strings.TrimSpace(ls.cc) == "" {
		return nil, usageErrorf("--cc: name a congestion control, e.g. cubic or reno")
	}
	linkAsked := anyLinkFlag(c)
	if remote {
		if linkAsked || (c.IsSet("emulator") && ls.emulator != link.None) {
			return nil, usageErrorf("link flags (--loss, --delay, --profile, --emulator ...) emulate a link between an embedded client and server: drop --server, or drop the link flags")
		}
		return nil, nil
	}
	if !linkAsked {
		if c.IsSet("emulator") {
			ls.cells = []cell{{label: "", none: ls.emulator == link.None}}
			return ls, nil
		}
		lossy := impair.Config{Loss: impair.RandomLoss(0.01), Delay: 20 * time.Millisecond}
		ls.cells = []cell{{label: "clean (loopback)", none: true}, {label: "lossy (1% loss, 20ms each way)", cfg: lossy, udpRate: defaultLossyRate}}
		return ls, nil
	}
	base := impair.Config{}
	if name := c.String("profile"); name != "" {
		found := false
		for _, p := range profiles {
			if p.name == name {
				base, found = p.cfg, true
			}
		}
		if !found {
			return nil, usageErrorf("--profile %q: want one of %s", name, profileList())
		}
	}
	var err error
	if c.IsSet("jitter") {
		if base.Jitter = c.Duration("jitter"); base.Jitter < 0 {
			return nil, usageErrorf("--jitter %v: must not be negative", base.Jitter)
		}
	}
	if s := c.String("distribution"); s != "" {
		if base.Distribution, err = impair.ParseDistribution(s); err != nil {
			return nil, usageErrorf("--distribution %q: %v", s, err)
		}
	}
	pct := func(flag string, dst *float64) error {
		if s := c.String(flag); s != "" {
			v, err := impair.ParsePercent(s)
			if err != nil {
				return usageErrorf("--%s %q: %v", flag, s, err)
			}
			*dst = v
		}
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"reorder", &base.Reorder}, {"duplicate", &base.Duplicate}, {"corrupt", &base.Corrupt}} {
		if err := pct(f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if c.IsSet("reorder-gap") {
		if base.ReorderGap = c.Int("reorder-gap"); base.ReorderGap < 0 {
			return nil, usageErrorf("--reorder-gap %d: must not be negative", base.ReorderGap)
		}
	}
	if s := c.String("rate"); s != "" {
		if base.Rate, err = parseRate("rate", s); err != nil {
			return nil, err
		}
	}
	if c.IsSet("queue") {
		if base.QueueLimit = c.Int("queue"); base.QueueLimit < 1 {
			return nil, usageErrorf("--queue %d: want at least 1 packet", base.QueueLimit)
		}
	}
	base.Seed = c.Uint64("seed")
	if s := c.String("loss-model"); s != "" {
		if base.Loss, err = impair.ParseLossModel(s); err != nil {
			return nil, usageErrorf("--loss-model %q: %v", s, err)
		}
	}
	losses := []*float64{nil}
	if s := c.String("loss"); s != "" {
		if c.IsSet("loss-model") {
			return nil, usageErrorf("--loss and --loss-model both set: use one")
		}
		losses = nil
		for _, item := range strings.Split(s, ",") {
			v, err := impair.ParsePercent(strings.TrimSpace(item))
			if err != nil {
				return nil, usageErrorf("--loss %q: %v", item, err)
			}
			losses = append(losses, &v)
		}
	}
	delays := []*time.Duration{nil}
	if s := c.String("delay"); s != "" {
		delays = nil
		for _, item := range strings.Split(s, ",") {
			item = strings.TrimSpace(item)
			d, err := parseDelay(item)
			if err != nil {
				return nil, usageErrorf("--delay %q: want a duration such as 20ms, 500us or 0", item)
			}
			delays = append(delays, &d)
		}
	}
	ls.grid = len(losses) > 1 || len(delays) > 1
	for _, l := range losses {
		for _, d := range delays {
			cfg := base
			var parts []string
			if l != nil {
				cfg.Loss = impair.RandomLoss(*l)
				parts = append(parts, "loss "+strconv.FormatFloat(*l*100, 'g', -1, 64)+"%")
			}
			if d != nil {
				cfg.Delay = *d
				parts = append(parts, "delay "+d.String())
			}
			if err := cfg.Validate(); err != nil {
				return nil, usageErrorf("link: %v", err)
			}
			label := strings.Join(parts, ", ")
			if !ls.grid {
				label = ""
			}
			ls.cells = append(ls.cells, cell{label: label, cfg: cfg})
		}
	}
	if ls.emulator == link.None {
		return nil, usageErrorf("--emulator none is the plain OS loopback: it cannot apply link flags; use --emulator auto, tun or netstack")
	}
	return ls, nil
}

// parseDelay reads a delay; a bare 0 means none.
func parseDelay(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > time.Minute {
		return 0, fmt.Errorf("bad delay")
	}
	return d, nil
}
