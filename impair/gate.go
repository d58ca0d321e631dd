package impair

import (
	"math/rand/v2"
	"time"
)

// A gate holds packets that are due until the link may carry them: netem's
// slots, or a delivery trace's opportunities. It decides on dequeue, as
// netem's slots do: packets are queued by their due time (the model's
// departure: delay, reorder and rate), and leave in that order when the
// gate lets them.
type gate interface {
	// admit is one dequeue attempt at now for the head packet, due at due,
	// of size IP bytes: whether it leaves now (accounted by the gate), and
	// when it could first leave, or, if not now, when to try again.
	admit(now, due time.Duration, size int) (bool, time.Duration)
}

// gated says whether packets leave through a gate.
func (c Config) gated() bool { return c.Slot.Enabled() || c.Trace != nil }

func newGate(c Config, r *rand.Rand) gate {
	switch {
	case c.Trace != nil:
		return newTraceGate(c.Trace)
	case c.Slot.Enabled():
		return newSlotGate(c.Slot, r, 0)
	}
	return nil
}

// Admit is a dequeue attempt at now for the head of the link's queue (the
// copy with the earliest departure, due at due, of size bytes): whether it
// leaves now, and when it could first leave (if not now: when to try
// again). Without a slot or trace a copy leaves when it is due. With one, the
// caller must call Admit for each copy in departure order, and only a copy
// admitted leaves the model's queue (the queue limit counts copies waiting
// for a slot, as netem's does).
func (l *Model) Admit(now, due time.Duration, size int) (bool, time.Duration) {
	if l.gate == nil {
		return due <= now, due
	}
	ok, at := l.gate.admit(now, due, size)
	if ok && l.queue.Len() > 0 {
		l.queue.pop()
	}
	return ok, at
}

// netemGates writes the slot and ECN options as netem's arguments (a trace
// has none: netem cannot replay one).
func (c Config) netemGates() []string {
	if c.Slot.Enabled() {
		return []string{"slot " + c.Slot.String()}
	}
	return nil
}

// checkGates is Validate's part for the slot, the trace and ECN.
func (c Config) checkGates() *ConfigError {
	if err := c.Slot.check(); err != nil {
		return err
	}
	switch {
	case c.Trace != nil && c.Rate > 0:
		return configErrorf("Trace", "", "a delivery trace replaces the rate: give one of them")
	case c.Trace != nil && c.Slot.Enabled():
		return configErrorf("Trace", "", "a delivery trace and slots both pace deliveries: give one of them")
	case c.ECN && !c.lossActive():
		return configErrorf("ECN", "Loss", "ecn marks packets the loss model would drop (as iproute2: \"ecn requested without loss model\")")
	}
	return nil
}
