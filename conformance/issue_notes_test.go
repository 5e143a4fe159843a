package conformance

// Notes on issues (doc/api/notes.md, "Issues"; endpoints.tsv rows for
// /projects/:id/issues/:issue_id/notes): comments next to the tracker's
// system notes, 8.7's lookups and rights, and the Note Hook with the issue.

import (
	"net/http"
	"strings"
	"testing"
)

func TestIssueNotes(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	owner := newUser(t)
	p := newProject(t, owner.Token, "description", "tracked")
	rc := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/note", "push_events", "false", "note_events", "true")
	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	master, dev, guest := member(accessMaster), member(accessDeveloper), member(accessGuest)
	outsider := newUser(t)
	issue := newIssue(t, dev.Token, p, "needs talk")
	issueID := num(issue, "id")
	notes := issuePath(p, issue, "/notes")
	web := str(getProject(t, owner.Token, p.ID), "web_url")

	var first obj
	t.Run("comment", func(t *testing.T) {
		r := do(t, http.MethodPost, notes, token(guest.Token), formBody("body", "a guest's view"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		first = decode[obj](t, r.body)
		wantNote(t, first, "a guest's view", guest, "Issue", issueID)

		got := rc.waitFor(t, "/note", 1, func(o obj) bool {
			a, _ := o["object_attributes"].(map[string]any)
			return a != nil && a["note"] == "a guest's view"
		})
		if len(got) != 1 {
			t.Fatalf("note hook deliveries: %d, want 1", len(got))
		}
		d := got[0].payload()
		if keys := sortedKeys(d); strings.Join(keys, " ") != "issue object_attributes object_kind project project_id repository user" {
			t.Errorf("payload keys %v", keys)
		}
		a, _ := d["object_attributes"].(map[string]any)
		wantField(t, a, "noteable_type", "Issue")
		wantField(t, a, "noteable_id", issueID)
		wantField(t, a, "url", web+"/issues/"+itoa(num(issue, "iid"))+"#note_"+itoa(num(first, "id")))
		is, _ := d["issue"].(map[string]any)
		for k, v := range map[string]any{"id": issueID, "iid": num(issue, "iid"), "title": "needs talk", "author_id": dev.ID,
			"project_id": p.ID, "state": "opened", "confidential": false} {
			wantField(t, is, k, v)
		}
		wantNoFields(t, is, "url", "action")
	})

	t.Run("refused", func(t *testing.T) {
		other := newProject(t, owner.Token)
		otherIssue := newIssue(t, owner.Token, other, "elsewhere")
		off := newProject(t, owner.Token)
		offIssue := newIssue(t, owner.Token, off, "before the tracker went off")
		if r := do(t, http.MethodPut, "/projects/"+off.idPath(), token(owner.Token), formBody("issues_enabled", "false")); r.status != http.StatusOK {
			t.Fatalf("turn issues off: %s", r)
		}
		for _, row := range []struct {
			name, method, path, tok string
			form                    []string
			status                  int
			body                    string
		}{
			{"no body", "POST", notes, guest.Token, nil, 400, `{"message":"400 (Bad request) \"body\" not given"}`},
			{"cannot see the project", "POST", notes, outsider.Token, []string{"body", "x"}, 404, projectNotFound},
			{"unknown issue", "POST", "/projects/" + p.idPath() + "/issues/999999999/notes", guest.Token, []string{"body", "x"}, 404, recordNotFound},
			{"another project's issue", "POST", "/projects/" + p.idPath() + "/issues/" + itoa(num(otherIssue, "id")) + "/notes", env.rootToken, []string{"body", "x"}, 404, recordNotFound},
			{"list: issue tracker off", "GET", issuePath(off, offIssue, "/notes"), owner.Token, nil, 404, `{"message":"404 Not Found"}`},
			{"post: issue tracker off", "POST", issuePath(off, offIssue, "/notes"), owner.Token, []string{"body", "x"}, 404, `{"message":"404 Not Found"}`},
			{"get: unknown note", "GET", notes + "/999999999", guest.Token, nil, 404, recordNotFound},
			{"edit: not the author", "PUT", notes + "/" + itoa(num(first, "id")), dev.Token, []string{"body", "x"}, 403, forbidden403},
			{"delete: not the author", "DELETE", notes + "/" + itoa(num(first, "id")), dev.Token, nil, 403, forbidden403},
			{"edit: no body", "PUT", notes + "/" + itoa(num(first, "id")), guest.Token, nil, 400, `{"message":"400 (Bad request) \"body\" not given"}`},
		} {
			t.Run(row.name, func(t *testing.T) {
				opts := []reqOpt{token(row.tok)}
				if row.form != nil {
					opts = append(opts, formBody(row.form...))
				}
				wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
			})
		}
	})

	t.Run("list next to system notes, and get", func(t *testing.T) {
		r := do(t, http.MethodPut, issuePath(p, issue, ""), token(dev.Token), formBody("state_event", "close"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		r = do(t, http.MethodGet, notes, token(guest.Token), query("per_page", "100"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) < 2 || num(list[0], "id") != num(first, "id") {
			t.Fatalf("notes: %s, want the comment first, then the system note", r.body)
		}
		last := list[len(list)-1]
		wantField(t, last, "system", true)
		wantField(t, last, "noteable_type", "Issue")
		// A system note is not editable: answered as it was.
		r = do(t, http.MethodPut, notes+"/"+itoa(num(last, "id")), token(master.Token), formBody("body", "rewritten history"))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(mustJSON(t, last)))
		}
		r = do(t, http.MethodGet, notes+"/"+itoa(num(first, "id")), token(master.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(mustJSON(t, first)))
		}
	})

	t.Run("edit and delete", func(t *testing.T) {
		path := notes + "/" + itoa(num(first, "id"))
		r := do(t, http.MethodPut, path, token(guest.Token), formBody("body", "second thoughts"))
		if wantStatus(t, r, http.StatusOK) {
			wantNote(t, decode[obj](t, r.body), "second thoughts", guest, "Issue", issueID)
		}
		r = do(t, http.MethodDelete, path, token(master.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantNote(t, decode[obj](t, r.body), "second thoughts", guest, "Issue", issueID)
		}
		wantError(t, do(t, http.MethodGet, path, token(guest.Token)), 404, recordNotFound)
		wantError(t, do(t, http.MethodDelete, path, token(master.Token)), 404, recordNotFound)
	})

	t.Run("created_at for the owner", func(t *testing.T) {
		r := do(t, http.MethodPost, notes, token(owner.Token), jsonBody(map[string]any{"body": "from the archive", "created_at": "2016-03-11T03:45:40Z"}))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "created_at", "2016-03-11T03:45:40.000Z")
			if str(got, "updated_at") <= "2016-03-11T03:45:40.000Z" {
				t.Errorf("updated_at = %q, want the time of the request", str(got, "updated_at"))
			}
		}
	})
}
