//go:build !linux

package udp

import "net"

const maxGSOSegments = 1

func setGSO(net.Conn, int) bool        { return false }
func setGRO(net.PacketConn, bool) bool { return false }
func gsoRefused(error) bool            { return false }
func groSegment([]byte) int            { return 0 }

var groOOBLen = 0
