package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Bundle validates a Bundle the gateway builds (a document, a searchset...)
// with the rules of Object: its envelope against the R4 Bundle model and
// each entry's resource against its own type's, every problem reported
// together as one 422 [*fhir.Error] with expressions such as
// "Bundle.entry[2].resource.status". Bundle is not a type clients store,
// so Object and Resource refuse it.
func Bundle(obj map[string]any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("validate: encode bundle: %w", err)
	}
	v, err := decode(b)
	if err != nil {
		return fmt.Errorf("validate: decode encoded bundle: %w", err)
	}
	m, _ := v.(map[string]any)
	if m == nil || m["resourceType"] != "Bundle" {
		return fhir.Errorf(http.StatusUnprocessableEntity, "value", "resourceType must be Bundle").At("resourceType")
	}
	// The envelope is walked without the entries' resources (held as raw
	// JSON in the model), which are walked as resources of their own.
	w := &walker{}
	root := path{name: "Bundle", index: -1}
	env := maps.Clone(m)
	entries, _ := m["entry"].([]any)
	var resources []map[string]any
	if len(entries) > 0 {
		stripped := make([]any, len(entries))
		resources = make([]map[string]any, len(entries))
		for i, e := range entries {
			em, ok := e.(map[string]any)
			if !ok {
				stripped[i] = e
				continue
			}
			resources[i], _ = em["resource"].(map[string]any)
			em = maps.Clone(em)
			delete(em, "resource")
			stripped[i] = em
		}
		env["entry"] = stripped
	}
	w.object(env, infoFor(reflect.TypeFor[models.Bundle]()), &root, 0, resTop)
	ep := root.child("entry")
	for i, res := range resources {
		if res == nil {
			continue
		}
		at := ep.at(i)
		rp := at.child("resource")
		rt, _ := res["resourceType"].(string)
		mt, ok := resourceModels[rt]
		if !ok {
			tp := rp.child("resourceType")
			w.add("value", &tp, "entries must hold resources of a type this server supports: "+strings.Join(fhir.ResourceTypes, ", "))
			continue
		}
		w.object(res, infoFor(mt), &rp, 2, resTop)
	}
	if len(w.issues) > 0 {
		return w.err()
	}
	return nil
}
