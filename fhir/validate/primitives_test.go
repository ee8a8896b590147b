package validate

import (
	"encoding/json"
	"testing"
)

func TestCheckString(t *testing.T) {
	tests := []struct {
		p     primitive
		in    string
		valid bool
	}{
		{pID, "a-B.9", true},
		{pID, "a_b", false},
		{pCode, "in-progress", true},
		{pCode, "two words", true},
		{pCode, "two  spaces", false},
		{pCode, "trailing ", false},
		{pURI, "http://example.org/x", true},
		{pURI, "urn:x y", false},
		{pURL, "relative/path", false},
		{pOID, "urn:oid:1.2.3", true},
		{pOID, "urn:oid:1.02", false},
		{pUUID, "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", true},
		{pUUID, "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", false},
		{pBase64Binary, "SGVs bG8=", true},
		{pBase64Binary, "SGVsbG8", false},
		{pDate, "2024", true},
		{pDate, "2024-02", true},
		{pDate, "2024-02-29", true},
		{pDate, "2023-02-29", false},
		{pDate, "0000", false},
		{pDate, "2024-2-1", false},
		{pDateTime, "2024-02-01T10:00:00Z", true},
		{pDateTime, "2024-02-01T10:00:00.123+14:00", true},
		{pDateTime, "2024-02-01T10:00:00+14:30", false},
		{pDateTime, "2024-02-01T10:00:00", false},
		{pDateTime, "2024-02-01T24:00:00Z", false},
		{pDateTime, "2024-02-01 10:00:00Z", false},
		{pInstant, "2024-02-01T10:00:00Z", true},
		{pInstant, "2024-02-01T10:00:00-05:00", true},
		{pInstant, "2024-02-01", false},
		{pInstant, "2024-02-01T10:00:00", false},
		{pTime, "23:59:60", true},
		{pTime, "23:59", false},
		{pTime, "10:00:00Z", false},
		{pXHTML, `<div xmlns="http://www.w3.org/1999/xhtml">x</div>`, true},
		{pXHTML, `<p>x</p>`, false},
		{pReference, "Patient/123", true},
		{pReference, "Patient/123/_history/4", true},
		{pReference, "https://fhir.example.org/r4/Patient/123", true},
		{pReference, "http://", false},
		{pReference, "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", true},
		{pReference, "urn:oid:1.2.3", true},
		{pReference, "#med1", true},
		{pReference, "#", true},
		{pReference, "#a b", false},
		{pReference, "Location/1", true},
		{pReference, "Unicorn/1", false},
		{pReference, "123", false},
		{pReference, "Patient/1/2", false},
		{pString, "anything at all", true},
	}
	for _, tt := range tests {
		msg := checkString(tt.p, tt.in)
		if (msg == "") != tt.valid {
			t.Errorf("checkString(%v, %q) = %q, want valid=%v", tt.p, tt.in, msg, tt.valid)
		}
	}
}

func TestCheckNumber(t *testing.T) {
	tests := []struct {
		p     primitive
		in    string
		valid bool
	}{
		{pDecimal, "1.50", true},
		{pDecimal, "-1e3", true},
		{pInteger, "-5", true},
		{pInteger, "1.0", false},
		{pInteger, "1e2", false},
		{pInteger, "-0", false},
		{pInteger, "2147483647", true},
		{pInteger, "2147483648", false},
		{pPositiveInt, "1", true},
		{pPositiveInt, "0", false},
		{pUnsignedInt, "0", true},
		{pUnsignedInt, "-1", false},
	}
	for _, tt := range tests {
		msg := checkNumber(tt.p, json.Number(tt.in))
		if (msg == "") != tt.valid {
			t.Errorf("checkNumber(%v, %s) = %q, want valid=%v", tt.p, tt.in, msg, tt.valid)
		}
	}
}
