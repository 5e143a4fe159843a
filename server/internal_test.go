package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func testContract(t *testing.T) *contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /projects/{id}:
    get: {operationId: getProject, responses: {"200": {description: ok}}}
    delete: {operationId: deleteProject, responses: {"200": {description: ok}}}
  /projects/owned:
    get: {operationId: ownedProjects, responses: {"200": {description: ok}}}
  /session:
    post: {operationId: login, security: [], responses: {"201": {description: ok}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return compileContract(doc, "/api/v3")
}

func TestContractMatch(t *testing.T) {
	ct := testContract(t)
	for _, tc := range []struct {
		name, method, path string
		wantOp             string
		wantParam          string
		wantAllowed        string
		wantInside         bool
	}{
		{"numeric id", "GET", "/api/v3/projects/42", "getProject", "42", "", true},
		{"encoded namespace path stays one segment", "GET", "/api/v3/projects/group%2Fproj", "getProject", "group/proj", "", true},
		{"literal beats parameter", "GET", "/api/v3/projects/owned", "ownedProjects", "", "", true},
		{"literal path, method only the parameter has", "DELETE", "/api/v3/projects/owned", "deleteProject", "owned", "", true},
		{"wrong method", "PUT", "/api/v3/projects/1", "", "", "GET,DELETE", true},
		{"unknown path", "GET", "/api/v3/nope", "", "", "", true},
		{"outside the prefix", "GET", "/api/v30/projects/1", "", "", "", false},
		{"public operation", "POST", "/api/v3/session", "login", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, params, allowed, inside := ct.match(tc.method, tc.path)
			gotOp := ""
			if op != nil {
				gotOp = op.id
			}
			if gotOp != tc.wantOp || inside != tc.wantInside {
				t.Fatalf("got op %q inside %v, want %q %v", gotOp, inside, tc.wantOp, tc.wantInside)
			}
			if tc.wantParam != "" && params["id"] != tc.wantParam {
				t.Errorf("got id %q, want %q", params["id"], tc.wantParam)
			}
			if tc.wantAllowed != "" {
				got := strings.Join(allowed, ",")
				if !strings.Contains(got, "GET") || !strings.Contains(got, "DELETE") {
					t.Errorf("got allowed %q, want %s", got, tc.wantAllowed)
				}
			}
		})
	}
	if op, _, _, _ := ct.match("POST", "/api/v3/session"); !op.public {
		t.Error("security: [] should make the operation public")
	}
}

func TestFoldParams(t *testing.T) {
	schema := openapi3.NewObjectSchema().
		WithProperty("name", openapi3.NewStringSchema()).
		WithProperty("limit", openapi3.NewIntegerSchema()).
		WithProperty("admin", openapi3.NewBoolSchema()).
		WithProperty("labels", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()))
	for _, tc := range []struct {
		name, ctype, query, body string
		want                     string // JSON of the folded parameters
		wantErr                  string // JSON of the error body
	}{
		{"form", "application/x-www-form-urlencoded", "", "name=a&limit=5&admin=yes", `{"admin":true,"limit":5,"name":"a"}`, ""},
		{"query only", "", "name=a&admin=0", "", `{"admin":false,"name":"a"}`, ""},
		{"body wins over query", "application/json", "name=q", `{"name":"b"}`, `{"name":"b"}`, ""},
		{"json numbers and strings coerce", "application/json", "", `{"limit":"7","name":12}`, `{"limit":7,"name":"12"}`, ""},
		{"blank values are absent", "application/x-www-form-urlencoded", "", "name=%20&limit=", `{}`, ""},
		{"comma list", "", "labels=a,b", "", `{"labels":["a","b"]}`, ""},
		{"bad integer names the field", "application/x-www-form-urlencoded", "", "limit=abc", "", `{"message":{"limit":["is not a number"]}}`},
		{"bad boolean names the field", "", "admin=maybe", "", "", `{"message":{"admin":["is invalid"]}}`},
		{"malformed JSON", "application/json", "", `{"name":`, "", `{"error":"message body does not match declared format"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x?"+tc.query, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			got, apiErr, err := foldParams(r, schema)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if apiErr == nil {
					t.Fatalf("got %v, want error %s", got, tc.wantErr)
				}
				b, _ := json.Marshal(apiErr.body)
				if string(b) != tc.wantErr || apiErr.status != 400 {
					t.Fatalf("got %d %s, want 400 %s", apiErr.status, b, tc.wantErr)
				}
				return
			}
			if apiErr != nil {
				t.Fatalf("got error %v", apiErr)
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
}

func TestPageHeaders(t *testing.T) {
	s := &Server{cfg: Config{ExternalURL: "https://gitlab.example.com"}}
	r := httptest.NewRequest("GET", "/api/v3/users?per_page=3&page=2&search=a", nil)
	ctx := context.WithValue(context.Background(), requestKey, r)
	h := s.headers(ctx, newPager(intp(2), intp(3)), 8)
	want := `<https://gitlab.example.com/api/v3/users?page=1&per_page=3&search=a>; rel="prev", ` +
		`<https://gitlab.example.com/api/v3/users?page=3&per_page=3&search=a>; rel="next", ` +
		`<https://gitlab.example.com/api/v3/users?page=1&per_page=3&search=a>; rel="first", ` +
		`<https://gitlab.example.com/api/v3/users?page=3&per_page=3&search=a>; rel="last"`
	if *h.Link != want {
		t.Errorf("Link:\n got %s\nwant %s", *h.Link, want)
	}
	if *h.XTotal != 8 || *h.XTotalPages != 3 || *h.XPage != 2 || *h.XPerPage != 3 || *h.XNextPage != "3" || *h.XPrevPage != "1" {
		t.Errorf("got %+v", h)
	}
	// The first page has no prev, the last no next; per_page is capped at 100.
	h = s.headers(ctx, newPager(intp(1), intp(1000)), 50)
	if *h.XPrevPage != "" || *h.XNextPage != "" || *h.XPerPage != 100 || strings.Contains(*h.Link, `"prev"`) || strings.Contains(*h.Link, `"next"`) {
		t.Errorf("single page: got %+v link %s", h, *h.Link)
	}
}

func intp(n int) *int { return &n }

func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		err  *apiError
		want string
	}{
		{forbidden("LDAP blocked users cannot be modified by the API"), `{"message":"403 Forbidden  - LDAP blocked users cannot be modified by the API"}`},
		{forbidden(), `{"message":"403 Forbidden"}`},
		{notFound("Project"), `{"message":"404 Project Not Found"}`},
		{notFound(), `{"message":"404 Not Found"}`},
		{recordNotFound(), `{"message":"404 Not found"}`},
		{badRequestNotGiven("title"), `{"message":"400 (Bad request) \"title\" not given"}`},
		{routeNotFound, `{"error":"404 Not Found"}`},
		{methodNotAllowed("OPTIONS, GET"), `{"error":"405 Not Allowed"}`},
	} {
		b, _ := json.Marshal(tc.err.body)
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
	}
}
