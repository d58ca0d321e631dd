package link

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// openTun builds the tun backend: namespaces, TUN devices, and a forwarder
// goroutine per direction reading one device and sending into a pipe whose
// output writes the other device.
func openTun(cfg impair.Config, congestion string, o options) (_ *Link, err error) {
	if congestion == "" {
		congestion = "cubic"
	}
	l := &Link{Backend: Tun, TCPStack: "linux", Congestion: congestion, Polling: o.poll, Config: cfg, ServerHost: ServerAddr.String(),
		stats: namespaceStats}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	nsC, err := l.namespace("netduel-client")
	if err != nil {
		return nil, err
	}
	nsS, err := l.namespace("netduel-server")
	if err != nil {
		return nil, err
	}
	if err := l.pinInsideCongestion(nsC, nsS); err != nil {
		return nil, err
	}
	if err := l.enableECN(nsC, nsS); err != nil {
		return nil, err
	}
	l.Client = &stack.OS{NS: nsC, Congestion: congestion}
	l.Server = &stack.OS{NS: nsS, Congestion: congestion}
	tc, ts, err := openDevices(nsC, nsS)
	if err != nil {
		return nil, err
	}
	f := newTunForwarder(tc, ts)
	f.polling = o.poll
	f.merging = cfg.Corrupt == 0 && !o.noMerge
	// Closers run in reverse: the readers stop (devices closed) before the
	// pipes. Each direction's delay line delivers its pipe (see line).
	l.pipes(impair.NewDrivenPipe, func(p []byte) { f.write(1, p) }, func(p []byte) { f.write(0, p) })
	l.devices = f.devs
	if err := f.start([2]*impair.Pipe{l.up, l.down}); err != nil {
		return nil, err
	}
	l.closers = append(l.closers, f.close)
	return l, nil
}

// namespace creates a network namespace that the link's Close removes.
func (l *Link) namespace(name string) (*stack.Namespace, error) {
	ns, err := stack.NewNamespace(name)
	if err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() { ns.Close() })
	return ns, nil
}

// openDevices opens the client's and the server's TUN device, each in its
// namespace, or neither.
func openDevices(nsC, nsS *stack.Namespace) (tc, ts *stack.TUN, err error) {
	tc, err = stack.OpenTUNOffload(nsC, "nd0", ClientAddr, ServerAddr, MTU)
	if err != nil {
		return nil, nil, err
	}
	ts, err = stack.OpenTUNOffload(nsS, "nd0", ServerAddr, ClientAddr, MTU)
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	return tc, ts, nil
}

// pinInsideCongestion makes the link's congestion control the namespaces'
// default too: programs started inside (netduel emulate) open their own
// sockets, and so get it. Where Linux refuses, InsideNote says why and how.
func (l *Link) pinInsideCongestion(namespaces ...*stack.Namespace) error {
	cc := l.Congestion
	for _, ns := range namespaces {
		got, err := stack.SetDefaultCongestion(ns, cc)
		switch {
		case errors.Is(err, syscall.EPERM):
			l.InsideNote = fmt.Sprintf("programs started inside get %s, the namespaces' default: Linux lets a namespace default only to an algorithm in net.ipv4.tcp_allowed_congestion_control (%s here); add %s there, or choose it in the program before it connects (a socket connected under %s keeps its pacing after switching: iperf3 -C %s ran paced)",
				got, stack.AllowedCongestion(), cc, got, cc)
		case err != nil:
			return err
		}
		l.InsideCongestion = got
	}
	return nil
}
