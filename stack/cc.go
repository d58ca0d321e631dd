package stack

import "fmt"

// UsableCongestion returns the congestion control this process can pin on
// the host's own stack: cc itself (with an empty note), or, where it may not
// (an unprivileged user and an algorithm outside
// tcp_allowed_congestion_control, an algorithm the kernel lacks, or not
// Linux), the system's default with a note saying so. Err is the kernel's
// refusal of cc (nil when cc can be pinned; ENOENT for an algorithm it does
// not know, EPERM for one this process may not use), tried on a socket that
// is never bound or connected. An empty cc is the OS's own choice.
func UsableCongestion(cc string) (use, note string, err error) {
	if cc == "" {
		return "", "", nil
	}
	if err = pinCongestion(cc); err == nil {
		return cc, "", nil
	}
	def := DefaultCongestion()
	note = fmt.Sprintf("congestion control %s cannot be pinned here (%v); the system default", cc, err)
	if def == "" {
		return "", note + " is used", err
	}
	return def, fmt.Sprintf("%s, %s, is used", note, def), err
}
