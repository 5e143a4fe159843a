package conformance

// Users (doc/api/users.md; endpoints.tsv rows for /users and /users/:id).

import (
	"net/http"
	"strings"
	"testing"
)

// wantUserFull checks the UserFull fields of a user the suite created with
// the default optional values.
func wantUserFull(t testing.TB, got obj, username, name, email string) {
	t.Helper()
	wantFields(t, got, "id", "state", "avatar_url", "web_url", "created_at", "is_admin", "bio", "location",
		"skype", "linkedin", "twitter", "website_url", "last_sign_in_at", "confirmed_at", "email", "theme_id",
		"color_scheme_id", "projects_limit", "current_sign_in_at", "identities", "can_create_group",
		"can_create_project", "two_factor_enabled", "external")
	wantField(t, got, "username", username)
	wantField(t, got, "name", name)
	wantField(t, got, "email", email)
	wantField(t, got, "state", "active")
	wantField(t, got, "web_url", env.base+"/u/"+username)
	wantTimestamp(t, got, "created_at")
	wantNoFields(t, got, "private_token", "password", "encrypted_password")
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	t.Run("minimal, as admin", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/users", token(env.rootToken),
			formBody("email", n+"@example.com", "password", "password1", "name", "Name "+n, "username", n))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantUserFull(t, got, n, "Name "+n, n+"@example.com")
		wantField(t, got, "is_admin", false)
		wantField(t, got, "external", false)
		wantField(t, got, "two_factor_enabled", false)
		wantField(t, got, "identities", []any{})
		wantField(t, got, "bio", nil)
		wantField(t, got, "location", nil)
		wantField(t, got, "skype", "")
		wantField(t, got, "linkedin", "")
		wantField(t, got, "twitter", "")
		wantField(t, got, "website_url", "")
		wantField(t, got, "last_sign_in_at", nil)
		wantField(t, got, "current_sign_in_at", nil)
		// confirm defaults to true: the user still has to confirm (endpoints.tsv:
		// "confirm=false|f|no|0 skips confirmation").
		wantField(t, got, "confirmed_at", nil)

		// The user reads back the same.
		back := getUserAsAdmin(t, num(got, "id"))
		wantUserFull(t, back, n, "Name "+n, n+"@example.com")
	})

	for _, v := range []string{"false", "f", "no", "0"} {
		t.Run("confirm="+v+" sets confirmed_at", func(t *testing.T) {
			n := uniqueName(t)
			r := do(t, http.MethodPost, "/users", token(env.rootToken),
				formBody("email", n+"@example.com", "password", "password1", "name", n, "username", n, "confirm", v))
			if wantStatus(t, r, http.StatusCreated) {
				wantTimestamp(t, decode[obj](t, r.body), "confirmed_at")
			}
		})
	}

	t.Run("all optional fields", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/users", token(env.rootToken), jsonBody(map[string]any{
			"email": n + "@example.com", "password": "password1", "name": n, "username": n,
			"skype": "sk", "linkedin": "li", "twitter": "tw", "bio": "a bio", "location": "Berlin",
			"projects_limit": 7, "can_create_group": false, "admin": true, "external": true,
			"provider": "github", "extern_uid": "ext-" + n, "confirm": false,
		}))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		back := getUserAsAdmin(t, num(got, "id"))
		for k, v := range map[string]any{
			"skype": "sk", "linkedin": "li", "twitter": "tw", "bio": "a bio", "location": "Berlin",
			// An external user creates nothing: 8.7's ensure_external_user_rights
			// set projects_limit 0 and can_create_group false whatever was sent.
			"projects_limit": 0, "can_create_group": false, "is_admin": true, "external": true,
			"identities": []any{obj{"provider": "github", "extern_uid": "ext-" + n}},
		} {
			wantField(t, got, k, v)
			wantField(t, back, k, v)
		}
		wantTimestamp(t, got, "confirmed_at")
	})

	t.Run("website_url is ignored on create", func(t *testing.T) {
		// endpoints.tsv: "website_url is documented but ignored on create in this version".
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/users", token(env.rootToken),
			formBody("email", n+"@example.com", "password", "password1", "name", n, "username", n, "website_url", "https://example.com"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "website_url", "")
		}
	})

	t.Run("confirm=true leaves the user unconfirmed", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/users", token(env.rootToken),
			formBody("email", n+"@example.com", "password", "password1", "name", n, "username", n, "confirm", "true"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "confirmed_at", nil)
		}
	})

	// Rejected creates: each row must also leave no user behind.
	taken := createUser(t)
	secondary := createUser(t)
	secondaryEmail := uniqueName(t) + "@example.org"
	if r := do(t, http.MethodPost, "/users/"+secondary.idPath()+"/emails", token(env.rootToken),
		formBody("email", secondaryEmail)); r.status != http.StatusCreated {
		t.Fatalf("add secondary email: %s", r)
	}
	nonAdmin := newUser(t)

	rows := []struct {
		name     string
		tok      string
		drop     string            // a required field to leave out
		set      map[string]string // fields to override
		status   int
		body     string // exact body, or
		field    string // a validation body naming this field
		fieldMsg string // and containing this message for it
	}{
		{name: "non-admin", tok: nonAdmin.Token, status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "missing email", drop: "email", status: 400, body: `{"message":"400 (Bad request) \"email\" not given"}`},
		{name: "missing password", drop: "password", status: 400, body: `{"message":"400 (Bad request) \"password\" not given"}`},
		{name: "missing name", drop: "name", status: 400, body: `{"message":"400 (Bad request) \"name\" not given"}`},
		{name: "missing username", drop: "username", status: 400, body: `{"message":"400 (Bad request) \"username\" not given"}`},
		{name: "duplicate email", set: map[string]string{"email": taken.Email}, status: 409, body: `{"message":"Email has already been taken"}`},
		{name: "duplicate username", set: map[string]string{"username": taken.Username}, status: 409, body: `{"message":"Username has already been taken"}`},
		{name: "password too short", set: map[string]string{"password": "short"}, status: 400,
			field: "password", fieldMsg: "is too short (minimum is 8 characters)"},
		{name: "invalid email", set: map[string]string{"email": "not-an-email"}, status: 400, field: "email", fieldMsg: "is invalid"},
		{name: "invalid username", set: map[string]string{"username": "bad user!"}, status: 400, field: "username"},
		// Another user's secondary email is taken too (User#unique_email), but
		// the 409 check only looks at primary emails: a validation body.
		{name: "email is another user's secondary email", set: map[string]string{"email": secondaryEmail}, status: 400,
			field: "email", fieldMsg: "has already been taken"},
		{name: "projects_limit not a number", set: map[string]string{"projects_limit": "abc"}, status: 400, field: "projects_limit"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			n := uniqueName(t)
			fields := map[string]string{"email": n + "@example.com", "password": "password1", "name": n, "username": n}
			for k, v := range row.set {
				fields[k] = v
			}
			delete(fields, row.drop)
			var kv []string
			for _, k := range []string{"email", "password", "name", "username", "projects_limit"} {
				if v, ok := fields[k]; ok {
					kv = append(kv, k, v)
				}
			}
			tok := row.tok
			if tok == "" {
				tok = env.rootToken
			}
			r := do(t, http.MethodPost, "/users", token(tok), formBody(kv...))
			switch {
			case row.body != "":
				wantError(t, r, row.status, row.body)
			case row.field == "projects_limit":
				// Any 400 body naming the field will do; never a 500.
				if wantStatus(t, r, row.status) && !strings.Contains(string(r.body), "projects_limit") {
					t.Errorf("body = %s, want it to name projects_limit", r.body)
				}
			default:
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			if row.drop != "username" && fields["username"] != taken.Username {
				wantNoUser(t, fields["username"])
			}
			if row.drop != "email" && fields["email"] != taken.Email && fields["email"] != secondaryEmail {
				wantNoUserWithEmail(t, fields["email"])
			}
		})
	}
	t.Run("the taken user is unchanged", func(t *testing.T) {
		got := getUserAsAdmin(t, taken.ID)
		wantField(t, got, "email", taken.Email)
		wantField(t, got, "username", taken.Username)
		wantField(t, got, "name", taken.Name)
	})
}

// wantNoUserWithEmail fails if some user's primary email is email.
func wantNoUserWithEmail(t testing.TB, email string) {
	t.Helper()
	r := do(t, http.MethodGet, "/users", token(env.rootToken), query("search", email))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	for _, u := range decode[[]obj](t, r.body) {
		if str(u, "email") == email {
			t.Errorf("user %v has email %s, want none (the rejected request must create nothing)", u["username"], email)
		}
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	viewer := newUser(t)
	deleted := createUser(t)
	if r := do(t, http.MethodDelete, "/users/"+deleted.idPath(), token(env.rootToken)); r.status != http.StatusOK {
		t.Fatalf("delete: %s", r)
	}

	t.Run("as admin: UserFull", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users/"+u.idPath(), token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", u.ID)
			wantUserFull(t, got, u.Username, u.Name, u.Email)
			wantTimestamp(t, got, "confirmed_at")
		}
	})
	for _, row := range []struct {
		name string
		tok  string
	}{
		{"as another user: User, no email", viewer.Token},
		{"as the user itself: User, no email", u.Token},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, "/users/"+u.idPath(), token(row.tok))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			got := decode[obj](t, r.body)
			wantField(t, got, "id", u.ID)
			wantField(t, got, "username", u.Username)
			wantField(t, got, "name", u.Name)
			wantFields(t, got, "state", "avatar_url", "web_url", "created_at", "is_admin", "bio", "location",
				"skype", "linkedin", "twitter", "website_url")
			wantTimestamp(t, got, "created_at")
			wantNoFields(t, got, "email", "private_token", "projects_limit", "confirmed_at", "identities")
		})
	}
	for _, row := range []struct {
		name, path, body string
	}{
		{"unknown id", "/users/999999999", `{"message":"404 Not found"}`},
		{"deleted user", "/users/" + deleted.idPath(), `{"message":"404 Not found"}`},
		{"unknown id as non-admin", "/users/999999999", `{"message":"404 Not found"}`},
	} {
		t.Run(row.name, func(t *testing.T) {
			tok := env.rootToken
			if strings.Contains(row.name, "non-admin") {
				tok = viewer.Token
			}
			wantError(t, do(t, http.MethodGet, row.path, token(tok)), http.StatusNotFound, row.body)
		})
	}
	t.Run("non-numeric id", func(t *testing.T) {
		// endpoints.tsv: ":id must be numeric"; a username is not an id.
		wantStatus(t, do(t, http.MethodGet, "/users/"+u.Username, token(env.rootToken)), http.StatusNotFound)
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	other := newUser(t)
	nonAdmin := newUser(t)
	_, otherSecondary := addEmail(t, other.Token)

	t.Run("successful updates", func(t *testing.T) {
		u := createUser(t)
		newEmail := uniqueName(t) + "@example.net"
		newUsername := uniqueName(t)
		rows := []struct {
			name   string
			fields []string
			want   map[string]any
		}{
			{"rename", []string{"name", "Renamed"}, map[string]any{"name": "Renamed"}},
			{"own email again", []string{"email", u.Email}, map[string]any{"email": u.Email}},
			{"new email", []string{"email", newEmail}, map[string]any{"email": newEmail}},
			{"new username", []string{"username", newUsername}, map[string]any{"username": newUsername}},
			{"profile fields", []string{"skype", "sk2", "linkedin", "li2", "twitter", "tw2", "website_url", "https://example.com",
				"bio", "new bio", "location", "Paris", "projects_limit", "3", "can_create_group", "true"},
				map[string]any{"skype": "sk2", "linkedin": "li2", "twitter": "tw2", "website_url": "https://example.com",
					"bio": "new bio", "location": "Paris", "projects_limit": 3, "can_create_group": true}},
			// 8.7's ensure_external_user_rights: an external user's limit is 0
			// and it may not create groups, whatever the request says.
			{"external user", []string{"external", "true", "projects_limit", "5", "can_create_group", "true"},
				map[string]any{"external": true, "projects_limit": 0, "can_create_group": false}},
			{"make admin", []string{"admin", "true"}, map[string]any{"is_admin": true}},
			{"remove admin", []string{"admin", "false"}, map[string]any{"is_admin": false}},
			{"identity", []string{"provider", "github", "extern_uid", "gh-" + u.Username},
				map[string]any{"identities": []any{obj{"provider": "github", "extern_uid": "gh-" + u.Username}}}},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				r := do(t, http.MethodPut, "/users/"+u.idPath(), token(env.rootToken), formBody(row.fields...))
				if !wantStatus(t, r, http.StatusOK) {
					return
				}
				got := decode[obj](t, r.body)
				wantField(t, got, "id", u.ID)
				wantFields(t, got, "email", "identities", "projects_limit", "confirmed_at")
				back := getUserAsAdmin(t, u.ID)
				for k, v := range row.want {
					wantField(t, got, k, v)
					wantField(t, back, k, v)
				}
			})
		}
	})

	t.Run("JSON body", func(t *testing.T) {
		u := createUser(t)
		r := do(t, http.MethodPut, "/users/"+u.idPath(), token(env.rootToken), jsonBody(map[string]any{"name": "Json", "projects_limit": 5}))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "Json")
			wantField(t, got, "projects_limit", 5)
		}
	})

	t.Run("password", func(t *testing.T) {
		u := createUser(t)
		r := do(t, http.MethodPut, "/users/"+u.idPath(), token(env.rootToken), formBody("password", "another-password"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		login(t, u.Username, "another-password")
		wantError(t, do(t, http.MethodPost, "/session", formBody("login", u.Username, "password", u.Password)),
			http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
	})

	// Rejected updates change nothing.
	rows := []struct {
		name     string
		tok      string
		id       string // default: the user under test
		fields   []string
		status   int
		body     string
		field    string
		fieldMsg string
	}{
		{name: "another user's email", fields: []string{"email", other.Email}, status: 409, body: `{"message":"Email has already been taken"}`},
		{name: "another user's username", fields: []string{"username", other.Username}, status: 409, body: `{"message":"Username has already been taken"}`},
		{name: "unknown user", id: "999999999", fields: []string{"name", "x"}, status: 404, body: `{"message":"404 Not found"}`},
		{name: "non-admin", tok: nonAdmin.Token, fields: []string{"name", "Hijacked"}, status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "non-admin on themselves", tok: "self", fields: []string{"name", "Hijacked", "admin", "true"}, status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "invalid email", fields: []string{"email", "not-an-email"}, status: 400, field: "email", fieldMsg: "is invalid"},
		{name: "another user's secondary email", fields: []string{"email", otherSecondary}, status: 400, field: "email", fieldMsg: "has already been taken"},
		{name: "password too short", fields: []string{"password", "short"}, status: 400, field: "password", fieldMsg: "is too short (minimum is 8 characters)"},
		{name: "invalid username", fields: []string{"username", "bad user!"}, status: 400, field: "username"},
		{name: "projects_limit not a number", fields: []string{"projects_limit", "abc"}, status: 400, field: "projects_limit"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			u := newUser(t)
			before := getUserAsAdmin(t, u.ID)
			tok := row.tok
			switch tok {
			case "":
				tok = env.rootToken
			case "self":
				tok = u.Token
			}
			id := row.id
			if id == "" {
				id = u.idPath()
			}
			r := do(t, http.MethodPut, "/users/"+id, token(tok), formBody(row.fields...))
			switch {
			case row.body != "":
				wantError(t, r, row.status, row.body)
			case row.field == "projects_limit":
				if wantStatus(t, r, row.status) && !strings.Contains(string(r.body), "projects_limit") {
					t.Errorf("body = %s, want it to name projects_limit", r.body)
				}
			default:
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			wantUnchanged(t, u.ID, before, "name", "username", "email", "projects_limit", "is_admin", "state")
			// The password is unchanged too.
			login(t, u.Username, u.Password)
		})
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	nonAdmin := newUser(t)

	t.Run("delete, then it is gone", func(t *testing.T) {
		u := newUser(t)
		r := do(t, http.MethodDelete, "/users/"+u.idPath(), token(env.rootToken))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantField(t, decode[obj](t, r.body), "id", u.ID)
		wantError(t, do(t, http.MethodGet, "/users/"+u.idPath(), token(env.rootToken)), http.StatusNotFound, `{"message":"404 Not found"}`)
		wantNoUser(t, u.Username)
		wantError(t, do(t, http.MethodGet, "/user", token(u.Token)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
		wantError(t, do(t, http.MethodPost, "/session", formBody("login", u.Username, "password", u.Password)),
			http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
		// Deleting again: 8.7 answered not_found!('User').
		wantError(t, do(t, http.MethodDelete, "/users/"+u.idPath(), token(env.rootToken)), http.StatusNotFound, `{"message":"404 User Not Found"}`)
	})
	t.Run("unknown user", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/users/999999999", token(env.rootToken)), http.StatusNotFound, `{"message":"404 User Not Found"}`)
	})
	t.Run("non-admin", func(t *testing.T) {
		u := createUser(t)
		wantError(t, do(t, http.MethodDelete, "/users/"+u.idPath(), token(nonAdmin.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		getUserAsAdmin(t, u.ID) // still there
	})
}

func TestBlockUser(t *testing.T) {
	t.Parallel()
	nonAdmin := newUser(t)
	u := newUser(t)

	steps := []struct {
		name  string
		path  string
		want  string // the JSON boolean answered
		state string
		works bool // whether the user's token works afterwards
	}{
		{"block", "/block", "true", "blocked", false},
		{"block again", "/block", "false", "blocked", false},
		{"unblock", "/unblock", "true", "active", true},
		{"unblock again", "/unblock", "false", "active", true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := do(t, http.MethodPut, "/users/"+u.idPath()+s.path, token(env.rootToken))
			if wantStatus(t, r, http.StatusOK) {
				wantJSON(t, r.body, s.want)
			}
			wantField(t, getUserAsAdmin(t, u.ID), "state", s.state)
			r = do(t, http.MethodGet, "/user", token(u.Token))
			if s.works {
				wantStatus(t, r, http.StatusOK)
			} else {
				wantError(t, r, http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
			}
		})
	}
	for _, action := range []string{"block", "unblock"} {
		t.Run(action+" unknown user", func(t *testing.T) {
			wantError(t, do(t, http.MethodPut, "/users/999999999/"+action, token(env.rootToken)),
				http.StatusNotFound, `{"message":"404 User Not Found"}`)
		})
		t.Run(action+" as non-admin", func(t *testing.T) {
			victim := createUser(t)
			wantError(t, do(t, http.MethodPut, "/users/"+victim.idPath()+"/"+action, token(nonAdmin.Token)),
				http.StatusForbidden, `{"message":"403 Forbidden"}`)
			wantField(t, getUserAsAdmin(t, victim.ID), "state", "active")
		})
	}
}

// TestNonNumericIDs: 8.7 looked ids up with `find` (or `find_by`), so an id
// that is not a number is simply not found: 404 {"message":"404 Not found"}
// (the spec's parameter descriptions), except on the idempotent DELETEs of
// the current user's keys and emails, which swallowed the failed lookup and
// answered 200 null.
func TestNonNumericIDs(t *testing.T) {
	t.Parallel()
	u := createUser(t)
	rows := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/users/abc", 404, `{"message":"404 Not found"}`},
		{"PUT", "/users/abc", 404, `{"message":"404 Not found"}`},
		{"DELETE", "/users/abc", 404, `{"message":"404 Not found"}`},
		{"PUT", "/users/abc/block", 404, `{"message":"404 Not found"}`},
		{"PUT", "/users/abc/unblock", 404, `{"message":"404 Not found"}`},
		{"GET", "/users/abc/keys", 404, `{"message":"404 Not found"}`},
		{"GET", "/users/abc/emails", 404, `{"message":"404 Not found"}`},
		{"DELETE", "/users/" + u.idPath() + "/keys/abc", 404, `{"message":"404 Not found"}`},
		{"DELETE", "/users/" + u.idPath() + "/emails/abc", 404, `{"message":"404 Not found"}`},
		{"GET", "/user/keys/abc", 404, `{"message":"404 Not found"}`},
		{"GET", "/user/emails/abc", 404, `{"message":"404 Not found"}`},
		{"GET", "/keys/abc", 404, `{"message":"404 Not found"}`},
		{"DELETE", "/user/keys/abc", 200, `null`},
		{"DELETE", "/user/emails/abc", 200, `null`},
	}
	for _, row := range rows {
		t.Run(row.method+" "+row.path, func(t *testing.T) {
			wantError(t, do(t, row.method, row.path, token(env.rootToken)), row.status, row.body)
		})
	}
}
