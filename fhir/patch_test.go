package fhir

import (
	"strings"
	"testing"
)

func TestApplyPatch(t *testing.T) {
	cases := []struct {
		note, patch, want, err string
	}{
		{note: "replace a nested value", patch: `[{"op":"replace","path":"/name/0/family","value":"Smyth"}]`, want: `{"id":"a","name":[{"family":"Smyth","given":["Jo"]}],"resourceType":"Patient"}`},
		{note: "add to the end of an array", patch: `[{"op":"add","path":"/name/0/given/-","value":"Ann"}]`, want: `{"id":"a","name":[{"family":"Smith","given":["Jo","Ann"]}],"resourceType":"Patient"}`},
		{note: "insert into an array", patch: `[{"op":"add","path":"/name/0/given/0","value":"Ann"}]`, want: `{"id":"a","name":[{"family":"Smith","given":["Ann","Jo"]}],"resourceType":"Patient"}`},
		{note: "remove", patch: `[{"op":"remove","path":"/name/0/given"}]`, want: `{"id":"a","name":[{"family":"Smith"}],"resourceType":"Patient"}`},
		{note: "test holds", patch: `[{"op":"test","path":"/name/0/family","value":"Smith"},{"op":"add","path":"/gender","value":"female"}]`, want: `{"gender":"female","id":"a","name":[{"family":"Smith","given":["Jo"]}],"resourceType":"Patient"}`},
		{note: "test fails", patch: `[{"op":"test","path":"/name/0/family","value":"Smyth"}]`, err: "not the one tested"},
		{note: "replace what is not there", patch: `[{"op":"replace","path":"/gender","value":"male"}]`, err: "nothing is there"},
		{note: "id is kept", patch: `[{"op":"replace","path":"/id","value":"b"}]`, err: "cannot be patched"},
		{note: "move unsupported", patch: `[{"op":"move","from":"/a","path":"/b"}]`, err: "not supported"},
		{note: "out of range", patch: `[{"op":"replace","path":"/name/3","value":{}}]`, err: "nothing is there"},
	}
	for _, tc := range cases {
		t.Run(tc.note, func(t *testing.T) {
			obj, _ := DecodeObject([]byte(`{"resourceType":"Patient","id":"a","name":[{"family":"Smith","given":["Jo"]}]}`))
			ops, err := DecodePatch([]byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			err = ApplyPatch(obj, ops)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := MarshalResource(obj)
			// MarshalResource puts resourceType, id first; compare sorted forms.
			if normal(t, string(got)) != normal(t, tc.want) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func normal(t *testing.T, s string) string {
	obj, err := DecodeObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := MarshalResource(obj)
	return string(b)
}
