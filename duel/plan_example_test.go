package duel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// ExampleRun runs two tests on the host's loopback and across a netstack
// link with 1 ms of delay each way, each cell with an embedded server.
func ExampleRun() {
	delay := impair.Config{Delay: time.Millisecond}
	plan := duel.Plan{
		Tests: []duel.TestSpec{
			{Proto: duel.ProtoTCP, Test: duel.TestLatency, Duration: 100 * time.Millisecond, Size: 64},
			{Proto: duel.ProtoUDP, Test: duel.TestLatency, Duration: 100 * time.Millisecond, Size: 64},
		},
		Cells:    []duel.Cell{{Label: "loopback"}, {Label: "1ms", Link: &delay}},
		Emulator: link.Netstack,
	}
	rep, err := duel.Run(context.Background(), plan, duel.RunOptions{
		Client: duel.Client{Settle: 50 * time.Millisecond},
		Where:  func(where string) { fmt.Println("running over", where) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Printf("%s: %s %s across %s, failed: %v\n", r.Cell, r.Proto, r.Test, r.Link.Emulator, r.Error != "")
	}
	// Output:
	// running over none: loopback
	// running over netstack: 1ms
	// loopback: tcp latency across none, failed: false
	// loopback: udp latency across none, failed: false
	// 1ms: tcp latency across netstack, failed: false
	// 1ms: udp latency across netstack, failed: false
}
