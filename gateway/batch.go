package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
)

type batchRequest struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			Method          string `json:"method"`
			URL             string `json:"url"`
			IfMatch         string `json:"ifMatch"`
			IfNoneExist     string `json:"ifNoneExist"`
			IfNoneMatch     string `json:"ifNoneMatch"`
			IfModifiedSince string `json:"ifModifiedSince"`
		} `json:"request"`
	} `json:"entry"`
}

// batch answers POST / with a Bundle of type batch: each entry is run
// through the same handlers as a standalone request (so the same
// validation, and later the same policy and audit, apply) and answered on
// its own; one failing entry does not affect the others.
func (s *Server) batch(c *gin.Context) error {
	if err := requireJSONBody(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := fhir.CheckJSON(body, fhir.DefaultJSONLimits); err != nil {
		return err
	}
	var req batchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fhir.Errorf(http.StatusBadRequest, "structure", "the body is not a JSON Bundle: %s", jsonProblem(err))
	}
	switch {
	case req.ResourceType != "Bundle":
		return fhir.Errorf(http.StatusBadRequest, "invalid", "POST to the base URL takes a Bundle of type batch").At("resourceType")
	case req.Type == "transaction":
		return fhir.Errorf(http.StatusUnprocessableEntity, "not-supported", "transaction Bundles are not supported; send type batch, whose entries succeed or fail one by one").At("Bundle.type")
	case req.Type != "batch":
		return fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "Bundle.type must be batch").At("Bundle.type")
	case len(req.Entry) > s.cfg.MaxBatchEntries:
		return fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long", "a batch may hold at most %d entries; split it", s.cfg.MaxBatchEntries).At("Bundle.entry")
	}
	out := newBundle("batch-response")
	for i, e := range req.Entry {
		where := "Bundle.entry[" + strconv.Itoa(i) + "]"
		if e.Request == nil || e.Request.Method == "" || e.Request.URL == "" {
			out.Entry = append(out.Entry, entryError(http.StatusBadRequest, "required", "each entry needs request.method and request.url", where+".request"))
			continue
		}
		method := strings.ToUpper(e.Request.Method)
		if method == http.MethodPatch || method == http.MethodHead {
			out.Entry = append(out.Entry, entryError(http.StatusMethodNotAllowed, "not-supported", method+" is not supported in a batch", where+".request.method"))
			continue
		}
		target := "/" + strings.TrimPrefix(e.Request.URL, "/")
		if strings.HasPrefix(e.Request.URL, "http://") || strings.HasPrefix(e.Request.URL, "https://") {
			rel, ok := strings.CutPrefix(e.Request.URL, s.base(c)+"/")
			if !ok {
				out.Entry = append(out.Entry, entryError(http.StatusBadRequest, "invalid", "request.url must be relative to this server", where+".request.url"))
				continue
			}
			target = "/" + rel
		}
		if target == "/" || strings.HasPrefix(target, "/?") {
			out.Entry = append(out.Entry, entryError(http.StatusBadRequest, "not-supported", "a batch cannot contain another batch", where+".request.url"))
			continue
		}
		r := httptest.NewRequestWithContext(c.Request.Context(), method, target, bytes.NewReader(e.Resource))
		r.Host = c.Request.Host
		r.TLS = c.Request.TLS
		for _, h := range []string{"Authorization", "Prefer", "Accept"} {
			if v := c.GetHeader(h); v != "" {
				r.Header.Set(h, v)
			}
		}
		r.Header.Set("X-Request-ID", requestID(c)+"."+strconv.Itoa(i))
		if len(e.Resource) > 0 {
			r.Header.Set("Content-Type", "application/fhir+json")
		}
		for h, v := range map[string]string{"If-Match": e.Request.IfMatch, "If-None-Exist": e.Request.IfNoneExist, "If-None-Match": e.Request.IfNoneMatch, "If-Modified-Since": e.Request.IfModifiedSince} {
			if v != "" {
				r.Header.Set(h, v)
			}
		}
		rec := httptest.NewRecorder()
		s.engine.ServeHTTP(rec, r)
		out.Entry = append(out.Entry, entryFromRecorder(rec))
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

func entryError(status int, code, msg, expr string) bundleEntry {
	oo, _ := json.Marshal(fhir.Outcome(fhir.Issue{Severity: "error", Code: code, Diagnostics: msg, Expression: []string{expr}}))
	return bundleEntry{Response: &entryResponse{Status: statusLine(status), Outcome: oo}}
}

func entryFromRecorder(rec *httptest.ResponseRecorder) bundleEntry {
	res := rec.Result()
	e := bundleEntry{Response: &entryResponse{
		Status:   statusLine(res.StatusCode),
		Location: res.Header.Get("Location"),
		Etag:     res.Header.Get("ETag"),
	}}
	if lm := res.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			e.Response.LastModified = instant(t)
		}
	}
	body := rec.Body.Bytes()
	if len(body) == 0 {
		return e
	}
	if res.StatusCode >= 400 {
		e.Response.Outcome = body
	} else {
		e.Resource = body
	}
	return e
}

// jsonProblem describes a JSON decoding error by position, without echoing
// content.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "element " + te.Field + " has the wrong JSON type"
	}
	return "malformed JSON"
}
