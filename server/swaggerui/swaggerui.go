// Package swaggerui serves Swagger UI and Labrador's OpenAPI contracts under
// /api/docs. The UI files are vendored from the swagger-ui-dist npm package
// into dist/ (refreshed by `make swagger-ui`) and embedded in the binary, so
// the documentation works offline and without a CDN. dist/index.html and
// dist/swagger-initializer.js are Labrador's own.
package swaggerui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed dist
var distFS embed.FS

// Prefix is where the UI is mounted.
const Prefix = "/api/docs"

// Spec is one contract served beside the UI.
type Spec struct {
	Slug string // "v3" or "ci-v1": served at /api/docs/<slug>.json and .yaml
	JSON []byte
	YAML []byte
}

// Cache-Control values. The vendored files are not fingerprinted, so they
// get a short lifetime; the page, its configuration and the specs are always
// revalidated (cheaply, via ETag) so a new build shows up at once.
const (
	cacheAsset      = "public, max-age=3600"
	cacheRevalidate = "no-cache"
)

// asset is one file ready to be served.
type asset struct {
	name        string
	body        []byte
	contentType string
	cache       string
	etag        string
}

func newAsset(name string, body []byte, contentType, cache string) *asset {
	sum := sha256.Sum256(body)
	return &asset{
		name:        name,
		body:        body,
		contentType: contentType,
		cache:       cache,
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
	}
}

// serve writes the asset, honouring HEAD, If-None-Match and Range requests.
func (a *asset) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", a.etag)
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	http.ServeContent(c.Response(), c.Request(), a.name, time.Time{}, bytes.NewReader(a.body))
	return nil
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
	".json": "application/json",
	".yaml": "application/yaml",
}

func contentType(name string) string {
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		return ct
	}
	return "text/plain; charset=utf-8" // LICENSE, NOTICE, VERSION
}

// uiAssets is dist/ loaded once: the embedded files never change.
var uiAssets = func() map[string]*asset {
	sub, err := fs.Sub(distFS, "dist")
	if err != nil {
		panic(err)
	}
	m := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		cache := cacheAsset
		if name == "index.html" || name == "swagger-initializer.js" {
			cache = cacheRevalidate
		}
		m[name] = newAsset(name, body, contentType(name), cache)
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("swaggerui: reading embedded dist: %v", err))
	}
	if m["index.html"] == nil || m["swagger-ui-bundle.js"] == nil {
		panic("swaggerui: embedded dist is incomplete; run `make swagger-ui`")
	}
	return m
}()

// Register mounts the UI at /api/docs (redirect to /api/docs/) and /api/docs/*,
// and each spec at /api/docs/<slug>.json (Content-Type application/json) and
// /api/docs/<slug>.yaml (Content-Type application/yaml).
//
// A spec with a nil JSON or YAML body is not served in that format. Register
// panics on an empty or invalid slug, or on a slug given twice.
func Register(e *echo.Echo, specs ...Spec) {
	methods := []string{http.MethodGet, http.MethodHead}

	e.Match(methods, Prefix, func(c echo.Context) error {
		target := Prefix + "/"
		if q := c.Request().URL.RawQuery; q != "" {
			target += "?" + q
		}
		return c.Redirect(http.StatusMovedPermanently, target)
	})

	seen := map[string]bool{}
	for _, s := range specs {
		if s.Slug == "" || strings.ContainsAny(s.Slug, "/?#%\\ ") {
			panic(fmt.Sprintf("swaggerui: invalid spec slug %q", s.Slug))
		}
		if seen[s.Slug] {
			panic(fmt.Sprintf("swaggerui: spec slug %q registered twice", s.Slug))
		}
		seen[s.Slug] = true
		for _, f := range []struct {
			ext  string
			body []byte
		}{{".json", s.JSON}, {".yaml", s.YAML}} {
			if f.body == nil {
				continue
			}
			name := s.Slug + f.ext
			if uiAssets[name] != nil {
				panic(fmt.Sprintf("swaggerui: spec %q clashes with a UI file", name))
			}
			a := newAsset(name, f.body, contentTypes[f.ext], cacheRevalidate)
			e.Match(methods, Prefix+"/"+name, a.serve)
		}
	}

	e.Match(methods, Prefix+"/*", func(c echo.Context) error {
		name := c.Param("*")
		if name == "" {
			name = "index.html"
		}
		a := uiAssets[name]
		if a == nil {
			return echo.ErrNotFound
		}
		return a.serve(c)
	})
}
