package main

import (
	"fmt"
	"math"
	"math/rand/v2"
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
		&cli.StringFlag{Name: "loss", Usage: "random loss `PERCENT` per direction (5% or 5), with netem's optional correlation ('1% 25%'); a comma list sweeps"},
		&cli.StringFlag{Name: "loss-model", Usage: "netem loss `MODEL`: 'random P', 'state p13 [p31 [p32 [p23 [p14]]]]' or 'gemodel p [r [1-h [1-k]]]' (overrides --loss)"},
		&cli.StringFlag{Name: "delay", Usage: "delay `D` per direction (--delay 10ms adds 20ms to the round trip); a comma list sweeps"},
		&cli.StringFlag{Name: "jitter", Usage: "delay variation `D` (needs --delay), at most " + maxDelay.String() + ", with netem's optional correlation ('5ms 25%')"},
		&cli.StringFlag{Name: "distribution", Usage: "jitter distribution (needs --jitter): uniform (default), normal, pareto, paretonormal (iproute2's tables)"},
		&cli.StringFlag{Name: "reorder", Usage: "`PERCENT` of packets sent at once, ahead of delayed ones (needs --delay); netem's optional correlation: '25% 50%'"},
		&cli.StringFlag{Name: "reorder-gap", Usage: "netem's gap `N` (needs --reorder): after a reordered packet the next N-1 are delayed, then each is sent at once with the --reorder probability (--reorder 25% --reorder-gap 5 reorders 12.5%)"},
		&cli.StringFlag{Name: "duplicate", Usage: "`PERCENT` of packets duplicated; netem's optional correlation: '1% 25%'"},
		&cli.StringFlag{Name: "corrupt", Usage: "`PERCENT` of packets with one bit flipped; netem's optional correlation: '1% 25%'"},
		&cli.StringFlag{Name: "rate", Usage: "link `RATE` in bits/s with k/M/G suffixes (serialisation delay, drop-tail queue), counted on Ethernet frames as netem does; netem's 'RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]' in bytes, e.g. '10M 20' or '2M -14 53 5'"},
		&cli.StringFlag{Name: "queue", Usage: "queue limit in `PACKETS` (netem's limit; default 1000, at most " + strconv.Itoa(impair.MaxQueueLimit) + ")"},
		&cli.StringFlag{Name: "seed", Usage: "random `SEED` for a reproducible link (default: a random one, printed with the link and in JSON link.seed)"},
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

// linkFlagNames are the flags that describe an emulated link.
var linkFlagNames = []string{"profile", "loss", "loss-model", "delay", "jitter", "distribution", "reorder", "reorder-gap", "duplicate", "corrupt", "rate", "queue", "seed"}

// anyLinkFlag says whether the user asked for an emulated link.
func anyLinkFlag(c *cli.Context) bool {
	for _, f := range linkFlagNames {
		if c.IsSet(f) {
			return true
		}
	}
	return false
}

// emptyLinkFlag refuses a link flag given an empty value (--loss ”), which
// would otherwise silently mean its default.
func emptyLinkFlag(c *cli.Context) error {
	for _, f := range append([]string{"emulator", "cc"}, linkFlagNames...) {
		if c.IsSet(f) && strings.TrimSpace(c.String(f)) == "" {
			return usageErrorf("--%s is empty: give it a value (see 'netduel %s --help') or drop the flag", f, c.Command.Name)
		}
	}
	return nil
}

// maxDelay bounds --delay and --jitter: a longer wait is a mistake, and
// durations near Go's limit would overflow the link's arithmetic.
const maxDelay = impair.MaxDelay

// randomSeed picks a link seed when none is given, so that every run can be
// replayed with --seed (0 would mean "pick one" to the link itself).
func randomSeed() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// checkCongestion refuses a --cc the backend does not offer (exit 2, naming
// the flag and what is available).
func checkCongestion(emulator, cc string) error {
	if err := link.CheckCongestion(emulator, cc); err != nil {
		return usageErrorf("--cc %q: %v", cc, err)
	}
	return nil
}

// parseLink reads the link flags. With none of them and no --server, the
// default run compares a clean link with a lossy one.
func parseLink(c *cli.Context, remote bool) (*linkSetup, error) {
	ls := &linkSetup{emulator: c.String("emulator"), cc: c.String("cc")}
	if err := emptyLinkFlag(c); err != nil {
		return nil, err
	}
	switch ls.emulator {
	case link.Auto, link.Tun, link.Netstack, link.None:
	default:
		return nil, usageErrorf("--emulator %q: want auto, tun, netstack or none", ls.emulator)
	}
	emu := ls.emulator
	if remote {
		emu = link.None // --cc pins the host stack's sockets
	}
	if err := checkCongestion(emu, ls.cc); err != nil {
		return nil, err
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
		lossy := impair.Config{Loss: impair.RandomLoss(0.01), Delay: 20 * time.Millisecond, Seed: randomSeed()}
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
	if s := c.String("jitter"); s != "" {
		f := strings.Fields(s)
		if len(f) == 0 || len(f) > 2 {
			return nil, usageErrorf("--jitter %q: want JITTER [CORRELATION], as netem's 'delay TIME JITTER [CORRELATION]', e.g. '5ms' or '5ms 25%%'", s)
		}
		if base.Jitter, err = parseDelay(f[0]); err != nil {
			return nil, usageErrorf("--jitter %q: want a duration from 0 to %v, such as 5ms or 500us", s, maxDelay)
		}
		if len(f) == 2 {
			if base.DelayCorr, err = impair.ParsePercent(f[1]); err != nil {
				return nil, usageErrorf("--jitter %q: correlation: %v", s, err)
			}
		}
		if !c.IsSet("delay") && base.Delay == 0 {
			// iproute2: jitter is the second value of "delay TIME JITTER".
			return nil, usageErrorf("--jitter needs --delay (as netem's 'delay TIME JITTER'); add --delay, e.g. --delay 10ms --jitter %s", s)
		}
	}
	if s := c.String("distribution"); s != "" {
		if base.Distribution, err = impair.ParseDistribution(s); err != nil {
			return nil, usageErrorf("--distribution %q: %v", s, err)
		}
		if base.Jitter == 0 {
			// iproute2: "distribution specified but no latency and jitter values".
			return nil, usageErrorf("--distribution needs --jitter (netem: a distribution shapes the jitter); add --jitter, e.g. --delay 10ms --jitter 2ms --distribution %s", s)
		}
	}
	for _, f := range []struct {
		name      string
		dst, corr *float64
	}{{"reorder", &base.Reorder, &base.ReorderCorr}, {"duplicate", &base.Duplicate, &base.DuplicateCorr}, {"corrupt", &base.Corrupt, &base.CorruptCorr}} {
		if s := c.String(f.name); s != "" {
			if *f.dst, *f.corr, err = percentCorr(f.name, s); err != nil {
				return nil, err
			}
		}
	}
	if s := c.String("reorder-gap"); s != "" {
		if base.ReorderGap, err = strconv.Atoi(s); err != nil || base.ReorderGap < 1 || base.ReorderGap > math.MaxInt32 {
			return nil, usageErrorf("--reorder-gap %q: want a whole number of packets from 1 to %d", s, math.MaxInt32)
		}
		if base.Reorder == 0 {
			// iproute2: "gap specified without reorder probability".
			return nil, usageErrorf("--reorder-gap needs --reorder (netem: gap without a reorder probability); add --reorder, e.g. --reorder 25%% --reorder-gap %s", s)
		}
	}
	if s := c.String("rate"); s != "" {
		f := strings.Fields(s)
		if base.Rate, err = parseRate("rate", f[0]); err != nil {
			return nil, err
		}
		if len(f) > 4 {
			return nil, usageErrorf("--rate %q: want RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]], as netem's rate", s)
		}
		for i, dst := range []*int{&base.RateOverhead, &base.CellSize, &base.CellOverhead}[:len(f)-1] {
			if *dst, err = strconv.Atoi(f[i+1]); err != nil {
				return nil, usageErrorf("--rate %q: %q is not a whole number of bytes (RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]])", s, f[i+1])
			}
		}
	}
	if s := c.String("queue"); s != "" {
		if base.QueueLimit, err = strconv.Atoi(s); err != nil || base.QueueLimit < 1 || base.QueueLimit > impair.MaxQueueLimit {
			return nil, usageErrorf("--queue %q: want a whole number of packets from 1 to %d", s, impair.MaxQueueLimit)
		}
	}
	if s := c.String("seed"); s != "" {
		if base.Seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, usageErrorf("--seed %q: want a whole number from 0 to %d (0: pick one at random)", s, uint64(math.MaxUint64))
		}
	}
	if base.Seed == 0 {
		base.Seed = randomSeed()
	}
	if s := c.String("loss-model"); s != "" {
		if base.Loss, err = impair.ParseLossModel(s); err != nil {
			return nil, usageErrorf("--loss-model %q: %v", s, err)
		}
	}
	losses := []*[2]float64{nil} // probability, correlation
	if s := c.String("loss"); s != "" {
		if c.IsSet("loss-model") {
			return nil, usageErrorf("--loss and --loss-model both set: use one")
		}
		losses = nil
		for _, item := range strings.Split(s, ",") {
			p, corr, err := percentCorr("loss", item)
			if err != nil {
				return nil, err
			}
			losses = append(losses, &[2]float64{p, corr})
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
				cfg.Loss = impair.CorrelatedLoss(l[0], l[1])
				label := "loss " + strconv.FormatFloat(l[0]*100, 'g', -1, 64) + "%"
				if l[1] > 0 {
					label += " (correlation " + strconv.FormatFloat(l[1]*100, 'g', -1, 64) + "%)"
				}
				parts = append(parts, label)
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
	if err != nil || d < 0 || d > maxDelay {
		return 0, fmt.Errorf("bad delay")
	}
	return d, nil
}
