//go:build !linux

package stack

import (
	"errors"
	"time"
)

// TUNReader is a Linux TUN device's reader; elsewhere none exists.
type TUNReader struct{}

// ErrReaderStopped is what Read returns once Stop was called.
var ErrReaderStopped = errors.New("TUN reader stopped")

// Reader fails off Linux.
func (t *TUN) Reader() (*TUNReader, error) { return nil, errors.New("no TUN devices here") }

// Read is never reached off Linux.
func (r *TUNReader) Read(b []byte) (int, error) { return 0, ErrReaderStopped }

// TryRead is never reached off Linux.
func (r *TUNReader) TryRead(b []byte) (int, bool, error) { return 0, false, ErrReaderStopped }

// Wait is never reached off Linux.
func (r *TUNReader) Wait(time.Duration) (bool, error) { return false, ErrReaderStopped }

// WritePacket is never reached off Linux.
func (r *TUNReader) WritePacket(hdr, pkt []byte) error { return ErrReaderStopped }

// Stop is never reached off Linux.
func (r *TUNReader) Stop() {}

// Close is never reached off Linux.
func (r *TUNReader) Close() {}
