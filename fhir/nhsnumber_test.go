package fhir

import "testing"

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		note string
		in   string
		want bool
	}{
		{"NHS England worked example", "9434765919", true},
		{"worked example with wrong check digit", "9434765918", false},
		{"test range number", "9990000018", true},
		{"another test range number", "9990000026", true},
		{"test range with wrong check digit", "9990000019", false},
		{"nine digits whose check digit would be 10", "9991234560", false},
		{"check digit 11 becomes 0", "9912003810", true},
		{"all nines happens to pass", "9999999999", true},
		{"UK Core example that fails the check", "9912003814", false},
		{"UK Core example that fails the check", "4123456879", false},
		{"too short", "943476591", false},
		{"too long", "94347659190", false},
		{"spaces are not stripped", "943 476 5919", false},
		{"non digit", "94347659a9", false},
		{"non ASCII digit", "943476591٩", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			if got := ValidNHSNumber(tt.in); got != tt.want {
				t.Errorf("ValidNHSNumber(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
