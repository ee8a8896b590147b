package contract

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// contractPurge: a purged resource leaves nothing behind on either engine
// (read, vread, instance and type history, search by any of its values,
// the patient list, access facts, the version walk a copy makes), while
// its neighbours keep everything; purging again is not found, and the id
// can be written afresh from version 1.
func contractPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	e, put := fresh(t, open)
	put(`{"resourceType":"Patient","id":"gone","name":[{"family":"Purgeable"}],"gender":"female"}`)
	put(`{"resourceType":"Patient","id":"gone","name":[{"family":"Purgeable"}],"gender":"male"}`)
	put(`{"resourceType":"Patient","id":"kept","name":[{"family":"Keeper"}]}`)
	put(`{"resourceType":"EpisodeOfCare","id":"ep-gone","status":"active","patient":{"reference":"Patient/gone"},"managingOrganization":{"reference":"Organization/la"}}`)
	put(`{"resourceType":"EpisodeOfCare","id":"ep-gone","status":"finished","patient":{"reference":"Patient/gone"},"managingOrganization":{"reference":"Organization/la"}}`)
	put(`{"resourceType":"EpisodeOfCare","id":"ep-kept","status":"active","patient":{"reference":"Patient/kept"},"managingOrganization":{"reference":"Organization/la"}}`)
	put(`{"resourceType":"Observation","id":"o-gone","status":"final","code":{"text":"visit"},"subject":{"reference":"Patient/gone"}}`)
	if _, err := e.Delete(ctx, "Observation", "o-gone", 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		typ, id  string
		versions int
	}{{"Patient", "gone", 2}, {"EpisodeOfCare", "ep-gone", 2}, {"Observation", "o-gone", 2}} {
		n, err := e.Purge(ctx, r.typ, r.id)
		if err != nil || n != r.versions {
			t.Fatalf("purge %s/%s: %d versions, %v; want %d", r.typ, r.id, n, err, r.versions)
		}
		if _, err := e.Purge(ctx, r.typ, r.id); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("purge %s/%s again: %v, want not found", r.typ, r.id, err)
		}
		if _, err := e.Read(ctx, r.typ, r.id); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("read %s/%s after purge: %v, want not found (not gone)", r.typ, r.id, err)
		}
		for vid := int64(1); vid <= int64(r.versions); vid++ {
			if _, err := e.VRead(ctx, r.typ, r.id, vid); !errors.Is(err, fhir.ErrNotFound) {
				t.Errorf("vread %s/%s/%d after purge: %v", r.typ, r.id, vid, err)
			}
		}
		if vs, _, err := e.History(ctx, r.typ, r.id, store.HistoryOptions{Count: 10}); !errors.Is(err, fhir.ErrNotFound) || len(vs) != 0 {
			t.Errorf("history of %s/%s after purge: %d versions, %v", r.typ, r.id, len(vs), err)
		}
		vs, _, err := e.History(ctx, r.typ, "", store.HistoryOptions{Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.ID == r.id {
				t.Errorf("type history of %s still has %s version %d", r.typ, r.id, v.VersionID)
			}
		}
		err = e.Versions(ctx, r.typ, func(v *store.Version) error {
			if v.ID == r.id {
				t.Errorf("the version walk still has %s/%s version %d", r.typ, r.id, v.VersionID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string][]string{
		"Patient?family=Purgeable":                   nil,
		"Patient?gender=male":                        nil,
		"Patient?_id=gone":                           nil,
		"Patient?family=Keeper":                      {"kept"},
		"EpisodeOfCare?patient=Patient/gone":         nil,
		"EpisodeOfCare?status=finished":              nil,
		"EpisodeOfCare?patient=Patient/kept":         {"ep-kept"},
		"Observation?subject=Patient/gone":           nil,
		"EpisodeOfCare?organization=Organization/la": {"ep-kept"},
	} {
		typ, query, _ := strings.Cut(q, "?")
		if got := all(t, e, parse(t, typ, query), nil); !slices.Equal(got, want) {
			t.Errorf("%s after purge: %v, want %v", q, got, want)
		}
	}
	pats, err := e.Patients(ctx, parse(t, "EpisodeOfCare", ""))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pats, "Patient/gone") {
		t.Errorf("patients of EpisodeOfCare after purge: %v", pats)
	}
	fs, err := e.Facts(ctx, facts.Query{Patients: []string{"Patient/gone", "Patient/kept"}, Orgs: []string{"Organization/la"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Patient+" "+f.Kind)
	}
	slices.Sort(got)
	if want := []string{"Patient/kept episode", "Patient/kept episode-active"}; !slices.Equal(got, want) {
		t.Errorf("facts after purge: %v, want %v", got, want)
	}
	// Nothing of the old resource remains to be built on: the id starts
	// again at version 1.
	wr, err := e.Update(ctx, Resource(t, `{"resourceType":"Patient","id":"gone"}`), store.Absent)
	if err != nil || !wr.Created || wr.Version.VersionID != 1 {
		t.Fatalf("write the purged id again: %+v %v", wr, err)
	}
	if _, err := e.Purge(ctx, "NotAType", "x"); !errors.Is(err, fhir.ErrNotFound) {
		t.Errorf("purge of an unsupported type: %v", err)
	}
}
