package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labrador-dev/labrador/persistence"
)

// Pagination, written once (GitLab's paginate and add_pagination_headers,
// with Kaminari's arithmetic).
const (
	defaultPerPage = 20
	maxPerPage     = 100
)

type pager struct{ page, perPage int }

func newPager(page, perPage *int) pager {
	p := pager{page: 1, perPage: defaultPerPage}
	if page != nil && *page > 0 {
		p.page = *page
	}
	if perPage != nil && *perPage > 0 {
		p.perPage = min(*perPage, maxPerPage)
	}
	return p
}

func (p pager) window() persistence.Page {
	return persistence.Page{Offset: (p.page - 1) * p.perPage, Limit: p.perPage}
}

// pageHeaders has the field set of every generated `…200ResponseHeaders`
// of a paginated list, so it converts to each of them.
type pageHeaders struct {
	Link        *string
	XNextPage   *string
	XPage       *int
	XPerPage    *int
	XPrevPage   *string
	XTotal      *int
	XTotalPages *int
}

// headers computes the Link and X-* headers for a page of total items.
// Links are absolute, built on the external URL, and carry every query
// parameter of the request (sorted, as Rails' to_query wrote them).
func (s *Server) headers(ctx context.Context, p pager, total int64) pageHeaders {
	totalPages := int((total + int64(p.perPage) - 1) / int64(p.perPage))
	next, prev := "", ""
	if p.page < totalPages {
		next = strconv.Itoa(p.page + 1)
	}
	if p.page > 1 {
		prev = strconv.Itoa(p.page - 1)
	}

	r := requestOf(ctx)
	base := strings.TrimSuffix(s.cfg.ExternalURL, "/") + r.URL.EscapedPath()
	q := r.URL.Query()
	q.Set("per_page", strconv.Itoa(p.perPage))
	link := func(page int, rel string) string {
		q.Set("page", strconv.Itoa(page))
		return "<" + base + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	var links []string
	if prev != "" {
		links = append(links, link(p.page-1, "prev"))
	}
	if next != "" {
		links = append(links, link(p.page+1, "next"))
	}
	links = append(links, link(1, "first"), link(totalPages, "last"))
	linkHeader := strings.Join(links, ", ")

	t := int(total)
	return pageHeaders{
		Link: &linkHeader, XNextPage: &next, XPage: &p.page, XPerPage: &p.perPage,
		XPrevPage: &prev, XTotal: &t, XTotalPages: &totalPages,
	}
}

// listResponse writes a list body with the pagination headers. It serves
// operations whose items are a union of entities (the generated union type
// would marshal each item twice); the conformance suite validates what it
// writes against the contract like any other answer.
type listResponse struct {
	body    any
	headers pageHeaders
}

// listBuffers are the bodies of written lists, used again: net/http is
// done with a body when Write returns.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}

func (r listResponse) VisitListUsersResponse(w http.ResponseWriter) error { return r.visit(w) }

func (r listResponse) visit(w http.ResponseWriter) error {
	var b []byte
	var err error
	if a, ok := r.body.(jsonAppender); ok {
		buf := listBuffers.Get().(*[]byte)
		b = a.appendJSON((*buf)[:0])
		defer func() {
			if cap(b) <= 1<<18 { // a rare huge page is not kept
				*buf = b
				listBuffers.Put(buf)
			}
		}()
	} else if b, err = json.Marshal(r.body); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	set := func(name string, v *string) {
		if v != nil {
			h.Set(name, *v)
		}
	}
	setInt := func(name string, v *int) {
		if v != nil {
			h.Set(name, strconv.Itoa(*v))
		}
	}
	set("Link", r.headers.Link)
	setInt("X-Total", r.headers.XTotal)
	setInt("X-Total-Pages", r.headers.XTotalPages)
	setInt("X-Per-Page", r.headers.XPerPage)
	setInt("X-Page", r.headers.XPage)
	set("X-Next-Page", r.headers.XNextPage)
	set("X-Prev-Page", r.headers.XPrevPage)
	// With its length, the body goes out in one write rather than in chunks.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}
