package conformance

// SSH keys: /user/keys, /users/:id/keys (doc/api/users.md) and /keys/:id
// (doc/api/keys.md).

import (
	"net/http"
	"testing"
)

// wantSSHKey checks an SSHKey entity.
func wantSSHKey(t testing.TB, got obj, title, key string) {
	t.Helper()
	wantFields(t, got, "id", "title", "key", "created_at")
	wantField(t, got, "title", title)
	wantField(t, got, "key", key)
	wantTimestamp(t, got, "created_at")
}

// addKey adds a key to the user with the given token, via /user/keys.
func addKey(t testing.TB, tok string) (id int, key string) {
	t.Helper()
	key = newPublicKey(t)
	r := do(t, http.MethodPost, "/user/keys", token(tok), formBody("title", "k", "key", key))
	if r.status != http.StatusCreated {
		t.Fatalf("add key: %s", r)
	}
	return num(decode[obj](t, r.body), "id"), key
}

// keyIDs lists a user's key ids as root.
func keyIDs(t testing.TB, userID int) []int {
	t.Helper()
	r := do(t, http.MethodGet, "/users/"+itoa(userID)+"/keys", token(env.rootToken))
	if r.status != http.StatusOK {
		t.Fatalf("list keys of %d: %s", userID, r)
	}
	return ids(decode[[]obj](t, r.body))
}

func TestCurrentUserKeys(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := newUser(t)
	otherKeyID, otherKey := addKey(t, other.Token)

	key := newPublicKey(t)
	var keyID int
	t.Run("create", func(t *testing.T) {
		r := do(t, http.MethodPost, "/user/keys", token(u.Token), formBody("title", "laptop", "key", key))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantSSHKey(t, got, "laptop", key)
		keyID = num(got, "id")
	})
	t.Run("create with a JSON body", func(t *testing.T) {
		k := newPublicKey(t)
		r := do(t, http.MethodPost, "/user/keys", token(u.Token), jsonBody(map[string]string{"title": "json", "key": k}))
		if wantStatus(t, r, http.StatusCreated) {
			wantSSHKey(t, decode[obj](t, r.body), "json", k)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/keys", token(u.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) != 2 {
			t.Errorf("%d keys, want 2: %s", len(list), r.body)
		}
		if got := ids(list); !containsInt(got, keyID) || containsInt(got, otherKeyID) {
			t.Errorf("ids = %v, want %d and not another user's %d", got, keyID, otherKeyID)
		}
		for _, k := range list {
			wantFields(t, k, "id", "title", "key", "created_at")
		}
	})
	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/keys/"+itoa(keyID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", keyID)
			wantSSHKey(t, got, "laptop", key)
		}
	})

	rejects := []struct {
		name     string
		fields   []string
		body     string
		field    string
		fieldMsg string
	}{
		{name: "missing title", fields: []string{"key", newPublicKey(t)}, body: `{"message":"400 (Bad request) \"title\" not given"}`},
		{name: "missing key", fields: []string{"title", "x"}, body: `{"message":"400 (Bad request) \"key\" not given"}`},
		{name: "invalid key", fields: []string{"title", "x", "key", "not a key"}, field: "key"},
		{name: "same key twice", fields: []string{"title", "again", "key", key}, field: "fingerprint", fieldMsg: "has already been taken"},
		{name: "another user's key", fields: []string{"title", "stolen", "key", otherKey}, field: "fingerprint", fieldMsg: "has already been taken"},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/user/keys", token(u.Token), formBody(row.fields...))
			if row.body != "" {
				wantError(t, r, http.StatusBadRequest, row.body)
			} else {
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			if n := len(keyIDs(t, u.ID)); n != 2 {
				t.Errorf("the user has %d keys after the rejected create, want 2", n)
			}
		})
	}

	for _, row := range []struct{ name, id string }{
		{"get another user's key", itoa(otherKeyID)},
		{"get an unknown key", "999999999"},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, "/user/keys/"+row.id, token(u.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
		})
	}

	t.Run("delete another user's key: null, nothing deleted", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/user/keys/"+itoa(otherKeyID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
		if !containsInt(keyIDs(t, other.ID), otherKeyID) {
			t.Errorf("the other user's key %d is gone", otherKeyID)
		}
	})
	t.Run("delete", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/user/keys/"+itoa(keyID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", keyID)
			wantField(t, got, "title", "laptop")
		}
		wantError(t, do(t, http.MethodGet, "/user/keys/"+itoa(keyID), token(u.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
	})
	t.Run("delete again: null", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/user/keys/"+itoa(keyID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
	})
	t.Run("a deleted key can be added again", func(t *testing.T) {
		r := do(t, http.MethodPost, "/user/keys", token(u.Token), formBody("title", "back", "key", key))
		if wantStatus(t, r, http.StatusCreated) {
			wantSSHKey(t, decode[obj](t, r.body), "back", key)
		}
	})
}

func TestUserKeysAsAdmin(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := newUser(t)
	otherKeyID, _ := addKey(t, other.Token)

	key := newPublicKey(t)
	var keyID int
	t.Run("create", func(t *testing.T) {
		r := do(t, http.MethodPost, "/users/"+u.idPath()+"/keys", token(env.rootToken), formBody("title", "deploy", "key", key))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantSSHKey(t, got, "deploy", key)
		keyID = num(got, "id")
	})
	t.Run("the user sees it", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user/keys/"+itoa(keyID), token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantSSHKey(t, decode[obj](t, r.body), "deploy", key)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users/"+u.idPath()+"/keys", token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			list := decode[[]obj](t, r.body)
			if got := ids(list); len(got) != 1 || got[0] != keyID {
				t.Errorf("ids = %v, want [%d]", got, keyID)
			}
			for _, k := range list {
				wantSSHKey(t, k, "deploy", key)
			}
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
		{name: "create for an unknown user", method: "POST", path: "/users/999999999/keys", form: []string{"title", "x", "key", newPublicKey(t)},
			status: 404, body: `{"message":"404 Not found"}`},
		{name: "create without title", method: "POST", path: "/users/" + u.idPath() + "/keys", form: []string{"key", newPublicKey(t)},
			status: 400, body: `{"message":"400 (Bad request) \"title\" not given"}`},
		{name: "create without key", method: "POST", path: "/users/" + u.idPath() + "/keys", form: []string{"title", "x"},
			status: 400, body: `{"message":"400 (Bad request) \"key\" not given"}`},
		{name: "create with an invalid key", method: "POST", path: "/users/" + u.idPath() + "/keys", form: []string{"title", "x", "key", "not a key"},
			status: 400, field: "key"},
		{name: "create with a taken key", method: "POST", path: "/users/" + u.idPath() + "/keys", form: []string{"title", "x", "key", key},
			status: 400, field: "fingerprint"},
		{name: "create as non-admin", method: "POST", path: "/users/" + u.idPath() + "/keys", tok: other.Token, form: []string{"title", "x", "key", newPublicKey(t)},
			status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "list for an unknown user", method: "GET", path: "/users/999999999/keys", status: 404, body: `{"message":"404 User Not Found"}`},
		{name: "list as non-admin", method: "GET", path: "/users/" + u.idPath() + "/keys", tok: other.Token, status: 403, body: `{"message":"403 Forbidden"}`},
		{name: "delete for an unknown user", method: "DELETE", path: "/users/999999999/keys/" + itoa(otherKeyID), status: 404, body: `{"message":"404 User Not Found"}`},
		{name: "delete an unknown key", method: "DELETE", path: "/users/" + u.idPath() + "/keys/999999999", status: 404, body: `{"message":"404 Key Not Found"}`},
		{name: "delete another user's key", method: "DELETE", path: "/users/" + u.idPath() + "/keys/" + itoa(otherKeyID), status: 404, body: `{"message":"404 Key Not Found"}`},
		{name: "delete as non-admin", method: "DELETE", path: "/users/" + other.idPath() + "/keys/" + itoa(otherKeyID), tok: u.Token, status: 403, body: `{"message":"403 Forbidden"}`},
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
			// Nothing changed.
			if got := keyIDs(t, u.ID); len(got) != 1 || got[0] != keyID {
				t.Errorf("the user's keys = %v after the rejected request, want [%d]", got, keyID)
			}
			if got := keyIDs(t, other.ID); len(got) != 1 || got[0] != otherKeyID {
				t.Errorf("the other user's keys = %v after the rejected request, want [%d]", got, otherKeyID)
			}
		})
	}

	t.Run("delete", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/users/"+u.idPath()+"/keys/"+itoa(keyID), token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", keyID)
			wantField(t, got, "title", "deploy")
		}
		if got := keyIDs(t, u.ID); len(got) != 0 {
			t.Errorf("keys after delete = %v, want none", got)
		}
		wantError(t, do(t, http.MethodDelete, "/users/"+u.idPath()+"/keys/"+itoa(keyID), token(env.rootToken)),
			http.StatusNotFound, `{"message":"404 Key Not Found"}`)
	})
}

func TestGetKey(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	keyID, key := addKey(t, u.Token)

	t.Run("as admin: SSHKeyWithUser", func(t *testing.T) {
		r := do(t, http.MethodGet, "/keys/"+itoa(keyID), token(env.rootToken))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "id", keyID)
		wantSSHKey(t, got, "k", key)
		owner, ok := got["user"].(obj)
		if !ok {
			t.Fatalf("user = %v, want an object", got["user"])
		}
		wantField(t, owner, "id", u.ID)
		wantField(t, owner, "username", u.Username)
		wantField(t, owner, "email", u.Email)
		wantFields(t, owner, "name", "state", "created_at", "is_admin", "identities", "can_create_group", "two_factor_enabled")
		wantNoFields(t, owner, "private_token")
	})
	t.Run("as non-admin", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/keys/"+itoa(keyID), token(u.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
	})
	t.Run("unknown key", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/keys/999999999", token(env.rootToken)), http.StatusNotFound, `{"message":"404 Not found"}`)
	})
}
