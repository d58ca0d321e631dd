//go:build !linux

package stack

import "errors"

// Namespace is a Linux network namespace; elsewhere none can be created.
type Namespace struct{}

var errNoNamespaces = errors.New("network namespaces exist on Linux only")

// NewNamespace fails off Linux.
func NewNamespace(string) (*Namespace, error) { return nil, errNoNamespaces }

// Name returns "".
func (ns *Namespace) Name() string { return "" }

// Close does nothing.
func (ns *Namespace) Close() error { return nil }

// Do runs f: off Linux there is no namespace to enter.
func (ns *Namespace) Do(f func() error) error {
	if ns != nil {
		return errNoNamespaces
	}
	return f()
}

// CanCreateNamespaces fails off Linux.
func CanCreateNamespaces() error { return errNoNamespaces }
