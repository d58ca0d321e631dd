package stack

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Namespace is an anonymous Linux network namespace owned by this process. It
// has no name under /var/run/netns: it lives while its descriptor is open, so it
// vanishes when the process ends, whatever the reason (Ctrl-C, a crash).
type Namespace struct {
	fd   int    // open /proc/thread-self/ns/net of the namespace
	ino  uint64 // its inode, to check which namespace a thread is in
	name string
}

// NewNamespace creates an empty network namespace (only a loopback device,
// brought up). It needs CAP_SYS_ADMIN.
func NewNamespace(name string) (*Namespace, error) {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("opening this thread's network namespace: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("creating a network namespace (needs root or CAP_SYS_ADMIN): %w", err)
	}
	ns := &Namespace{name: name}
	ns.fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		ns.ino, err = nsInode(ns.fd)
	}
	if err == nil {
		err = loopbackUp()
	}
	// Back to where the thread was; if that fails the thread must not be reused.
	if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
		if ns.fd > 0 {
			unix.Close(ns.fd)
		}
		return nil, fmt.Errorf("returning from the new namespace: %w", serr) // thread stays locked: the runtime discards it
	}
	runtime.UnlockOSThread()
	if err != nil {
		if ns.fd > 0 {
			unix.Close(ns.fd)
		}
		return nil, err
	}
	return ns, nil
}

// Name returns the name given at creation (for messages only).
func (ns *Namespace) Name() string { return ns.name }

// Close releases the namespace: once no socket or device holds it, the kernel
// removes it with its interfaces.
func (ns *Namespace) Close() error {
	if ns == nil || ns.fd < 0 {
		return nil
	}
	err := unix.Close(ns.fd)
	ns.fd = -1
	return err
}

func nsInode(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// errWrongNamespace means a thread was not in the namespace it should have been:
// no socket is created then, so no packet can leave by mistake.
var errWrongNamespace = errors.New("thread is not in the expected network namespace")

// Do runs f on an OS thread inside the namespace and returns its error. Sockets
// and devices f creates belong to the namespace. Before running f it checks,
// from /proc/thread-self/ns/net, that the thread really is in the namespace.
func (ns *Namespace) Do(f func() error) error {
	if ns == nil {
		return f()
	}
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer unix.Close(orig)
	if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns.name, err)
	}
	ferr := ns.check()
	if ferr == nil {
		ferr = f()
	}
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime terminates it with the goroutine.
		return fmt.Errorf("leaving namespace %s: %w", ns.name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// check verifies that the calling thread is in the namespace.
func (ns *Namespace) check() error {
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ino, err := nsInode(fd)
	if err != nil {
		return err
	}
	if ino != ns.ino {
		return fmt.Errorf("%w %s", errWrongNamespace, ns.name)
	}
	return nil
}

// loopbackUp brings up lo in the calling thread's namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading lo's flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}

// InNamespace reports whether the process may create namespaces here.
func CanCreateNamespaces() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (or CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
	return nil
}
