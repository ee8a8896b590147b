package socialcare

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// ReadNDJSON reads newline-delimited records and calls fn for each in
// order, with its 1-based line number and either the decoded record or the
// *fhir.Error that [Decode] returned for it. A bad line does not stop the
// rest; blank lines are skipped. ReadNDJSON stops early only when fn returns
// an error (which it returns) or the reader fails.
func ReadNDJSON(r io.Reader, now time.Time, fn func(line int, rec *Record, err error) error) error {
	br := bufio.NewReaderSize(r, 64*1024)
	for line := 1; ; line++ {
		data, readErr := br.ReadBytes('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return fmt.Errorf("socialcare: read NDJSON line %d: %w", line, readErr)
		}
		if data = bytes.TrimSpace(data); len(data) > 0 {
			rec, err := Decode(data, now)
			if ferr := fn(line, rec, err); ferr != nil {
				return ferr
			}
		}
		if readErr != nil {
			return nil
		}
	}
}
