package server

import (
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// contract is one OpenAPI document, compiled for matching requests. It is
// the route table the middleware consults before echo's router: it routes
// on the escaped path, so a project id like `group%2Fproject` stays one
// segment, as every v3 client sends it.
type contract struct {
	doc      *openapi3.T
	prefixes []string // mount points, e.g. /api/v3
	ops      []*operation
}

type operation struct {
	id        string
	method    string
	segments  []string // literal text, or "" for a parameter
	params    []string // parameter name per segment ("" for literals)
	literals  int
	route     *routers.Route
	public    bool // security: [] — no user needed
	adminOnly bool // x-admin-only: 403 for non-admins before parameter checks
	// paramsAfterAccess (x-params-after-access): a missing required
	// parameter is answered only after the handler found the resource and
	// checked access, as 8.7 ran required_attributes! after them.
	paramsAfterAccess bool
	// anonymousForbidden (x-anonymous-forbidden): no valid user answers
	// 403 Forbidden, not 401, as the legacy CI API's authenticate! did.
	anonymousForbidden bool
	body               *openapi3.Schema
	multipart          bool              // the body is multipart only (files): the handler reads it
	rawBody            bool              // the body is raw bytes (text/plain: a build trace): nobody folds it
	pathTypes          map[string]string // path parameter name → schema type
}

func compileContract(doc *openapi3.T, prefixes ...string) *contract {
	ct := &contract{doc: doc, prefixes: prefixes}
	for _, tmpl := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(tmpl)
		for method, op := range item.Operations() {
			o := &operation{
				id:        op.OperationID,
				method:    method,
				route:     &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op},
				public:    op.Security != nil && len(*op.Security) == 0,
				pathTypes: map[string]string{},
			}
			if v, ok := op.Extensions["x-admin-only"].(bool); ok {
				o.adminOnly = v
			}
			if v, ok := op.Extensions["x-params-after-access"].(bool); ok {
				o.paramsAfterAccess = v
			}
			if v, ok := op.Extensions["x-anonymous-forbidden"].(bool); ok {
				o.anonymousForbidden = v
			}
			for _, seg := range strings.Split(strings.Trim(tmpl, "/"), "/") {
				if i := strings.Index(seg, "{"); i >= 0 && strings.HasSuffix(seg, "}") {
					// A parameter, after a literal prefix in the same
					// segment (archive.{format}) or alone.
					o.segments = append(o.segments, seg[:i])
					o.params = append(o.params, seg[i+1:len(seg)-1])
				} else {
					o.segments = append(o.segments, seg)
					o.params = append(o.params, "")
					o.literals++
				}
			}
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			for _, p := range params {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath && p.Value.Schema != nil && p.Value.Schema.Value != nil {
					o.pathTypes[p.Value.Name] = typeOf(p.Value.Schema.Value)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					o.body = mt.Schema.Value
				} else if op.RequestBody.Value.Content.Get("multipart/form-data") != nil {
					o.multipart = true
				} else if len(op.RequestBody.Value.Content) > 0 {
					o.rawBody = true
				}
			}
			ct.ops = append(ct.ops, o)
		}
	}
	// The most literal template wins (/projects/owned before /projects/{id});
	// between equals, the one whose literal comes first, which is how
	// Grape's definition order settled /projects/search/users.
	sort.SliceStable(ct.ops, func(i, j int) bool { return ct.ops[i].before(ct.ops[j]) })
	return ct
}

func (o *operation) before(other *operation) bool {
	if o.literals != other.literals {
		return o.literals > other.literals
	}
	for k := 0; k < len(o.segments) && k < len(other.segments); k++ {
		if lit, otherLit := o.params[k] == "", other.params[k] == ""; lit != otherLit {
			return lit
		}
	}
	return false
}

func typeOf(s *openapi3.Schema) string {
	if s.Type != nil && len(*s.Type) > 0 {
		return (*s.Type)[0]
	}
	return ""
}

// match finds the operation for method and the escaped path. It returns
// the path parameters (unescaped), or, when the path exists with other
// methods only, those methods.
func (ct *contract) match(method, escapedPath string) (op *operation, pathParams map[string]string, allowed []string, inside bool) {
	rest := ""
	for _, p := range ct.prefixes {
		if escapedPath == p || strings.HasPrefix(escapedPath, p+"/") {
			rest, inside = strings.TrimPrefix(escapedPath, p), true
			break
		}
	}
	if !inside {
		return nil, nil, nil, false
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for _, o := range ct.ops {
		if len(o.segments) != len(segs) {
			continue
		}
		var params map[string]string
		ok := true
		for i, lit := range o.segments {
			if o.params[i] == "" {
				if segs[i] != lit {
					ok = false
					break
				}
				continue
			}
			seg, found := strings.CutPrefix(segs[i], lit)
			if !found {
				ok = false
				break
			}
			v, err := url.PathUnescape(seg)
			if err != nil || v == "" {
				ok = false
				break
			}
			if params == nil {
				params = map[string]string{}
			}
			params[o.params[i]] = v
		}
		if !ok {
			continue
		}
		if o.method == method {
			return o, params, nil, true
		}
		allowed = append(allowed, o.method)
	}
	return nil, nil, allowed, true
}
