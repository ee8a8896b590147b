package gateway_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// person is one fixture record as stored: its Patient and the resources
// translated from it, by type.
type person struct {
	patient string // "Patient/<id>"
	nhs     string
	byType  map[string][]fhir.Resource
}

// first returns the id of the first resource of the type for which ok
// holds (ok may be nil), failing the test if there is none.
func (p *person) first(t *testing.T, typ string, ok func(map[string]any) bool) string {
	t.Helper()
	for _, r := range p.byType[typ] {
		if ok == nil || ok(r.Object) {
			return typ + "/" + r.ID
		}
	}
	t.Fatalf("%s has no matching %s", p.patient, typ)
	return ""
}

// loadPeople translates every fixture record and stores its resources
// directly (not through HTTP), keyed by the fixture number ("01".."14").
func loadPeople(t testing.TB, e *env) map[string]*person {
	t.Helper()
	ctx := context.Background()
	files, err := filepath.Glob(filepath.Join(socialCareFixtures, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", socialCareFixtures, err)
	}
	now := time.Now()
	people := map[string]*person{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := socialcare.Decode(data, now)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		res, err := socialcare.Translate(rec)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p := &person{nhs: rec.Person.NHSNumber, byType: map[string][]fhir.Resource{}}
		for i := range res {
			if _, err := e.store.Update(ctx, &res[i], 0); err != nil {
				t.Fatalf("%s: store %s/%s: %v", f, res[i].Type, res[i].ID, err)
			}
			p.byType[res[i].Type] = append(p.byType[res[i].Type], res[i])
			if res[i].Type == "Patient" {
				p.patient = "Patient/" + res[i].ID
			}
		}
		people[filepath.Base(f)[:2]] = p
	}
	return people
}

// tokens for the scenarios: the fixtures' GP practice, council, home care
// provider, and an NHS trust with no relationship with anyone.
func gpToken(t testing.TB, role, purpose string) string {
	return mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "Y99001", Role: role, Purpose: purpose})
}

func councilToken(t *testing.T, role, purpose string) string {
	return mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYN01", Role: role, Purpose: purpose})
}

// searched is a whole search, every page followed.
type searched struct {
	ids   []string // matches, in order ("Type/id")
	incl  []string // included resources
	total int      // Bundle.total of the first page, -1 when absent
	pages []int    // matches per page
}

// searchAll runs a search as the env's token and follows next links.
func (e *env) searchAll(t *testing.T, path string) searched {
	t.Helper()
	s := searched{total: -1}
	for first := true; path != ""; first = false {
		r := e.do(http.MethodGet, path, "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		b := r.json(t)
		if tot, ok := b["total"].(float64); ok && first {
			s.total = int(tot)
		}
		ids, modes := entries(t, r)
		n := 0
		for i, id := range ids {
			if modes[i] == "match" {
				s.ids = append(s.ids, id)
				n++
			} else {
				s.incl = append(s.incl, id)
			}
		}
		s.pages = append(s.pages, n)
		path = strings.TrimPrefix(link(t, r, "next"), e.srv.URL)
		if len(s.pages) > 100 {
			t.Fatalf("more than 100 pages for %s", path)
		}
	}
	return s
}

// diagnostics joins the diagnostics of an OperationOutcome response.
func diagnostics(t *testing.T, r *response) string {
	t.Helper()
	var out []string
	for _, i := range outcome(t, r) {
		d, _ := i["diagnostics"].(string)
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

// resign returns token with its claims changed by edit and signed again
// with the development key: a token the issuer's key really signed but the
// development minter would refuse to make (Mint checks the claims).
func resign(t *testing.T, token string, edit func(claims map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	edit(claims)
	if payload, err = json.Marshal(claims); err != nil {
		t.Fatal(err)
	}
	input := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload)
	pemData, err := os.ReadFile(filepath.Join("..", "fixtures", "devkeys", auth.DevKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatal("development key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("development key type %T", key)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// mintTrust is a clinician at the trust RJ1, which has no relationship with
// any fixture person.
func mintTrust(t *testing.T) string {
	return mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "TREAT"})
}
