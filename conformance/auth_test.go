package conformance

// Authentication and sudo (doc/api/README.md "Authentication", "Sudo";
// entities.md "Endpoint-specific messages worth reproducing").

import (
	"net/http"
	"regexp"
	"sort"
	"testing"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := newUser(t)

	const unauthorized = `{"message":"401 Unauthorized"}`
	rows := []struct {
		name   string
		opts   []reqOpt
		status int
		errorB string // exact error body; empty on success
		as     string // the username GET /user must show on success
	}{
		{name: "no token", status: 401, errorB: unauthorized},
		{name: "bad token in header", opts: []reqOpt{token("not-a-token")}, status: 401, errorB: unauthorized},
		{name: "bad token in query", opts: []reqOpt{tokenQuery("not-a-token")}, status: 401, errorB: unauthorized},
		{name: "empty token header", opts: []reqOpt{header("PRIVATE-TOKEN", "")}, status: 401, errorB: unauthorized},
		{name: "token in header", opts: []reqOpt{token(u.Token)}, status: 200, as: u.Username},
		{name: "token in query", opts: []reqOpt{tokenQuery(u.Token)}, status: 200, as: u.Username},
		{name: "admin sudo header by id", opts: []reqOpt{token(env.rootToken), sudo(u.idPath())}, status: 200, as: u.Username},
		{name: "admin sudo header by username", opts: []reqOpt{token(env.rootToken), sudo(u.Username)}, status: 200, as: u.Username},
		{name: "admin sudo query by id", opts: []reqOpt{token(env.rootToken), sudoQuery(u.idPath())}, status: 200, as: u.Username},
		{name: "admin sudo query by username", opts: []reqOpt{tokenQuery(env.rootToken), sudoQuery(u.Username)}, status: 200, as: u.Username},
		{name: "non-admin sudo by username", opts: []reqOpt{token(u.Token), sudo(other.Username)}, status: 403,
			errorB: `{"message":"403 Forbidden: Must be admin to use sudo"}`},
		{name: "non-admin sudo query by id", opts: []reqOpt{token(u.Token), sudoQuery(other.idPath())}, status: 403,
			errorB: `{"message":"403 Forbidden: Must be admin to use sudo"}`},
		// 8.7 ignored a sudo naming the caller (helpers.rb: "If the sudo is the current user do nothing").
		{name: "non-admin sudo naming oneself", opts: []reqOpt{token(u.Token), sudo(u.Username)}, status: 200, as: u.Username},
		{name: "unknown sudo username", opts: []reqOpt{token(env.rootToken), sudo("nosuchuser")}, status: 404,
			errorB: `{"message":"404 No user id or username for: nosuchuser Not Found"}`},
		{name: "unknown sudo id", opts: []reqOpt{token(env.rootToken), sudoQuery("999999999")}, status: 404,
			errorB: `{"message":"404 No user id or username for: 999999999 Not Found"}`},
		{name: "sudo without a valid token", opts: []reqOpt{sudo(u.Username)}, status: 401, errorB: unauthorized},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, "/user", row.opts...)
			if row.errorB != "" {
				wantError(t, r, row.status, row.errorB)
				return
			}
			if wantStatus(t, r, row.status) {
				got := decode[obj](t, r.body)
				wantField(t, got, "username", row.as)
			}
		})
	}

	t.Run("sudo acts as the user on other routes", func(t *testing.T) {
		// The admin, sudo'ing a non-admin, loses admin rights: GET /keys/:id is admin-only.
		r := do(t, http.MethodGet, "/keys/1", token(env.rootToken), sudo(u.Username))
		wantError(t, r, http.StatusForbidden, `{"message":"403 Forbidden"}`)
	})
}

// TestUnauthenticatedEveryOperation sends every operation of the spec that
// needs a user without a token, then with a wrong one: each must answer
// 401 {"message":"401 Unauthorized"} before looking at its parameters
// (Grape ran `authenticate!` in a `before` block, ahead of parameter checks).
func TestUnauthenticatedEveryOperation(t *testing.T) {
	t.Parallel()
	ops := securedOperations(t)
	for _, o := range ops {
		t.Run(o.method+" "+o.path, func(t *testing.T) {
			path := o.sample()
			wantError(t, do(t, o.method, path), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
			wantError(t, do(t, o.method, path, token("wrong-"+env.runID)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
			wantError(t, do(t, o.method, path, tokenQuery("wrong-"+env.runID)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
		})
	}
}

// TestSudoEveryOperation: "All API requests support performing an API call
// as if you were another user" (doc/api/README.md "Sudo"), so every
// operation that needs a user answers a non-admin's sudo with 403 and an
// unknown sudo user with 404, before anything else.
func TestSudoEveryOperation(t *testing.T) {
	t.Parallel()
	ops := securedOperations(t)
	u := newUser(t)
	other := createUser(t)
	for _, o := range ops {
		t.Run(o.method+" "+o.path, func(t *testing.T) {
			path := o.sample()
			wantError(t, do(t, o.method, path, token(u.Token), sudo(other.Username)),
				http.StatusForbidden, `{"message":"403 Forbidden: Must be admin to use sudo"}`)
			wantError(t, do(t, o.method, path, token(env.rootToken), sudo("nosuchuser")),
				http.StatusNotFound, `{"message":"404 No user id or username for: nosuchuser Not Found"}`)
		})
	}
}

type operation struct{ method, path string }

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// sample is the operation's path with every parameter set to 1.
func (o operation) sample() string { return pathParam.ReplaceAllString(o.path, "1") }

// securedOperations lists the spec's operations that need a user.
func securedOperations(t *testing.T) []operation {
	t.Helper()
	var ops []operation
	for _, path := range env.spec.Paths.InMatchingOrder() {
		for method, o := range env.spec.Paths.Value(path).Operations() {
			sec := env.spec.Security
			if o.Security != nil {
				sec = *o.Security
			}
			if len(sec) == 0 {
				continue // public, e.g. POST /session
			}
			ops = append(ops, operation{method, path})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].method < ops[j].method
	})
	if len(ops) == 0 {
		t.Fatal("the spec has no authenticated operation")
	}
	return ops
}
