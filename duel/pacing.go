package duel

import "fmt"

// pacingWarnRatio: a UDP sender that offered less than this share of the rate
// asked for gets a warning in its result.
const pacingWarnRatio = 0.95

// pacingWarning says when a paced UDP sender fell short of the rate asked for
// (empty when it did not, or was not paced).
func pacingWarning(requested, offered float64) string {
	if requested <= 0 || offered >= pacingWarnRatio*requested {
		return ""
	}
	return fmt.Sprintf("offered %.4g Mbit/s, %.0f%% of the %.4g Mbit/s asked for: the sender could not keep pace (a busy machine, or a stack that cannot go faster); loss and goodput are at the offered rate",
		offered/1e6, 100*offered/requested, requested/1e6)
}
