package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// testKey carries the current *testing.T in a request's context, so that the
// transport can fail the test that sent the request.
type testKey struct{}

// withTest returns a context that names t as the sender of its requests.
func withTest(ctx context.Context, t testing.TB) context.Context {
	return context.WithValue(ctx, testKey{}, t)
}

// validatingTransport is the one RoundTripper of the suite. For every
// response it finds the spec's route; when there is one, it validates the
// response (status, headers, body) and records the pair in the ledger.
// Deliberately unknown routes and methods match nothing and pass unchecked.
type validatingTransport struct {
	base http.RoundTripper
}

func (vt *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := vt.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	api, route, params, ok := findRoute(req)
	if !ok {
		return resp, nil
	}
	ledger.record(api, route.Method, route.Path, resp.StatusCode)

	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	in.SetBodyBytes(body)
	if verr := openapi3filter.ValidateResponse(req.Context(), in); verr != nil {
		msg := fmt.Sprintf("response does not match the spec: %s %s (%s %s) -> %d\nbody: %s\nerror: %v",
			req.Method, req.URL.RequestURI(), route.Method, route.Path, resp.StatusCode, truncate(body, 2000), verr)
		if t, ok := req.Context().Value(testKey{}).(testing.TB); ok {
			t.Error(msg)
		} else {
			ledger.orphan(msg)
		}
	}
	return resp, nil
}

// findRoute matches req against the contract its path is under ("v3" or
// "ci-v1"). A trailing ".json" is ignored, as the server ignores it.
func findRoute(req *http.Request) (string, *routers.Route, map[string]string, bool) {
	r := req
	if strings.HasSuffix(req.URL.Path, ".json") {
		r = req.Clone(req.Context())
		r.URL.Path = strings.TrimSuffix(r.URL.Path, ".json")
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, ".json")
		}
	}
	api, router := "v3", env.router
	if strings.HasPrefix(r.URL.Path, "/ci/api/v1/") || strings.HasPrefix(r.URL.Path, "/api/v1/") {
		api, router = "ci-v1", env.ciRouter
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		if !errors.Is(err, routers.ErrPathNotFound) && !errors.Is(err, routers.ErrMethodNotAllowed) {
			ledger.orphan(fmt.Sprintf("router: %s %s: %v", req.Method, req.URL.Path, err))
		}
		return "", nil, nil, false
	}
	return api, route, params, true
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("… (%d bytes)", len(b))
}

// ledger is the coverage ledger of the run.
var ledger = &coverage{seen: map[string]bool{}}

type coverage struct {
	mu      sync.Mutex
	seen    map[string]bool // "API METHOD /path/{template} STATUS"
	orphans []string        // validation failures of requests sent outside any test
}

func pairKey(api, method, path string, status string) string {
	return api + " " + method + " " + path + " " + status
}

func (c *coverage) record(api, method, path string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[pairKey(api, method, path, strconv.Itoa(status))] = true
}

func (c *coverage) orphan(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.orphans = append(c.orphans, msg)
}

func (c *coverage) orphanErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.orphans...)
}

// untested lists every documented (operation, status) pair of the api's
// spec that no request exercised, as `v3 GET /users/{id}: 404 untested`.
// `default` responses are not pairs; a range such as `4XX` counts as
// exercised by any status in it.
func (c *coverage) untested(api string, spec *openapi3.T) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, path := range spec.Paths.InMatchingOrder() {
		for method, op := range spec.Paths.Value(path).Operations() {
			if op.Responses == nil {
				continue
			}
			for status := range op.Responses.Map() {
				if status == "default" {
					continue
				}
				if !c.exercised(api, method, path, status) {
					out = append(out, fmt.Sprintf("%s %s %s: %s untested", api, method, path, status))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func (c *coverage) exercised(api, method, path, status string) bool {
	if len(status) == 3 && strings.HasSuffix(strings.ToUpper(status), "XX") {
		for d := 0; d < 100; d++ {
			if c.seen[pairKey(api, method, path, fmt.Sprintf("%c%02d", status[0], d))] {
				return true
			}
		}
		return false
	}
	return c.seen[pairKey(api, method, path, status)]
}
