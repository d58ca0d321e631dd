package link

import (
	"errors"
	"os/exec"

	"github.com/netduel/netduel/stack"
)

// Side names an end of the link.
type Side int

// The two ends.
const (
	ClientSide Side = iota
	ServerSide
)

// Addr returns the side's address inside the link.
func (s Side) Addr() string {
	if s == ServerSide {
		return ServerAddr.String()
	}
	return ClientAddr.String()
}

// Start starts cmd inside the side's network namespace (tun backend only), so
// that everything it sends to the other side crosses the emulated link. The
// process is forked from a thread inside the namespace and inherits it.
func (l *Link) Start(side Side, cmd *exec.Cmd) error {
	n := l.Client
	if side == ServerSide {
		n = l.Server
	}
	o, ok := n.(*stack.OS)
	if l.Backend != Tun || !ok || o.NS == nil {
		return errors.New("commands run inside the link only with the tun backend (network namespaces)")
	}
	return o.NS.Do(cmd.Start)
}
