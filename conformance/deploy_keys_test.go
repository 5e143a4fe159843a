package conformance

// Deploy keys (doc/api/deploy_keys.md, doc/api/deploy_key_multiple_projects.md;
// endpoints.tsv rows for /projects/:id/keys).

import (
	"net/http"
	"regexp"
	"testing"
)

var fingerprintRE = regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`)

// deployKeyIDs lists a project's deploy keys, as root.
func deployKeyIDs(t testing.TB, projectID int) []int {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+itoa(projectID)+"/keys", token(env.rootToken))
	if r.status != http.StatusOK {
		t.Fatalf("list deploy keys: %s", r)
	}
	return ids(decode[[]obj](t, r.body))
}

func TestDeployKeys(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	p1 := newProject(t, own.Token, "visibility_level", "10")
	p2 := newProject(t, own.Token)
	p3 := newProject(t, own.Token)
	foreign := newProject(t, outsider.Token)
	addMember(t, "projects", p1.ID, master.ID, accessMaster)
	addMember(t, "projects", p1.ID, dev.ID, accessDeveloper)
	_, userKey := addKey(t, own.Token)
	key := newPublicKey(t)
	keys := "/projects/" + p1.idPath() + "/keys"

	var keyID int
	t.Run("add: surrounding white space is stripped", func(t *testing.T) {
		r := do(t, http.MethodPost, keys, token(own.Token), formBody("title", "deploy", "key", "  "+key+"\n"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantSSHKey(t, got, "deploy", key)
		keyID = num(got, "id")
	})
	t.Run("list: not paginated", func(t *testing.T) {
		r := do(t, http.MethodGet, keys, token(master.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got := ids(list); !sameInts(got, []int{keyID}) {
			t.Errorf("ids = %v, want [%d]", got, keyID)
		}
		for _, k := range list {
			wantSSHKey(t, k, "deploy", key)
		}
		if v := r.header.Get("X-Total"); v != "" {
			t.Errorf("X-Total = %q, want no pagination headers", v)
		}
	})
	t.Run("get, by path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p1.encoded()+"/keys/"+itoa(keyID), token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantSSHKey(t, decode[obj](t, r.body), "deploy", key)
		}
	})
	t.Run("add the same key again: the key as is, title ignored", func(t *testing.T) {
		r := do(t, http.MethodPost, keys, token(master.Token), formBody("title", "again", "key", key))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", keyID)
			wantField(t, got, "title", "deploy")
		}
		if got := deployKeyIDs(t, p1.ID); !sameInts(got, []int{keyID}) {
			t.Errorf("ids = %v, want [%d]", got, keyID)
		}
	})
	for _, p := range []testProject{p2, p3} {
		t.Run("add it to another project of the user: linked, title ignored", func(t *testing.T) {
			r := do(t, http.MethodPost, "/projects/"+p.encoded()+"/keys", token(own.Token), jsonBody(map[string]string{"title": "other", "key": key}))
			if wantStatus(t, r, http.StatusCreated) {
				got := decode[obj](t, r.body)
				wantField(t, got, "id", keyID)
				wantField(t, got, "title", "deploy")
			}
			if got := deployKeyIDs(t, p.ID); !sameInts(got, []int{keyID}) {
				t.Errorf("ids on project %d = %v, want [%d]", p.ID, got, keyID)
			}
		})
	}

	rejects := []struct {
		name   string
		tok    string
		path   string
		form   []string
		status int
		body   string // exact body
		field  string // or a validation body naming this field
		msg    string
	}{
		{name: "a key on a project the caller cannot reach", tok: outsider.Token, path: "/projects/" + foreign.idPath() + "/keys",
			form: []string{"title", "x", "key", key}, status: 400, body: `{"message":{"fingerprint":["has already been taken"]}}`},
		{name: "a user's SSH key", tok: own.Token, path: keys, form: []string{"title", "x", "key", userKey},
			status: 400, body: `{"message":{"fingerprint":["has already been taken"]}}`},
		{name: "missing title", tok: own.Token, path: keys, form: []string{"key", newPublicKey(t)}, status: 400,
			body: `{"message":{"title":["can't be blank"]}}`},
		{name: "invalid key", tok: own.Token, path: keys, form: []string{"title", "x", "key", "not a key"}, status: 400,
			body: `{"message":{"key":["is invalid"],"fingerprint":["cannot be generated"]}}`},
		{name: "missing key", tok: own.Token, path: keys, form: []string{"title", "x"}, status: 400, field: "key", msg: "can't be blank"},
		{name: "developer adds", tok: dev.Token, path: keys, form: []string{"title", "x", "key", newPublicKey(t)}, status: 403, body: forbidden403},
		{name: "developer lists", tok: dev.Token, path: keys, status: 403, body: forbidden403},
		{name: "developer gets", tok: dev.Token, path: keys + "/" + itoa(keyID), status: 403, body: forbidden403},
		{name: "non-member of an internal project lists", tok: outsider.Token, path: keys, status: 403, body: forbidden403},
		{name: "non-member of a private project lists", tok: outsider.Token, path: "/projects/" + p2.idPath() + "/keys", status: 404, body: projectNotFound},
		{name: "non-member of a private project adds", tok: outsider.Token, path: "/projects/" + p2.idPath() + "/keys",
			form: []string{"title", "x", "key", newPublicKey(t)}, status: 404, body: projectNotFound},
		{name: "non-member of a private project gets", tok: outsider.Token, path: "/projects/" + p2.idPath() + "/keys/" + itoa(keyID), status: 404, body: projectNotFound},
		{name: "get an unknown key", tok: own.Token, path: keys + "/999999999", status: 404, body: recordNotFound},
		{name: "get a non-numeric key id", tok: own.Token, path: keys + "/abc", status: 404, body: recordNotFound},
		{name: "get a key that is not on the project", tok: outsider.Token, path: "/projects/" + foreign.idPath() + "/keys/" + itoa(keyID), status: 404, body: recordNotFound},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			method := http.MethodGet
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				method = http.MethodPost
				opts = append(opts, formBody(row.form...))
			}
			r := do(t, method, row.path, opts...)
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else {
				wantValidation(t, r, row.field, row.msg)
			}
			if got := deployKeyIDs(t, p1.ID); !sameInts(got, []int{keyID}) {
				t.Errorf("ids = %v after the rejected request, want [%d]", got, keyID)
			}
			if got := deployKeyIDs(t, foreign.ID); len(got) != 0 {
				t.Errorf("the foreign project has keys %v, want none", got)
			}
		})
	}
	t.Run("key shared before deletion", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p2.idPath()+"/keys/"+itoa(keyID), token(own.Token))
		wantStatus(t, r, http.StatusOK)
	})
	for _, row := range []struct {
		name, path, tok string
		status          int
		body            string
	}{
		{"delete as a developer", keys + "/" + itoa(keyID), dev.Token, 403, forbidden403},
		{"delete as a non-member of a private project", "/projects/" + p2.idPath() + "/keys/" + itoa(keyID), outsider.Token, 404, projectNotFound},
		{"delete an unknown key", keys + "/999999999", own.Token, 404, recordNotFound},
		{"delete a key that is not on the project", "/projects/" + foreign.idPath() + "/keys/" + itoa(keyID), outsider.Token, 404, recordNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodDelete, row.path, token(row.tok)), row.status, row.body)
		})
	}
	t.Run("delete: the key's record", func(t *testing.T) {
		r := do(t, http.MethodDelete, keys+"/"+itoa(keyID), token(master.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "id", keyID)
		wantField(t, got, "user_id", nil)
		wantField(t, got, "title", "deploy")
		wantField(t, got, "key", key)
		wantField(t, got, "public", false)
		if fp := str(got, "fingerprint"); !fingerprintRE.MatchString(fp) {
			t.Errorf("fingerprint = %q, want aa:bb:… (MD5)", fp)
		}
		if v, ok := got["type"]; ok && v != "DeployKey" {
			t.Errorf("type = %v, want DeployKey", v)
		}
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "updated_at")
		if got := deployKeyIDs(t, p1.ID); len(got) != 0 {
			t.Errorf("ids = %v after the delete, want none", got)
		}
	})
	// 8.7 destroyed the key itself, not its link: it leaves every project.
	t.Run("the deleted key is gone from the other projects too", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/"+p2.idPath()+"/keys/"+itoa(keyID), token(own.Token)), http.StatusNotFound, recordNotFound)
		if got := deployKeyIDs(t, p3.ID); len(got) != 0 {
			t.Errorf("ids on another project = %v, want none", got)
		}
	})
}
