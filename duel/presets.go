package duel

import (
	"math/rand/v2"
	"time"

	"github.com/netduel/netduel/impair"
)

// Profile is a preset link, with its netem equivalent.
type Profile struct {
	Name   string        // e.g. "lte"
	Netem  string        // the equivalent tc netem arguments
	Desc   string        // what it stands for, e.g. "a mobile LTE link"
	Config impair.Config // the impairment, in each direction (no seed)
}

var profiles = []Profile{
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

// Profiles returns the preset links, in the order a list shows them.
func Profiles() []Profile { return append([]Profile(nil), profiles...) }

// LookupProfile returns the preset link of that name.
func LookupProfile(name string) (Profile, bool) {
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ProfileNames returns the preset links' names, in order.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return names
}

// DefaultLossyRate paces the UDP throughput tests on the default run's lossy
// link, so that their loss is the link's and not an overflowing queue's: TCP
// slows down under loss, UDP keeps its pace and loses frames.
const DefaultLossyRate = 100e6

// DefaultPairDuration is each test's duration in the default run, which runs
// its tests twice (a clean link and a lossy one): shorter tests keep it under
// 30 s.
const DefaultPairDuration = 2500 * time.Millisecond

// DefaultCells are the default run's links: the host's clean loopback, and a
// lossy emulated link (1% loss, 20 ms each way, with the given seed; 0 picks
// one at random) across which UDP is paced at DefaultLossyRate.
func DefaultCells(seed uint64) []Cell {
	lossy := impair.Config{Loss: impair.RandomLoss(0.01), Delay: 20 * time.Millisecond, Seed: seed}
	if lossy.Seed == 0 {
		lossy.Seed = RandomSeed()
	}
	return []Cell{
		{Label: "clean (loopback)"},
		{Label: "lossy (1% loss, 20ms each way)", Link: &lossy, Bitrate: DefaultLossyRate},
	}
}

// RandomSeed picks a link seed, never 0 (which would mean "pick one" to the
// link itself), so that every run can be replayed with the seed it reports.
func RandomSeed() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}
