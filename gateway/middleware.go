package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
)

const requestIDKey = "gateway.request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withRequestID accepts a safe X-Request-ID from the client or makes one,
// and echoes it on the response.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// logRequests writes one line per request. It never logs the query string
// or bodies (they carry names and NHS numbers), only the route shape.
func logRequests(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", routeShape(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", c.Writer.Size()),
		}
		logger.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// routeShape is the request's route with ids left out:
// /{type}/{id}/_history/{vid}, or gin's pattern for its own routes.
func routeShape(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	rt := routeOf(c)
	typ := rt.Type
	if typ == "" {
		typ = "{unknown}"
	}
	return strings.Replace(strings.Replace(rt.shape, "{type}", typ, 1), "$op", rt.Operation, 1)
}

// recoverPanics turns a panic into a 500 OperationOutcome that reveals
// nothing, and logs it with the request id.
func recoverPanics(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logger.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r))
				c.Errors = c.Errors[:0]
				_ = c.Error(errors.New("panic"))
				writeOutcome(c, toFHIRError(errors.New("panic"), requestID(c)))
				c.Abort()
			}
		}()
		c.Next()
	}
}

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which readBody turns into 413.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			_ = c.Error(tooLarge(max))
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}

func tooLarge(max int64) *fhir.Error {
	return fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long", "the request body is larger than the gateway's limit of %d bytes; split the request or send a bulk import", max)
}

// withTimeout bounds the time a request may spend, so that deadlines reach
// MongoDB and OPA through c.Request.Context().
func withTimeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		// The body too must arrive within the time limit: a client sending
		// it a byte at a time does not hold a handler for longer. Once it
		// has been read the deadline goes (the server reads on in the
		// background to see whether the client left, and a deadline
		// passing there would cancel the request as if it had).
		if c.Request.Body != nil && c.Request.Body != http.NoBody && c.Request.ContentLength != 0 {
			rc := http.NewResponseController(c.Writer)
			if rc.SetReadDeadline(time.Now().Add(d)) == nil {
				c.Request.Body = &deadlineBody{ReadCloser: c.Request.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
			}
		}
		c.Next()
	}
}

// deadlineBody clears the connection's read deadline once the body has
// been read to its end. A body that failed or was left unread keeps it, so
// the server's draining of it ends at the deadline too.
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(b.clear)
	}
	return n, err
}

// negotiate enforces that the client accepts FHIR JSON (406 otherwise) and
// honours _format.
func negotiate() gin.HandlerFunc {
	return func(c *gin.Context) {
		// The operations that offer a page people can read.
		html := slices.ContainsFunc([]string{"/$who-accessed", "/$summary", "/$subject-access", "/$explain", "/policy/agreement", "/rights"}, func(op string) bool { return strings.HasSuffix(c.Request.URL.Path, op) })
		if strings.HasSuffix(c.Request.URL.Path, "/$data-quality") || c.Request.URL.Path == "/"+opQualityTrend || strings.HasPrefix(c.Request.URL.Path, "/$disposal/") || strings.HasPrefix(c.Request.URL.Path, "/$case-file-") {
			c.Next() // json, csv or html: the report (its trend, a certificate of destruction, a case-file audit's page) checks its _format itself
			return
		}
		exportFile := strings.HasPrefix(c.Request.URL.Path, "/$export-file/") // NDJSON
		if f, ok := c.GetQuery("_format"); ok {
			switch strings.TrimSpace(f) {
			case "json", "application/json", "application/fhir+json", "fhir+json":
			case "html", "text/html":
				if !html {
					_ = c.Error(fhir.Errorf(http.StatusNotAcceptable, "not-supported", "_format=html is offered only by $who-accessed, $summary, $subject-access, $explain, /policy/agreement and /rights; this server speaks JSON").At("_format"))
					c.Abort()
					return
				}
			default:
				_ = c.Error(fhir.Errorf(http.StatusNotAcceptable, "not-supported", "_format %q is not supported; this server speaks JSON only (_format=json or application/fhir+json)", f).At("_format"))
				c.Abort()
				return
			}
		} else if accept := c.GetHeader("Accept"); accept != "" && !acceptsJSON(accept) && !(html && strings.Contains(accept, "text/html")) &&
			!(exportFile && strings.Contains(accept, "ndjson")) {
			_ = c.Error(fhir.Errorf(http.StatusNotAcceptable, "not-supported", "this server answers in application/fhir+json only; send Accept: application/fhir+json"))
			c.Abort()
			return
		}
		c.Next()
	}
}

func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir":
			return true
		}
	}
	return false
}

// readBody reads the request body: 413 past its limit (limitBody), 400 if
// it cannot be read.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the request body could not be read")
	}
	return body, nil
}

// requireJSONBody checks the Content-Type of a request with a resource body.
func requireJSONBody(c *gin.Context) error {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "send the resource with Content-Type: application/fhir+json")
	}
	switch mt {
	case "application/fhir+json", "application/json", "application/json+fhir":
		return nil
	}
	return fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "Content-Type %s is not supported; send application/fhir+json", mt)
}
