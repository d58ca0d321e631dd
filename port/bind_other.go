//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package port

// socket is a placeholder: this OS has no bind support here.
type socket struct{ spec sockSpec }

func openSocket(sockSpec) (*socket, error) { return nil, errNotAvailable }
func tryBind(sockSpec) error               { return errNotAvailable }
func (s *socket) close() error             { return nil }
func (s *socket) port() int                { return 0 }
func classifyErrno(err error) (State, string, bool) {
	return "", err.Error(), false
}
func (s *socket) drain(bool) (int, error) { return 0, errNotAvailable }
