package fhir

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	lim := JSONLimits{Depth: 4, ArrayItems: 3, ObjectMembers: 3, Values: 20, StringBytes: 5}
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"a":1,"b":[1,2,3],"c":{"d":"xy"}}`, 0, ""},
		{`{"a":1,"a":2}`, http.StatusBadRequest, `the member "a" twice`},
		{`{"a":{"b":1,"c":{"b":2,"b":3}}}`, http.StatusBadRequest, `the object at $.a.c holds the member "b" twice`},
		{`[{"x":1},{"x":1}]`, 0, ""}, // the same name in two objects
		{`{"a":[1,2,3,4]}`, http.StatusRequestEntityTooLarge, "an array with more items (the gateway's limit is 3) at $.a"},
		{`{"a":1,"b":2,"c":3,"d":4}`, http.StatusRequestEntityTooLarge, "more members"},
		{`{"a":{"b":{"c":{"d":1}}}}`, 0, ""}, // four deep
		{`{"a":{"b":{"c":{"d":{"e":1}}}}}`, http.StatusRequestEntityTooLarge, "nested deeper"},
		{`{"a":"123456"}`, http.StatusRequestEntityTooLarge, "a string of 6 bytes"},
		{`[[1,1,1],[1,1,1],[1,1,1]]`, 0, ""},
		{`{"a":[[1,1,1],[1,1,1],[1,1,1]],"b":[[1,1,1],[1,1,1]]}`, http.StatusRequestEntityTooLarge, "more values"},
		{`{"a":`, 0, ""}, // malformed: left to the decoder
	} {
		err := CheckJSON([]byte(tc.body), lim)
		var fe *Error
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%s: %v, want accepted", tc.body, err)
		case tc.status != 0 && (!errors.As(err, &fe) || fe.Status != tc.status || !strings.Contains(fe.Issues[0].Diagnostics, tc.want)):
			t.Errorf("%s: %v, want %d with %q", tc.body, err, tc.status, tc.want)
		}
	}
}
