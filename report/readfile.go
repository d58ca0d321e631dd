package report

import (
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
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

func tooLarge(path string, limit int64) error {
	return fmt.Errorf("%s is larger than %d MiB: not a netduel JSON report (save one with 'netduel run -o json > FILE')", path, limit>>20)
}
