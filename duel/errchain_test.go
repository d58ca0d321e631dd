package duel

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"testing"

	"github.com/netduel/netduel/frame"
)

// TestErrorsKeepTheirCause: the control protocol's and NewServer's errors
// wrap what caused them (they used %v, which kept the text and lost the chain).
func TestErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	control := func(body string) *frame.Reader {
		buf := make([]byte, frame.HeaderLen+len(body))
		if _, err := frame.Encode(buf, frame.Header{Type: frame.TypeControl}, []byte(body)); err != nil {
			t.Fatal(err)
		}
		return frame.NewReader(bytes.NewReader(buf), 0)
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var addr *net.AddrError
	cases := []struct {
		name   string
		err    func() error
		target any
	}{
		{"control frame not JSON", func() error { _, _, _, err := nextControl(control("{")); return err }, &syntax},
		{"message of the wrong shape", func() error {
			var v struct{ N int }
			_, err := readControl(control(`{"type":"x","N":"text"}`), "x", &v)
			return err
		}, &typ},
		{"listen address", func() error { _, err := NewServer(ServerConfig{Listen: "no port"}); return err }, &addr},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !errors.As(err, c.target) {
			t.Errorf("%s: %v (%T) does not wrap its cause", c.name, err, err)
		}
	}
}
