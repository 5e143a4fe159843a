package conformance

// Project hooks (doc/api/projects.md "Hooks"; endpoints.tsv rows for
// /projects/:id/hooks; entities.md "ProjectHook").

import (
	"net/http"
	"testing"
)

var hookFlags = []string{"push_events", "issues_events", "merge_requests_events", "tag_push_events", "note_events", "build_events", "enable_ssl_verification"}

// wantProjectHook checks a ProjectHook entity: its URL, project and flags.
func wantProjectHook(t testing.TB, got obj, url string, projectID int, flags map[string]bool) {
	t.Helper()
	wantFields(t, got, "id")
	wantField(t, got, "url", url)
	wantField(t, got, "project_id", projectID)
	wantTimestamp(t, got, "created_at")
	for _, f := range hookFlags {
		wantField(t, got, f, flags[f])
	}
}

// hookCount counts a project's hooks, as root.
func hookCount(t testing.TB, projectID int) int {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+itoa(projectID)+"/hooks", token(env.rootToken), query("per_page", "100"))
	if r.status != http.StatusOK {
		t.Fatalf("list hooks: %s", r)
	}
	return len(decode[[]obj](t, r.body))
}

func TestProjectHooks(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	p := newProject(t, own.Token, "visibility_level", "20")
	other := newProject(t, own.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	hooks := "/projects/" + p.idPath() + "/hooks"

	defaults := map[string]bool{"push_events": true, "enable_ssl_verification": true}
	var hookID, hook2ID, otherHookID int
	t.Run("add with the defaults", func(t *testing.T) {
		r := do(t, http.MethodPost, hooks, token(own.Token), formBody("url", "http://example.com/hook"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantProjectHook(t, got, "http://example.com/hook", p.ID, defaults)
		hookID = num(got, "id")
	})
	all := map[string]bool{}
	for _, f := range hookFlags {
		all[f] = f != "push_events" && f != "enable_ssl_verification"
	}
	t.Run("master adds one with every flag, by path, JSON", func(t *testing.T) {
		body := map[string]any{"url": "https://example.com/all"}
		for f, v := range all {
			body[f] = v
		}
		r := do(t, http.MethodPost, "/projects/"+p.encoded()+"/hooks", token(master.Token), jsonBody(body))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantProjectHook(t, got, "https://example.com/all", p.ID, all)
		hook2ID = num(got, "id")
	})
	t.Run("a hook of another project", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+other.idPath()+"/hooks", token(own.Token), formBody("url", "http://example.com/other"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		otherHookID = num(decode[obj](t, r.body), "id")
	})
	for _, u := range []string{"ftp://example.com/hook", "not a url", "http://"} {
		t.Run("add an invalid url "+u, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, hooks, token(own.Token), formBody("url", u)), 422, `{"error":"Invalid url given"}`)
			if n := hookCount(t, p.ID); n != 2 {
				t.Errorf("%d hooks after the rejected add, want 2", n)
			}
		})
	}
	t.Run("add a flag that is not a boolean", func(t *testing.T) {
		wantValidation(t, do(t, http.MethodPost, hooks, token(own.Token), formBody("url", "http://example.com/x", "push_events", "maybe")), "push_events", "")
	})

	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, hooks, token(master.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		if got := ids(decode[[]obj](t, r.body)); !sameInts(got, []int{hookID, hook2ID}) {
			t.Errorf("ids = %v, want [%d %d]", got, hookID, hook2ID)
		}
		wantPage(t, r, page{path: hooks, page: 1, perPage: 20, total: 2, pages: 1})
	})
	t.Run("list, paginated, by path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.encoded()+"/hooks", token(own.Token), query("per_page", "1", "page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if got := ids(decode[[]obj](t, r.body)); !sameInts(got, []int{hook2ID}) {
				t.Errorf("ids = %v, want [%d]", got, hook2ID)
			}
			wantPage(t, r, page{path: "/projects/" + p.encoded() + "/hooks", page: 2, perPage: 1, total: 2, pages: 2})
		}
	})
	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, hooks+"/"+itoa(hookID), token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantProjectHook(t, decode[obj](t, r.body), "http://example.com/hook", p.ID, defaults)
		}
	})
	t.Run("edit: the url and one flag; the others stay", func(t *testing.T) {
		r := do(t, http.MethodPut, hooks+"/"+itoa(hookID), token(master.Token), formBody("url", "http://example.com/edited", "issues_events", "true"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		want := map[string]bool{"push_events": true, "enable_ssl_verification": true, "issues_events": true}
		wantProjectHook(t, decode[obj](t, r.body), "http://example.com/edited", p.ID, want)
		back := do(t, http.MethodGet, hooks+"/"+itoa(hookID), token(own.Token))
		if wantStatus(t, back, http.StatusOK) {
			wantProjectHook(t, decode[obj](t, back.body), "http://example.com/edited", p.ID, want)
		}
	})
	t.Run("edit by path, JSON, a flag off", func(t *testing.T) {
		r := do(t, http.MethodPut, "/projects/"+p.encoded()+"/hooks/"+itoa(hookID), token(own.Token),
			jsonBody(map[string]any{"url": "http://example.com/edited", "push_events": false}))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "push_events", false)
		}
	})

	rejects := []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"get another project's hook", "GET", hooks + "/" + itoa(otherHookID), own.Token, nil, 404, recordNotFound},
		{"get an unknown hook", "GET", hooks + "/999999999", own.Token, nil, 404, recordNotFound},
		{"get a non-numeric hook id", "GET", hooks + "/abc", own.Token, nil, 404, recordNotFound},
		{"edit an invalid url", "PUT", hooks + "/" + itoa(hookID), own.Token, []string{"url", "ftp://example.com"}, 422, `{"error":"Invalid url given"}`},
		{"edit another project's hook", "PUT", hooks + "/" + itoa(otherHookID), own.Token, []string{"url", "http://example.com/x"}, 404, recordNotFound},
		{"edit an unknown hook", "PUT", hooks + "/999999999", own.Token, []string{"url", "http://example.com/x"}, 404, recordNotFound},
		{"delete another project's hook", "DELETE", hooks + "/" + itoa(otherHookID), own.Token, nil, 404,
			`{"message":"404 Error deleting hook ` + itoa(otherHookID) + ` Not Found"}`},
		{"delete an unknown hook", "DELETE", hooks + "/999999999", own.Token, nil, 404, `{"message":"404 Error deleting hook 999999999 Not Found"}`},
		{"delete a non-numeric hook id", "DELETE", hooks + "/abc", own.Token, nil, 404, recordNotFound},
		// A developer can read the (public) project but not administer it.
		{"developer lists", "GET", hooks, dev.Token, nil, 403, forbidden403},
		{"developer gets", "GET", hooks + "/" + itoa(hookID), dev.Token, nil, 403, forbidden403},
		{"developer adds", "POST", hooks, dev.Token, []string{"url", "http://example.com/x"}, 403, forbidden403},
		{"developer edits", "PUT", hooks + "/" + itoa(hookID), dev.Token, []string{"url", "http://example.com/x"}, 403, forbidden403},
		{"developer deletes", "DELETE", hooks + "/" + itoa(hookID), dev.Token, nil, 403, forbidden403},
		{"non-member lists a public project's hooks", "GET", hooks, outsider.Token, nil, 403, forbidden403},
		{"non-member gets, private project", "GET", "/projects/" + other.idPath() + "/hooks/" + itoa(otherHookID), outsider.Token, nil, 404, projectNotFound},
		{"non-member lists, private project", "GET", "/projects/" + other.idPath() + "/hooks", outsider.Token, nil, 404, projectNotFound},
		{"non-member adds, private project", "POST", "/projects/" + other.idPath() + "/hooks", outsider.Token, []string{"url", "http://example.com/x"}, 404, projectNotFound},
		{"non-member edits, private project", "PUT", "/projects/" + other.idPath() + "/hooks/" + itoa(otherHookID), outsider.Token, []string{"url", "http://example.com/x"}, 404, projectNotFound},
		{"non-member deletes, private project", "DELETE", "/projects/" + other.idPath() + "/hooks/" + itoa(otherHookID), outsider.Token, nil, 404, projectNotFound},
		{"unknown project", "GET", "/projects/999999999/hooks", own.Token, nil, 404, projectNotFound},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
			if n := hookCount(t, p.ID); n != 2 {
				t.Errorf("%d hooks after the rejected request, want 2", n)
			}
			if n := hookCount(t, other.ID); n != 1 {
				t.Errorf("the other project has %d hooks after the rejected request, want 1", n)
			}
		})
	}
	t.Run("the rejected edits changed nothing", func(t *testing.T) {
		r := do(t, http.MethodGet, hooks+"/"+itoa(hookID), token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "url", "http://example.com/edited")
		}
	})

	t.Run("delete: an array holding the record", func(t *testing.T) {
		r := do(t, http.MethodDelete, hooks+"/"+itoa(hook2ID), token(master.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) != 1 {
			t.Fatalf("body = %s, want an array of one record", r.body)
		}
		got := list[0]
		wantField(t, got, "id", hook2ID)
		wantField(t, got, "url", "https://example.com/all")
		wantField(t, got, "project_id", p.ID)
		wantField(t, got, "type", "ProjectHook")
		for f, v := range all {
			wantField(t, got, f, v)
		}
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "updated_at")
		if n := hookCount(t, p.ID); n != 1 {
			t.Errorf("%d hooks after the delete, want 1", n)
		}
	})
	t.Run("delete again: 404", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/projects/"+p.encoded()+"/hooks/"+itoa(hook2ID), token(own.Token)),
			http.StatusNotFound, `{"message":"404 Error deleting hook `+itoa(hook2ID)+` Not Found"}`)
	})
}
