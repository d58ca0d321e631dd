package impair_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/netduel/netduel/impair"
)

// A link configuration in netem's terms: a Gilbert-Elliott loss model parsed
// from netem syntax, a delay with jitter and a distribution, validated, then
// written back as the tc netem command line it is equivalent to.
func ExampleParseLossModel() {
	loss, err := impair.ParseLossModel("gemodel 1% 10% 70% 0.1%")
	if err != nil {
		fmt.Println(err)
		return
	}
	dist, err := impair.ParseDistribution("normal")
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := impair.Config{Loss: loss, Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Distribution: dist}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Netem())
	_, err = impair.ParseLossModel("gemodel lots")
	fmt.Println(err)
	// Output:
	// delay 20ms 2ms distribution normal loss gemodel 1% 10% 70% 0.1%
	// loss gemodel: "lots" is not a percentage: write 5% or 5 for five percent
}

// A Model decides each packet's fate on the caller's clock: seeded, it
// replays exactly, so what a link does can be tested without real time.
func ExampleModel_Process() {
	m := impair.NewModel(impair.Config{Delay: 10 * time.Millisecond, Duplicate: 0.5}, rand.New(rand.NewPCG(1, 2)))
	for i := range 4 {
		now := time.Duration(i) * time.Millisecond
		n, v := m.Process(now, 100)
		for _, c := range v[:n] {
			fmt.Printf("packet %d sent at %v leaves at %v\n", i, now, c.Depart)
		}
	}
	fmt.Printf("%+v\n", m.Counters())
	// Output:
	// packet 0 sent at 0s leaves at 10ms
	// packet 1 sent at 1ms leaves at 11ms
	// packet 1 sent at 1ms leaves at 11ms
	// packet 2 sent at 2ms leaves at 12ms
	// packet 3 sent at 3ms leaves at 13ms
	// packet 3 sent at 3ms leaves at 13ms
	// {Packets:4 Forwarded:6 Dropped:0 Duplicated:2 Corrupted:0 Reordered:0 QueueDrops:0 DroppedUDP:0 ECNMarked:0 Held:0}
}
