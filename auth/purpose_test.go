package auth

import "testing"

func TestNormalisePurpose(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"TREAT", "TREAT", true},
		{" coc ", "COC", true},
		{"http://terminology.hl7.org/CodeSystem/v3-ActReason|ETREAT", "ETREAT", true},
		{"BTG", "BTG", true},
		{"PATRQT", "PATRQT", true},
		{"HRESCH", "HRESCH", true},
		{"http://example.org/purpose|TREAT", "", false},
		{"directcare", "DIRECTCARE", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := NormalisePurpose(tc.in)
		if ok != tc.wantOK || (ok && got != tc.want) {
			t.Errorf("NormalisePurpose(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
