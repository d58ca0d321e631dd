package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// linkFlags are run's flags for the emulated link (DESIGN §6). Values are
// netem's, for one direction: netduel applies them in both.
func linkFlags() []cli.Flag {
	return append([]cli.Flag{
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
		&cli.StringFlag{Name: "rate", Usage: "link `RATE` in bits/s with k/M/G suffixes (serialisation delay, drop-tail queue), counted on Ethernet frames as netem does; netem's 'RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]' in bytes, e.g. '10M 20' or '2mbit -14 53 5', or with tc's keywords, '10mbit packetoverhead 20 cellsize 100 celloverhead 5'"},
		&cli.StringFlag{Name: "queue", Usage: "queue limit in `PACKETS` (netem's limit; default 1000, at most " + strconv.Itoa(impair.MaxQueueLimit) + ")"},
		&cli.StringFlag{Name: "seed", Usage: "random `SEED` for a reproducible link (default: a random one, printed with the link and in JSON link.seed)"},
		&cli.BoolFlag{Name: "link-poll", Usage: "the tun emulator's forwarder spins on both devices instead of sleeping between packets, so no packet waits for it to wake up (on a virtual machine an idle CPU's wake-up costs 15-100 µs): a CPU's worth while the link is open; tun only"},
		&cli.StringFlag{Name: "cc", Value: "cubic", Usage: "TCP congestion control pinned on both ends (the machine's default may be bbr, which hides loss); netstack offers reno and cubic"},
	}, netemFlags()...)
}

func profileList() string { return strings.Join(duel.ProfileNames(), ", ") }

// linkSetup is run's validated link configuration: the cells to run, each a
// link configuration with its label, and their backend.
type linkSetup struct {
	emulator string
	cc       string
	poll     bool // --link-poll: a polling forwarder (link.Polling)
	cells    []duel.Cell
	sweep    bool // a loss × delay grid
	// defaultRun: no link flag and no --emulator, so the default clean and
	// lossy pair (duel.DefaultCells).
	defaultRun bool
}

// linkFlagNames are the flags that describe an emulated link.
var linkFlagNames = []string{"profile", "loss", "loss-model", "delay", "jitter", "distribution", "reorder", "reorder-gap", "duplicate", "corrupt", "rate", "queue", "seed", "slot", "trace"}

// anyLinkFlag says whether the user asked for an emulated link.
func anyLinkFlag(c *cli.Context) bool {
	for _, f := range linkFlagNames {
		if c.IsSet(f) {
			return true
		}
	}
	return c.IsSet("ecn")
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
	ls := &linkSetup{emulator: c.String("emulator"), cc: c.String("cc"), poll: c.Bool("link-poll")}
	if err := checkLinkBackend(c, ls, remote); err != nil {
		return nil, err
	}
	linkAsked := anyLinkFlag(c)
	switch {
	case remote:
		if linkAsked || ls.poll || (c.IsSet("emulator") && ls.emulator != link.None) {
			return nil, usageErrorf("link flags (--loss, --delay, --profile, --emulator, --link-poll ...) emulate a link between an embedded client and server: drop --server, or drop the link flags")
		}
		return nil, nil
	case !linkAsked && c.IsSet("emulator"):
		cl := duel.Cell{}
		if ls.emulator != link.None {
			cl.Link = &impair.Config{}
		}
		ls.cells = []duel.Cell{cl}
		return ls, nil
	case !linkAsked:
		ls.cells, ls.defaultRun = duel.DefaultCells(0), true
		return ls, nil
	}
	sw, err := parseSweep(c)
	if err != nil {
		return nil, err
	}
	if ls.cells, err = sw.Cells(); err != nil {
		return nil, configFlagError(c, err)
	}
	ls.sweep = sw.Grid()
	if ls.emulator == link.None {
		return nil, usageErrorf("--emulator none is the plain OS loopback: it cannot apply link flags; use --emulator auto, tun or netstack")
	}
	return ls, nil
}

// checkLinkBackend checks --emulator and --cc (which, with --server, pins
// the host stack's sockets), and refuses empty link flags.
func checkLinkBackend(c *cli.Context, ls *linkSetup, remote bool) error {
	if err := emptyLinkFlag(c); err != nil {
		return err
	}
	switch ls.emulator {
	case link.Auto, link.Tun, link.Netstack, link.None:
	default:
		return usageErrorf("--emulator %q: want auto, tun, netstack or none", ls.emulator)
	}
	if ls.poll && (ls.emulator == link.Netstack || ls.emulator == link.None) {
		return usageErrorf("--link-poll: the emulator %s has no forwarder to poll; use --emulator tun (or auto), or drop --link-poll", ls.emulator)
	}
	emu := ls.emulator
	if remote {
		emu = link.None // --cc pins the host stack's sockets
	}
	return checkCongestion(emu, ls.cc)
}

// parseSweep reads the link flags into a sweep: the base link (a --profile
// and the flags that change it), and the --loss and --delay axes.
func parseSweep(c *cli.Context) (duel.Sweep, error) {
	var sw duel.Sweep
	var err error
	if sw.Base, err = parseBaseLink(c); err != nil {
		return sw, err
	}
	if sw.Losses, err = parseLosses(c); err != nil {
		return sw, err
	}
	sw.Delays, err = parseDelays(c)
	return sw, err
}

// parseBaseLink reads --profile, then each flag that sets one part of the
// link, in order (a later flag's check may need an earlier one's value).
func parseBaseLink(c *cli.Context) (impair.Config, error) {
	var base impair.Config
	if name := c.String("profile"); name != "" {
		p, ok := duel.LookupProfile(name)
		if !ok {
			return base, usageErrorf("--profile %q: want one of %s", name, profileList())
		}
		base = p.Config
	}
	for _, f := range []struct {
		name  string
		parse func(c *cli.Context, s string, cfg *impair.Config) error
	}{
		{"jitter", parseJitter}, {"distribution", parseDistribution},
		{"reorder", corrFlag("reorder", func(cfg *impair.Config) (*float64, *float64) { return &cfg.Reorder, &cfg.ReorderCorr })},
		{"duplicate", corrFlag("duplicate", func(cfg *impair.Config) (*float64, *float64) { return &cfg.Duplicate, &cfg.DuplicateCorr })},
		{"corrupt", corrFlag("corrupt", func(cfg *impair.Config) (*float64, *float64) { return &cfg.Corrupt, &cfg.CorruptCorr })},
		{"reorder-gap", parseReorderGap}, {"rate", parseLinkRate}, {"queue", parseQueue}, {"seed", parseSeed},
		{"loss-model", parseLossModel}, {"slot", parseSlotFlag}, {"trace", parseTraceFlag},
	} {
		if s := c.String(f.name); s != "" {
			if err := f.parse(c, s, &base); err != nil {
				return base, err
			}
		}
	}
	base.ECN = base.ECN || c.Bool("ecn")
	if base.Seed == 0 {
		base.Seed = duel.RandomSeed()
	}
	return base, nil
}

// parseJitter reads --jitter: JITTER [CORRELATION].
func parseJitter(c *cli.Context, s string, cfg *impair.Config) error {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return usageErrorf("--jitter %q: want JITTER [CORRELATION], as netem's 'delay TIME JITTER [CORRELATION]', e.g. '5ms' or '5ms 25%%'", s)
	}
	var err error
	if cfg.Jitter, err = parseDelay(f[0]); err != nil {
		return usageErrorf("--jitter %q: want a duration from 0 to %v, such as 5ms or 500us", s, maxDelay)
	}
	if len(f) == 2 {
		if cfg.DelayCorr, err = impair.ParsePercent(f[1]); err != nil {
			return usageErrorf("--jitter %q: correlation: %v", s, err)
		}
	}
	if !c.IsSet("delay") && cfg.Delay == 0 {
		// iproute2: jitter is the second value of "delay TIME JITTER".
		return usageErrorf("--jitter needs --delay (as netem's 'delay TIME JITTER'); add --delay, e.g. --delay 10ms --jitter %s", s)
	}
	return nil
}

// parseDistribution reads --distribution, which shapes the jitter.
func parseDistribution(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.Distribution, err = impair.ParseDistribution(s); err != nil {
		return usageErrorf("--distribution %q: %v", s, err)
	}
	if cfg.Jitter == 0 {
		// iproute2: "distribution specified but no latency and jitter values".
		return usageErrorf("--distribution needs --jitter (netem: a distribution shapes the jitter); add --jitter, e.g. --delay 10ms --jitter 2ms --distribution %s", s)
	}
	return nil
}

// corrFlag reads a PERCENT [CORRELATION] flag into the fields fields picks.
func corrFlag(flag string, fields func(*impair.Config) (p, corr *float64)) func(*cli.Context, string, *impair.Config) error {
	return func(_ *cli.Context, s string, cfg *impair.Config) error {
		p, corr := fields(cfg)
		var err error
		*p, *corr, err = percentCorr(flag, s)
		return err
	}
}

// parseReorderGap reads --reorder-gap, which needs --reorder.
func parseReorderGap(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.ReorderGap, err = strconv.Atoi(s); err != nil || cfg.ReorderGap < 1 || cfg.ReorderGap > math.MaxInt32 {
		return usageErrorf("--reorder-gap %q: want a whole number of packets from 1 to %d", s, math.MaxInt32)
	}
	if cfg.Reorder == 0 {
		// iproute2: "gap specified without reorder probability".
		return usageErrorf("--reorder-gap needs --reorder (netem: gap without a reorder probability); add --reorder, e.g. --reorder 25%% --reorder-gap %s", s)
	}
	return nil
}

// parseLinkRate reads --rate: RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]],
// or with tc's keywords (RATE packetoverhead N cellsize N celloverhead N).
func parseLinkRate(_ *cli.Context, s string, cfg *impair.Config) error {
	f := strings.Fields(s)
	var err error
	if cfg.Rate, err = parseNetemRate(f[0]); err != nil {
		return err
	}
	if err := impair.ParseRateOptions(f[1:], cfg); err != nil {
		return usageErrorf("--rate %q: %v", s, err)
	}
	return nil
}

// parseNetemRate reads the rate itself: netduel's (10M, 1.5G) or tc's units
// (10mbit, 1gbit, 2MBps).
func parseNetemRate(s string) (float64, error) {
	if strings.HasSuffix(s, "%") {
		return 0, usageErrorf("--rate %q: netem's percent of the device's speed has no meaning on netduel's link (it has no device speed): give a rate, e.g. 100M or 100mbit", s)
	}
	return parseRate("rate", s)
}

// parseQueue reads --queue, netem's limit.
func parseQueue(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.QueueLimit, err = strconv.Atoi(s); err != nil || cfg.QueueLimit < 1 || cfg.QueueLimit > impair.MaxQueueLimit {
		return usageErrorf("--queue %q: want a whole number of packets from 1 to %d", s, impair.MaxQueueLimit)
	}
	return nil
}

// parseSeed reads --seed.
func parseSeed(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.Seed, err = strconv.ParseUint(s, 10, 64); err != nil {
		return usageErrorf("--seed %q: want a whole number from 0 to %d (0: pick one at random)", s, uint64(math.MaxUint64))
	}
	return nil
}

// parseLossModel reads --loss-model, netem's loss models.
func parseLossModel(_ *cli.Context, s string, cfg *impair.Config) error {
	var err error
	if cfg.Loss, err = impair.ParseLossModel(s); err != nil {
		return usageErrorf("--loss-model %q: %v", s, err)
	}
	return nil
}

// parseLosses reads --loss, a comma list of PERCENT [CORRELATION]: the
// sweep's loss axis (none without --loss).
func parseLosses(c *cli.Context) ([]duel.SweepLoss, error) {
	s := c.String("loss")
	if s == "" {
		return nil, nil
	}
	if c.IsSet("loss-model") {
		return nil, usageErrorf("--loss and --loss-model both set: use one")
	}
	items, err := listItems("loss", s, "0,1%,5%")
	if err != nil {
		return nil, err
	}
	var out []duel.SweepLoss
	for _, item := range items {
		p, corr, err := percentCorr("loss", item)
		if err != nil {
			return nil, err
		}
		out = append(out, duel.SweepLoss{P: p, Corr: corr})
	}
	return out, nil
}

// listItems splits a sweep flag's comma list, refusing an empty item ("1ms,"
// is a slip, not a default).
func listItems(flag, s, example string) ([]string, error) {
	items := strings.Split(s, ",")
	for i, item := range items {
		if items[i] = strings.TrimSpace(item); items[i] == "" {
			return nil, usageErrorf("--%s %q: an empty item in the list: give a value between each comma, such as %s", flag, s, example)
		}
	}
	return items, nil
}

// parseDelays reads --delay, a comma list of durations: the sweep's delay
// axis (none without --delay).
func parseDelays(c *cli.Context) ([]time.Duration, error) {
	s := c.String("delay")
	if s == "" {
		return nil, nil
	}
	items, err := listItems("delay", s, "0,20ms")
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, item := range items {
		d, err := parseDelay(item)
		if err != nil {
			return nil, usageErrorf("--delay %q: want a duration from 0 to %v, such as 20ms, 500us or 0", item, maxDelay)
		}
		out = append(out, d)
	}
	return out, nil
}

// configFields maps impair.Config's fields to the flags that set them.
var configFields = map[string]string{
	"Delay": "delay", "Jitter": "jitter", "DelayCorr": "jitter", "Distribution": "distribution",
	"Reorder": "reorder", "ReorderCorr": "reorder", "ReorderGap": "reorder-gap",
	"Duplicate": "duplicate", "DuplicateCorr": "duplicate", "Corrupt": "corrupt", "CorruptCorr": "corrupt",
	"Rate": "rate", "RateOverhead": "rate", "CellSize": "rate", "CellOverhead": "rate",
	"QueueLimit": "queue", "Loss": "loss", "Seed": "seed", "Slot": "slot", "Trace": "trace", "ECN": "ecn",
}

// configFlagError turns a link configuration the engine refuses into a usage
// error naming the flag, its value and the flag to add (unless the fix is
// within the same flag), e.g. `--reorder "10": reorder needs a delay (...);
// add --delay`.
func configFlagError(c *cli.Context, err error) error {
	var ce *impair.ConfigError
	flag, ok := "", errors.As(err, &ce)
	if ok {
		flag, ok = configFields[ce.Field]
	}
	if !ok {
		return usageErrorf("link: %v", err)
	}
	msg := fmt.Sprintf("--%s %q: %s", flag, c.String(flag), ce.Msg)
	if v := c.String(flag); v == "true" || v == "false" { // a switch: its value says nothing
		msg = fmt.Sprintf("--%s: %s", flag, ce.Msg)
	}
	if need, ok := configFields[ce.Needs]; ok && need != flag {
		if c.IsSet(need) {
			msg += fmt.Sprintf("; --%s %q sets none: give it more", need, c.String(need))
		} else {
			msg += "; add --" + need
		}
	}
	return usageErrorf("%s", msg)
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
