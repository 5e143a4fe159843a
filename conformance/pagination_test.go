package conformance

// Pagination (doc/api/README.md "Pagination"; entities.md "Conventions":
// X-Prev-Page/X-Next-Page are empty strings when there is none, Link has
// rel prev (not on the first page), next (not on the last), first, last).

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var linkRE = regexp.MustCompile(`<([^>]*)>;\s*rel="([^"]*)"`)

// parseLinks maps each rel of a Link header to its URL.
func parseLinks(t testing.TB, h string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := linkRE.FindStringSubmatch(part)
		if m == nil {
			t.Errorf("Link header part %q is not <url>; rel=\"x\" (header: %s)", part, h)
			continue
		}
		out[m[2]] = m[1]
	}
	return out
}

// page describes the pagination headers one answer must carry.
type page struct {
	path                        string // e.g. "/users", relative to /api/v3
	page, perPage, total, pages int
	params                      url.Values // other query parameters the links must keep
}

// wantHeader fails unless the header is present with exactly this value
// (an empty value must be sent, not left out).
func wantHeader(t testing.TB, r response, name, want string) {
	t.Helper()
	vs, ok := r.header[http.CanonicalHeaderKey(name)]
	if !ok {
		t.Errorf("header %s absent, want %q", name, want)
		return
	}
	if len(vs) != 1 || vs[0] != want {
		t.Errorf("header %s = %q, want %q", name, vs, want)
	}
}

// wantPage checks the six X-* headers and the Link header of a paginated answer.
func wantPage(t testing.TB, r response, p page) {
	t.Helper()
	next, prev := "", ""
	if p.page < p.pages {
		next = strconv.Itoa(p.page + 1)
	}
	if p.page > 1 {
		prev = strconv.Itoa(p.page - 1)
	}
	wantHeader(t, r, "X-Total", strconv.Itoa(p.total))
	wantHeader(t, r, "X-Total-Pages", strconv.Itoa(p.pages))
	wantHeader(t, r, "X-Per-Page", strconv.Itoa(p.perPage))
	wantHeader(t, r, "X-Page", strconv.Itoa(p.page))
	wantHeader(t, r, "X-Next-Page", next)
	wantHeader(t, r, "X-Prev-Page", prev)

	links := parseLinks(t, r.header.Get("Link"))
	want := map[string]int{"first": 1, "last": p.pages}
	if prev != "" {
		want["prev"] = p.page - 1
	}
	if next != "" {
		want["next"] = p.page + 1
	}
	for rel := range links {
		if _, ok := want[rel]; !ok {
			t.Errorf("Link has rel=%q (%s), want only %v", rel, links[rel], keys(want))
		}
	}
	for rel, n := range want {
		raw, ok := links[rel]
		if !ok {
			t.Errorf("Link lacks rel=%q; header: %s", rel, r.header.Get("Link"))
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("Link rel=%q: %v", rel, err)
			continue
		}
		if !strings.HasPrefix(raw, env.api+p.path+"?") {
			t.Errorf("Link rel=%q = %s, want an absolute URL starting with %s", rel, raw, env.api+p.path+"?")
		}
		q := u.Query()
		if got := q.Get("page"); got != strconv.Itoa(n) {
			t.Errorf("Link rel=%q page = %q, want %d (%s)", rel, got, n, raw)
		}
		if got := q.Get("per_page"); got != strconv.Itoa(p.perPage) {
			t.Errorf("Link rel=%q per_page = %q, want %d (%s)", rel, got, p.perPage, raw)
		}
		for k := range p.params {
			if got := q.Get(k); got != p.params.Get(k) {
				t.Errorf("Link rel=%q %s = %q, want %q (%s)", rel, k, got, p.params.Get(k), raw)
			}
		}
	}
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
