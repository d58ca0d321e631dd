package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// MaxReportBytes bounds a saved report read back ('netduel report', --baseline):
// 100 results of 3600 intervals each fit in well under it.
const MaxReportBytes = 64 << 20

// readBounded reads a file of at most limit bytes. A longer one (or an endless
// one: /dev/zero, a pipe that never ends) is an error, never an out-of-memory.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	// A JSON report starts with '{': anything else (/dev/zero's zeros, a
	// binary file) is refused at its first byte, not read to the limit.
	br := bufio.NewReader(io.LimitReader(f, limit+1))
	for {
		b, err := br.Peek(1)
		if err != nil {
			break // empty: the JSON decoder says so
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' {
			br.ReadByte()
			continue
		}
		if b[0] != '{' {
			return nil, fmt.Errorf("%s is not a netduel JSON report: it starts with %q, not '{' (save one with 'netduel run -o json > FILE')", path, b[0])
		}
		break
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

func tooLarge(path string, limit int64) error {
	return fmt.Errorf("%s is larger than %d MiB: not a netduel JSON report (save one with 'netduel run -o json > FILE')", path, limit>>20)
}
