package swaggerui_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/labrador-dev/labrador/server/swaggerui"
)

var (
	v3Spec = swaggerui.Spec{
		Slug: "v3",
		JSON: []byte(`{"openapi":"3.0.3","info":{"title":"v3","version":"1"},"paths":{}}`),
		YAML: []byte("openapi: 3.0.3\ninfo: {title: v3, version: \"1\"}\npaths: {}\n"),
	}
	ciSpec = swaggerui.Spec{
		Slug: "ci-v1",
		JSON: []byte(`{"openapi":"3.0.3","info":{"title":"ci","version":"1"},"paths":{}}`),
		YAML: []byte("openapi: 3.0.3\ninfo: {title: ci, version: \"1\"}\npaths: {}\n"),
	}
)

// newServer serves Register on 127.0.0.1 and returns its base URL and a
// client that does not follow redirects.
func newServer(t *testing.T) (string, *http.Client) {
	t.Helper()
	e := echo.New()
	e.HideBanner = true
	swaggerui.Register(e, v3Spec, ciSpec)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return srv.URL, client
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestIndex(t *testing.T) {
	base, c := newServer(t)
	resp, body := get(t, c, base+"/api/docs/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc == "" {
		t.Error("no Cache-Control")
	}
	for _, want := range []string{
		`src="./swagger-initializer.js"`,
		`src="./swagger-ui-bundle.js"`,
		`src="./swagger-ui-standalone-preset.js"`,
		`href="./swagger-ui.css"`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, cdn := range []string{"unpkg.com", "cdn.jsdelivr", "cdnjs"} {
		if bytes.Contains(body, []byte(cdn)) {
			t.Errorf("index.html references a CDN (%s)", cdn)
		}
	}
}

func TestAssets(t *testing.T) {
	base, c := newServer(t)
	cases := map[string]string{
		"index.html":                      "text/html; charset=utf-8",
		"swagger-initializer.js":          "text/javascript; charset=utf-8",
		"swagger-ui-bundle.js":            "text/javascript; charset=utf-8",
		"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
		"swagger-ui.css":                  "text/css; charset=utf-8",
		"index.css":                       "text/css; charset=utf-8",
		"favicon-16x16.png":               "image/png",
		"favicon-32x32.png":               "image/png",
		"oauth2-redirect.html":            "text/html; charset=utf-8",
		"oauth2-redirect.js":              "text/javascript; charset=utf-8",
		"LICENSE":                         "text/plain; charset=utf-8",
	}
	for name, wantCT := range cases {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, c, base+"/api/docs/"+name)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != wantCT {
				t.Errorf("Content-Type %q, want %q", ct, wantCT)
			}
			if resp.Header.Get("Cache-Control") == "" {
				t.Error("no Cache-Control")
			}
			if resp.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			want, err := os.ReadFile(filepath.Join("dist", name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body differs from dist/%s (%d vs %d bytes)", name, len(body), len(want))
			}
		})
	}
}

func TestInitializer(t *testing.T) {
	base, c := newServer(t)
	_, body := get(t, c, base+"/api/docs/swagger-initializer.js")
	for _, want := range []string{
		`"GitLab API v3"`, `"/api/docs/v3.json"`,
		`"GitLab CI API v1"`, `"/api/docs/ci-v1.json"`,
		"validatorUrl: null", "persistAuthorization: true", "deepLinking: true",
		`layout: "StandaloneLayout"`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("swagger-initializer.js lacks %s", want)
		}
	}
}

func TestSpecs(t *testing.T) {
	base, c := newServer(t)
	for _, s := range []swaggerui.Spec{v3Spec, ciSpec} {
		for _, f := range []struct {
			ext, ct string
			body    []byte
		}{{".json", "application/json", s.JSON}, {".yaml", "application/yaml", s.YAML}} {
			url := base + "/api/docs/" + s.Slug + f.ext
			resp, body := get(t, c, url)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", url, resp.StatusCode)
				continue
			}
			if ct := resp.Header.Get("Content-Type"); ct != f.ct {
				t.Errorf("%s: Content-Type %q, want %q", url, ct, f.ct)
			}
			if !bytes.Equal(body, f.body) {
				t.Errorf("%s: body %q, want %q", url, body, f.body)
			}
			if resp.Header.Get("Cache-Control") == "" {
				t.Errorf("%s: no Cache-Control", url)
			}
		}
	}
}

func TestRedirect(t *testing.T) {
	base, c := newServer(t)
	resp, _ := get(t, c, base+"/api/docs")
	if resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 301 or 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/docs/" {
		t.Errorf("Location %q", loc)
	}
}

func TestNotFound(t *testing.T) {
	base, c := newServer(t)
	for _, p := range []string{
		"/api/docs/nope.js",
		"/api/docs/swagger-ui-bundle.js.map",
		"/api/docs/dist/index.html",
		"/api/docs/../docs/index.html",
		"/api/docs/nope.json",
	} {
		resp, _ := get(t, c, base+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestConditionalGet(t *testing.T) {
	base, c := newServer(t)
	resp, _ := get(t, c, base+"/api/docs/swagger-ui.css")
	etag := resp.Header.Get("ETag")
	resp, body := get(t, c, base+"/api/docs/swagger-ui.css", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes; want 304 and no body", resp.StatusCode, len(body))
	}
}

func TestHead(t *testing.T) {
	base, c := newServer(t)
	resp, err := c.Head(base + "/api/docs/v3.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("HEAD: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestRegisterRejectsBadSlugs(t *testing.T) {
	for _, specs := range [][]swaggerui.Spec{
		{{Slug: ""}},
		{{Slug: "a/b"}},
		{{Slug: "v3"}, {Slug: "v3"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%v) did not panic", specs)
				}
			}()
			swaggerui.Register(echo.New(), specs...)
		}()
	}
}
