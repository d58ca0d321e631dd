package port

import "sync"

// sysFacts are what the OS says about ports, read once per process.
type sysFacts struct {
	// ephemeralLo..ephemeralHi is the range the OS picks outgoing connections'
	// local ports from; ephemeralSource says where it was read, or that it is
	// the documented default.
	ephemeralLo, ephemeralHi int
	ephemeralSource          string
	// privilegedBelow: ports below it need privilege to bind (0: none do);
	// privilegedSource says where it was read.
	privilegedBelow  int
	privilegedSource string
	// canBindPrivileged: this process may bind privileged ports (root, or
	// CAP_NET_BIND_SERVICE on Linux).
	canBindPrivileged bool
}

var facts = sync.OnceValue(readSysFacts)

// EphemeralRange returns the range of local ports this OS gives outgoing
// connections, and where it was read (a file, a sysctl, or "documented default").
func EphemeralRange() (lo, hi int, source string) {
	f := facts()
	return f.ephemeralLo, f.ephemeralHi, f.ephemeralSource
}
