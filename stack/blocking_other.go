//go:build !linux

package stack

import (
	"net/netip"
	"syscall"
	"time"
)

// Blocking is the netpoller's alternative on Linux only (see blocking_linux.go):
// here NewBlocking always reports false and callers keep the netpoller.
type Blocking struct{ blockingDeadline }

// NewBlocking reports false off Linux.
func NewBlocking(any) (*Blocking, bool) { return nil, false }

// SetBusy does nothing off Linux.
func (b *Blocking) SetBusy(bool) {}

// SetBusyWhile does nothing off Linux.
func (b *Blocking) SetBusyWhile(func() bool) {}

// Wait is never called off Linux.
func (b *Blocking) Wait() string { return WaitNetpoller }

// Release does nothing off Linux.
func (b *Blocking) Release() {}

// Interrupt does nothing off Linux.
func Interrupt(any) {}

// Read is never called off Linux (there is no Blocking to call it on).
func (b *Blocking) Read([]byte) (int, error) { return 0, syscall.ENOTSUP }

// ReadFromUDP is never called off Linux.
func (b *Blocking) ReadFromUDP([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, syscall.ENOTSUP
}

// ReadMsgUDP is never called off Linux.
func (b *Blocking) ReadMsgUDP(_, _ []byte) (int, int, netip.AddrPort, error) {
	return 0, 0, netip.AddrPort{}, syscall.ENOTSUP
}

// SetRawWhile does nothing off Linux.
func (b *Blocking) SetRawWhile(func() bool) {}

// Write is never called off Linux.
func (b *Blocking) Write([]byte) (int, error) { return 0, syscall.ENOTSUP }

// WriteToUDPAddrPort is never called off Linux.
func (b *Blocking) WriteToUDPAddrPort([]byte, netip.AddrPort) (int, error) {
	return 0, syscall.ENOTSUP
}

// SetStamps does nothing off Linux.
func (b *Blocking) SetStamps(bool) {}

// stampsAt is never called off Linux.
func (b *Blocking) stampsAt() (sent, read time.Time) { return time.Time{}, time.Time{} }

// SetNetpollWhile does nothing off Linux.
func (b *Blocking) SetNetpollWhile(func() bool) {}
