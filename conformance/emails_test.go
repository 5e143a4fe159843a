package conformance

// Secondary emails: /user/emails and /users/:id/emails (doc/api/users.md).

import (
	"net/http"
	"testing"
)

// emailIDs lists a user's secondary email ids as root.
func emailIDs(t testing.TB, userID int) []int {
	t.Helper()
	r := do(t, http.MethodGet, "/users/"+itoa(userID)+"/emails", token(env.rootToken))
	if r.status != http.StatusOK {
		t.Fatalf("list emails of %d: %s", userID, r)
	}
	return ids(decode[[]obj](t, r.body))
}

func addEmail(t testing.TB, tok string) (id int, email string) {
	t.Helper()
	email = uniqueName(t) + "@example.org"
	r := do(t, http.MethodPost, "/user/emails", token(tok), formBody("email", email))
	if r.status != http.StatusCreated {
		t.Fatalf("add email: %s", r)
	}
	return num(decode[obj](t, r.body), "id"), email
}

func TestCurrentUserEmails(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := newUser(t)
	otherEmailID, otherEmail := addEmail(t, other.Token)

	email := uniqueName(t) + "@example.org"
	var emailID int
	t.Run("create", func(t *testing.T) {
		r := do(t, http.MethodPost, "/user/emails", token(u.Token), formBody("email", email))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantFields(t, got, "id")
		wantField(t, got, "email", email)
		emailID = num(got, "id")
	})
	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/emails", token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[{"id":`+itoa(emailID)+`,"email":"`+email+`"}]`)
		}
	})
	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/emails/"+itoa(emailID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"id":`+itoa(emailID)+`,"email":"`+email+`"}`)
		}
	})

	rejects := []struct {
		name     string
		opts     []reqOpt
		body     string
		field    string
		fieldMsg string
	}{
		{name: "missing email", opts: []reqOpt{formBody("title", "x")}, body: `{"message":"400 (Bad request) \"email\" not given"}`},
		{name: "invalid email", opts: []reqOpt{formBody("email", "not-an-email")}, field: "email", fieldMsg: "is invalid"},
		{name: "the same email twice", opts: []reqOpt{formBody("email", email)}, field: "email", fieldMsg: "has already been taken"},
		{name: "another user's secondary email", opts: []reqOpt{formBody("email", otherEmail)}, field: "email", fieldMsg: "has already been taken"},
		{name: "another user's primary email", opts: []reqOpt{jsonBody(map[string]string{"email": other.Email})}, field: "email", fieldMsg: "has already been taken"},
		{name: "one's own primary email", opts: []reqOpt{formBody("email", u.Email)}, field: "email", fieldMsg: "has already been taken"},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/user/emails", append([]reqOpt{token(u.Token)}, row.opts...)...)
			if row.body != "" {
				wantError(t, r, http.StatusBadRequest, row.body)
			} else {
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			if got := emailIDs(t, u.ID); len(got) != 1 || got[0] != emailID {
				t.Errorf("the user's emails = %v after the rejected create, want [%d]", got, emailID)
			}
		})
	}

	for _, row := range []struct{ name, id string }{
		{"get another user's email", itoa(otherEmailID)},
		{"get an unknown email", "999999999"},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, "/user/emails/"+row.id, token(u.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
		})
	}
	t.Run("delete another user's email: null, nothing deleted", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/user/emails/"+itoa(otherEmailID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
		if !containsInt(emailIDs(t, other.ID), otherEmailID) {
			t.Errorf("the other user's email %d is gone", otherEmailID)
		}
	})
	t.Run("delete", func(t *testing.T) {
		// endpoints.tsv: "raw deleted email record, or null"; only the status is
		// pinned here, the body is checked against the spec by the transport.
		wantStatus(t, do(t, http.MethodDelete, "/user/emails/"+itoa(emailID), token(u.Token)), http.StatusOK)
		wantError(t, do(t, http.MethodGet, "/user/emails/"+itoa(emailID), token(u.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
		if got := emailIDs(t, u.ID); len(got) != 0 {
			t.Errorf("emails after delete = %v, want none", got)
		}
	})
	t.Run("delete again: null", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/user/emails/"+itoa(emailID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
	})
	t.Run("a deleted email can be added again", func(t *testing.T) {
		r := do(t, http.MethodPost, "/user/emails", token(u.Token), formBody("email", email))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "email", email)
		}
	})
}

func TestUserEmailsAsAdmin(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := newUser(t)
	otherEmailID, _ := addEmail(t, other.Token)

	email := uniqueName(t) + "@example.org"
	var emailID int
	t.Run("create", func(t *testing.T) {
		r := do(t, http.MethodPost, "/users/"+u.idPath()+"/emails", token(env.rootToken), formBody("email", email))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "email", email)
		emailID = num(got, "id")
	})
	t.Run("the user sees it", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/emails", token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[{"id":`+itoa(emailID)+`,"email":"`+email+`"}]`)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users/"+u.idPath()+"/emails", token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[{"id":`+itoa(emailID)+`,"email":"`+email+`"}]`)
		}
	})

	rows := []struct {
		name, method, path string
		tok                string
		form               []string
		status             int
		body               string
		field              string
	}{
		{name: "create for an unknown user", method: "POST", path: "/users/999999999/emails", form: []string{"email", uniqueName(t) + "@example.org"},
			status: 404, body: `{"message":"404 Not found"}`},
		{name: "create without email", method: "POST", path: "/users/" + u.idPath() + "/emails", form: []string{"x", "y"},
			status: 400, body: `{"message":"400 (Bad request) \"email\" not given"}`},
		{name: "create with an invalid email", method: "POST", path: "/users/" + u.idPath() + "/emails", form: []string{"email", "nope"},
			status: 400, field: "email"},
		{name: "create with a taken email", method: "POST", path: "/users/" + u.idPath() + "/emails", form: []string{"email", email},
			status: 400, field: "email"},
		{name: "create with a user's primary email", method: "POST", path: "/users/" + u.idPath() + "/emails", form: []string{"email", other.Email},
			status: 400, field: "email"},
		{name: "create as non-admin", method: "POST", path: "/users/" + u.idPath() + "/emails", tok: other.Token, form: []string{"email", uniqueName(t) + "@example.org"},
			status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "list for an unknown user", method: "GET", path: "/users/999999999/emails", status: 404, body: `{"message":"404 User Not Found"}`},
		{name: "list as non-admin", method: "GET", path: "/users/" + u.idPath() + "/emails", tok: other.Token, status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "delete for an unknown user", method: "DELETE", path: "/users/999999999/emails/" + itoa(otherEmailID), status: 404, body: `{"message":"404 User Not Found"}`},
		{name: "delete an unknown email", method: "DELETE", path: "/users/" + u.idPath() + "/emails/999999999", status: 404, body: `{"message":"404 Email Not Found"}`},
		{name: "delete another user's email", method: "DELETE", path: "/users/" + u.idPath() + "/emails/" + itoa(otherEmailID), status: 404, body: `{"message":"404 Email Not Found"}`},
		{name: "delete as non-admin", method: "DELETE", path: "/users/" + other.idPath() + "/emails/" + itoa(otherEmailID), tok: u.Token, status: 403, body: `{"message":"403 Forbidden"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			tok := row.tok
			if tok == "" {
				tok = env.rootToken
			}
			opts := []reqOpt{token(tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			r := do(t, row.method, row.path, opts...)
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else {
				wantValidation(t, r, row.field, "")
			}
			if got := emailIDs(t, u.ID); len(got) != 1 || got[0] != emailID {
				t.Errorf("the user's emails = %v after the rejected request, want [%d]", got, emailID)
			}
			if got := emailIDs(t, other.ID); len(got) != 1 || got[0] != otherEmailID {
				t.Errorf("the other user's emails = %v after the rejected request, want [%d]", got, otherEmailID)
			}
		})
	}

	t.Run("delete", func(t *testing.T) {
		wantStatus(t, do(t, http.MethodDelete, "/users/"+u.idPath()+"/emails/"+itoa(emailID), token(env.rootToken)), http.StatusOK)
		if got := emailIDs(t, u.ID); len(got) != 0 {
			t.Errorf("emails after delete = %v, want none", got)
		}
		wantError(t, do(t, http.MethodDelete, "/users/"+u.idPath()+"/emails/"+itoa(emailID), token(env.rootToken)),
			http.StatusNotFound, `{"message":"404 Email Not Found"}`)
	})
}
