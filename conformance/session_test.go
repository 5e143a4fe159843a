package conformance

// POST /session (doc/api/session.md; endpoints.tsv: "login may be username or
// email; wrong credentials -> 401 {"message":"401 Unauthorized"}").

import (
	"net/http"
	"testing"
)

func TestSession(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	blocked := newUser(t)
	if r := do(t, http.MethodPut, "/users/"+blocked.idPath()+"/block", token(env.rootToken)); r.status != http.StatusOK {
		t.Fatalf("block: %s", r)
	}

	const unauthorized = `{"message":"401 Unauthorized"}`
	rows := []struct {
		name   string
		opts   []reqOpt
		status int
		errorB string // exact error body; empty on success
	}{
		{name: "login by username", opts: []reqOpt{formBody("login", u.Username, "password", u.Password)}, status: 201},
		{name: "login by email", opts: []reqOpt{formBody("login", u.Email, "password", u.Password)}, status: 201},
		{name: "email parameter instead of login", opts: []reqOpt{formBody("email", u.Email, "password", u.Password)}, status: 201},
		// 8.7 looked up `params[:email] || params[:login]`: email wins.
		{name: "email wins over login", opts: []reqOpt{formBody("email", u.Email, "login", "nosuchuser"+env.runID, "password", u.Password)}, status: 201},
		{name: "JSON body", opts: []reqOpt{jsonBody(map[string]string{"login": u.Username, "password": u.Password})}, status: 201},
		{name: "query string", opts: []reqOpt{query("login", u.Username, "password", u.Password)}, status: 201},
		{name: "wrong password", opts: []reqOpt{formBody("login", u.Username, "password", "wrong-password")}, status: 401, errorB: unauthorized},
		{name: "unknown login", opts: []reqOpt{formBody("login", "nosuchuser"+env.runID, "password", u.Password)}, status: 401, errorB: unauthorized},
		{name: "missing password", opts: []reqOpt{formBody("login", u.Username)}, status: 401, errorB: unauthorized},
		{name: "blocked user", opts: []reqOpt{formBody("login", blocked.Username, "password", blocked.Password)}, status: 401, errorB: unauthorized},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/session", row.opts...)
			if row.errorB != "" {
				wantError(t, r, row.status, row.errorB)
				return
			}
			if !wantStatus(t, r, row.status) {
				return
			}
			got := decode[obj](t, r.body)
			wantField(t, got, "id", u.ID)
			wantField(t, got, "username", u.Username)
			wantField(t, got, "email", u.Email)
			wantField(t, got, "private_token", u.Token)
			wantField(t, got, "is_admin", false)
			wantFields(t, got, "name", "state", "created_at", "identities", "can_create_group", "can_create_project", "two_factor_enabled")
		})
	}

	t.Run("the token works on GET /user", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user", token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "username", u.Username)
		}
	})
	t.Run("a blocked user's token is refused", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/user", token(blocked.Token)), 401, unauthorized)
	})
}
