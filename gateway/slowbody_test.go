package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/gateway"
)

// A body that does not arrive within the request time limit ends the
// request: a client dribbling its body cannot hold a handler for longer.
// (The test passes as soon as the gateway answers or closes; it fails only
// if nothing happens for many times the limit.)
func TestSlowBodyIsCutAtTheRequestTimeLimit(t *testing.T) {
	e := newEnv(t, gateway.Config{RequestTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /Patient HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{", e.token)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Fatalf("a body that never arrived: %d", res.StatusCode)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the gateway still waits for the body after %s (limit 300ms)", time.Since(start))
	}
}
