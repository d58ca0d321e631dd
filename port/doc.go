// Package port answers two questions users ask before and after starting a
// server: "is port P free?" and "why did my bind fail?".
//
// It owns three diagnostics and a way around the race they warn about:
//
//   - Check tries, for each port, protocol and address, the bind a server would
//     do (Go's net.Listen: TCP with SO_REUSEADDR, then bind and listen; UDP bind
//     without SO_REUSEADDR; IPv6 with IPV6_V6ONLY, as for "tcp6"/"udp6"),
//     releases it at once, and explains the result: free, in use (by which
//     process, in which socket state), denied, or unavailable, with warnings
//     (well-known, privileged and ephemeral ports, Linux's reserved ports,
//     Windows' excluded port ranges, macOS's AirPlay Receiver ports,
//     TIME_WAIT, the check-then-bind race). CheckOptions.As binds as a C
//     server without SO_REUSEADDR instead.
//   - Free finds ports that are free for every requested protocol at once.
//   - Conflicts runs real bind experiments on this OS (TCP and UDP on one port,
//     wildcard and specific addresses, IPv4 and dual-stack IPv6, SO_REUSEADDR,
//     SO_REUSEPORT, TIME_WAIT) and sets what happened next to what the
//     documentation says for Linux, macOS and Windows.
//   - Hold binds ports and keeps them, and ActivationCommand starts a server
//     on the held sockets under systemd's socket-activation protocol
//     (descriptors 3, 4, ...; LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES); a
//     program calls BecomeActivated first thing for that to work.
//
// # Why this package makes its own sockets
//
// Everywhere else in netduel sockets come from the stack package. Here the
// experiments need raw control over options (SO_REUSEADDR, SO_REUSEPORT,
// IPV6_V6ONLY, SO_LINGER) and the order of bind and listen, and a full-range
// check binds and closes over a hundred thousand sockets, so port makes them
// itself with golang.org/x/sys/unix system calls (socket, setsockopt, bind,
// listen, close) on Linux, macOS and the BSDs. On Windows it falls back to
// net.ListenConfig with a Control function that sets the options; the traffic
// experiments (SO_REUSEPORT splits, TIME_WAIT) say "not available on this OS"
// there. Port diagnostics concern the host's own stack, so there is no Network
// to choose; no socket made here sends anything anywhere but to 127.0.0.1.
//
// Owner lookup (which process holds a port) reads /proc on Linux, once per
// command run and only for the ports found in use (see SocketTable); a TCP
// socket bound but not listening, in no /proc table, is found by borrowing
// processes' socket descriptors (pidfd_getfd). Elsewhere it asks gopsutil.
//
// A check of more than 1024 ports on Linux infers the wildcard and loopback
// results of a port from one dual-stack bind on [::] when that succeeds (see
// inferAbove): a full-range check then takes about 1 s instead of 2. Results
// alike share one warnings slice, and their JSON names warnings by code
// (Result.MarshalJSON), so that the half million results of a full-range
// check render in well under a second in any format.
//
// HeldPortExperiments is the part of Conflicts that 'netduel run' shows for
// the port its server used.
//
// Functions in this package are safe for concurrent use, but two checks of the
// same port running at once see each other's short-lived sockets.
package port
