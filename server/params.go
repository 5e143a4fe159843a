package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Grape read parameters from the query string, a form body or a JSON body
// alike. foldParams gathers them all into one JSON object typed by the
// operation's body schema, so that one validator and one binder see one
// shape however the client sent them. Query values come first and body
// values win, as Rack merged them. Blank values are dropped, as 8.7's
// attributes_for_keys (and required_attributes!) treated them as absent.
func foldParams(r *http.Request, schema *openapi3.Schema) (map[string]any, *apiError, error) {
	params := map[string]any{}
	for k, vs := range r.URL.Query() {
		params[k] = formValue(vs)
	}
	var raw []byte
	if r.Body != nil {
		var err error
		if raw, err = io.ReadAll(r.Body); err != nil {
			return nil, nil, err
		}
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
	case ctype == "application/json" || strings.HasSuffix(ctype, "+json"):
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return nil, malformedBody, nil
		}
		for k, v := range body {
			params[k] = v
		}
	case ctype == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, malformedBody, nil
		}
		for k, vs := range r.MultipartForm.Value {
			params[k] = formValue(vs)
		}
	default: // a form body, whatever the client called it (curl -d sends none)
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, malformedBody, nil
		}
		for k, vs := range form {
			params[k] = formValue(vs)
		}
	}
	for k, v := range params {
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			delete(params, k)
		}
	}
	nestBrackets(params)
	if bad := coerce(params, schema); bad != nil {
		return nil, bad, nil
	}
	return params, nil, nil
}

// formValue keeps one value as a string and several (a[]=1&a[]=2) as a list.
func formValue(vs []string) any {
	if len(vs) == 1 {
		return vs[0]
	}
	l := make([]any, len(vs))
	for i, v := range vs {
		l[i] = v
	}
	return l
}

// coerce converts each known property to its schema type, the way Grape
// and ActiveRecord cast form strings. A value that cannot be cast is a
// validation error naming the field.
func coerce(params map[string]any, schema *openapi3.Schema) *apiError {
	if schema == nil {
		return nil
	}
	for name, ref := range schema.Properties {
		v, ok := params[name]
		if !ok || ref == nil || ref.Value == nil {
			continue
		}
		cv, msg := coerceValue(v, ref.Value)
		if msg != "" {
			return invalidField(name, msg)
		}
		params[name] = cv
	}
	return nil
}

func coerceValue(v any, s *openapi3.Schema) (any, string) {
	switch typeOf(s) {
	case openapi3.TypeInteger:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, ""
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, ""
			}
		}
		return nil, "is not a number"
	case openapi3.TypeNumber:
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, ""
			}
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, ""
			}
		}
		return nil, "is not a number"
	case openapi3.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, ""
		case json.Number:
			return x.String() != "0", ""
		case string:
			if b, ok := parseBool(x); ok {
				return b, ""
			}
		}
		return nil, "is invalid"
	case openapi3.TypeString:
		switch x := v.(type) {
		case string:
			return x, ""
		case json.Number:
			return x.String(), ""
		case bool:
			return strconv.FormatBool(x), ""
		}
		return nil, "is invalid"
	case openapi3.TypeArray:
		switch x := v.(type) {
		case []any:
			return x, ""
		case string:
			parts := strings.Split(x, ",")
			l := make([]any, 0, len(parts))
			for _, p := range parts {
				if p = strings.TrimSpace(p); p != "" {
					l = append(l, p)
				}
			}
			return l, ""
		}
		return nil, "is invalid"
	}
	return v, ""
}

// parseBool accepts what Grape's Boolean coercion and Rails accepted.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "1", "yes", "y", "on":
		return true, true
	case "false", "f", "0", "no", "n", "off":
		return false, true
	}
	return false, false
}

// foldBodyIntoQuery moves the parameters of a body into the query string
// of an operation that declares no body; the query string wins a clash.
func foldBodyIntoQuery(r *http.Request) (*apiError, error) {
	params, bad, err := foldParams(r, nil)
	if err != nil || bad != nil {
		return bad, err
	}
	q := r.URL.Query()
	for k, v := range params {
		if _, ok := q[k]; ok {
			continue
		}
		switch x := v.(type) {
		case []any:
			for _, item := range x {
				q.Add(k, fmt.Sprint(item))
			}
		default:
			q.Set(k, fmt.Sprint(x))
		}
	}
	r.URL.RawQuery = q.Encode()
	r.Body, r.ContentLength = http.NoBody, 0
	return nil, nil
}

// nestBrackets turns form keys like `info[name]` into nested objects
// (`{"info":{"name":…}}`), as Rack parsed them; `a[]` lists stay as they
// are. A key that already holds a plain value is left alone.
func nestBrackets(params map[string]any) {
	for k, v := range params {
		i := strings.IndexByte(k, '[')
		if i <= 0 || !strings.HasSuffix(k, "]") || strings.HasSuffix(k, "[]") {
			continue
		}
		outer, inner := k[:i], k[i+1:len(k)-1]
		if inner == "" || strings.ContainsAny(inner, "[]") {
			continue
		}
		m, ok := params[outer].(map[string]any)
		if !ok {
			if _, taken := params[outer]; taken {
				continue
			}
			m = map[string]any{}
			params[outer] = m
		}
		m[inner] = v
		delete(params, k)
	}
}
