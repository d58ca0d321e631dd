// Package suite holds netduel's transport test suite and nothing else: one set
// of tests of the sockets (listen, dial, exchange, close) and of the tcp and
// udp test halves (throughput counts, ping-pong), each one table over both
// transports, run over every stack.Network implementation: the OS stack, the
// OS stack inside a network namespace (root), gVisor's netstack, and both
// ends of an emulated link (impair/link: tun (root), netstack). It sits
// above stack, tcp, udp and impair/link because it imports them all (tcp and
// udp never import each other).
package suite
