package gateway

import (
	"testing"
	"time"
)

// A request is due one calendar month after receipt, or on the last day
// of the next month when it has no such day.
func TestMonthLater(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-01-15T09:30:00Z", "2026-02-15T09:30:00Z"},
		{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"},
		{"2026-03-31T23:59:00Z", "2026-04-30T23:59:00Z"},
		{"2026-12-31T08:00:00Z", "2027-01-31T08:00:00Z"},
	} {
		in, _ := time.Parse(time.RFC3339, tc.in)
		if got := monthLater(in).Format(time.RFC3339); got != tc.want {
			t.Errorf("monthLater(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
