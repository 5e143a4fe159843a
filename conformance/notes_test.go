package conformance

// Notes on project snippets (doc/api/notes.md; endpoints.tsv rows for
// /projects/:id/snippets/:snippet_id/notes; entities.md "Note", "Event"):
// who may comment, edit and delete, 8.7's lookups and messages, the
// "commented on" events, and the Note Hook payload a real receiver gets.

import (
	"net/http"
	"reflect"
	"regexp"
	"testing"
)

// hookTimeRE is how 8.7's hook payloads wrote a model's times
// (ActiveSupport's JSON: UTC with milliseconds).
var hookTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// wantNote checks a Note entity.
func wantNote(t testing.TB, got obj, body string, author testUser, noteableType string, noteableID int) {
	t.Helper()
	wantFields(t, got, "id", "body", "attachment", "author", "created_at", "updated_at", "system", "noteable_id", "noteable_type", "upvote", "downvote")
	wantField(t, got, "body", body)
	wantField(t, got, "attachment", nil)
	wantField(t, got, "system", false)
	wantField(t, got, "upvote", false)
	wantField(t, got, "downvote", false)
	wantField(t, got, "noteable_type", noteableType)
	wantField(t, got, "noteable_id", noteableID)
	wantTimestamp(t, got, "created_at")
	a, _ := got["author"].(map[string]any)
	wantField(t, a, "username", author.Username)
}

func TestSnippetNotes(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token, "visibility_level", itoa(visPublic), "snippets_enabled", "true", "description", "noted")
	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	master, dev, guest := member(accessMaster), member(accessDeveloper), member(accessGuest)
	outsider := newUser(t)
	sn := newSnippet(t, dev.Token, p, visPublic)
	hidden := newSnippet(t, dev.Token, p, visPrivate)
	snID := num(sn, "id")
	notes := "/projects/" + p.idPath() + "/snippets/" + itoa(snID) + "/notes"
	notGivenBody := `{"message":"400 (Bad request) \"body\" not given"}`

	var first obj
	t.Run("comment", func(t *testing.T) {
		r := do(t, http.MethodPost, notes, token(guest.Token), formBody("body", "Text of the comment\r\n"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		first = decode[obj](t, r.body)
		wantNote(t, first, "Text of the comment\r\n", guest, "Snippet", snID)
		// Anyone who can read a public project comments on what they see.
		r = do(t, http.MethodPost, notes, token(outsider.Token), jsonBody(map[string]any{"body": "from outside"}))
		if wantStatus(t, r, http.StatusCreated) {
			wantNote(t, decode[obj](t, r.body), "from outside", outsider, "Snippet", snID)
		}
	})

	t.Run("comment: refused", func(t *testing.T) {
		hiddenNotes := "/projects/" + p.idPath() + "/snippets/" + itoa(num(hidden, "id")) + "/notes"
		priv := newProject(t, owner.Token)
		for _, row := range []struct {
			name, path, tok string
			form            []string
			status          int
			body            string
		}{
			{"no body", notes, guest.Token, nil, 400, notGivenBody},
			{"blank body", notes, guest.Token, []string{"body", " \n"}, 400, notGivenBody},
			// 8.7 checked body before it looked for the project.
			{"no body, unknown project", "/projects/999999999/snippets/1/notes", guest.Token, nil, 400, notGivenBody},
			{"a snippet the caller does not see", hiddenNotes, outsider.Token, []string{"body", "x"}, 404, recordNotFound},
			{"unknown snippet", "/projects/" + p.idPath() + "/snippets/999999999/notes", guest.Token, []string{"body", "x"}, 404, recordNotFound},
			{"a project the caller cannot read", "/projects/" + priv.idPath() + "/snippets/1/notes", outsider.Token, []string{"body", "x"}, 404, projectNotFound},
		} {
			t.Run(row.name, func(t *testing.T) {
				opts := []reqOpt{token(row.tok)}
				if row.form != nil {
					opts = append(opts, formBody(row.form...))
				}
				wantError(t, do(t, http.MethodPost, row.path, opts...), row.status, row.body)
			})
		}
	})

	t.Run("created_at: the owner and admins only", func(t *testing.T) {
		r := do(t, http.MethodPost, notes, token(owner.Token), formBody("body", "backdated", "created_at", "2016-03-11T03:45:40Z"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "created_at", "2016-03-11T03:45:40.000Z")
		}
		r = do(t, http.MethodPost, notes, token(env.rootToken), formBody("body", "backdated by root", "created_at", "2015-01-02T03:04:05Z"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "created_at", "2015-01-02T03:04:05.000Z")
		}
		r = do(t, http.MethodPost, notes, token(master.Token), formBody("body", "not backdated", "created_at", "2016-03-11T03:45:40Z"))
		if wantStatus(t, r, http.StatusCreated) {
			if got := str(decode[obj](t, r.body), "created_at"); got == "2016-03-11T03:45:40.000Z" {
				t.Errorf("a master's created_at was honoured")
			}
		}
	})

	t.Run("list and get", func(t *testing.T) {
		r := do(t, http.MethodGet, notes, token(outsider.Token), query("per_page", "2"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) != 2 || num(list[0], "id") != num(first, "id") {
			t.Errorf("first page: %s, want 2 notes, oldest first", r.body)
		}
		if got := r.header.Get("X-Total"); got != "5" {
			t.Errorf("X-Total = %q, want 5", got)
		}
		r = do(t, http.MethodGet, notes+"/"+itoa(num(first, "id")), token(guest.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(mustJSON(t, first)))
		}
		other := newSnippet(t, dev.Token, p, visPublic)
		otherNotes := "/projects/" + p.idPath() + "/snippets/" + itoa(num(other, "id")) + "/notes"
		wantError(t, do(t, http.MethodGet, otherNotes+"/"+itoa(num(first, "id")), token(guest.Token)), 404, recordNotFound)
		r = do(t, http.MethodGet, otherNotes, token(guest.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
		hiddenNotes := "/projects/" + p.idPath() + "/snippets/" + itoa(num(hidden, "id")) + "/notes"
		wantError(t, do(t, http.MethodGet, hiddenNotes, token(outsider.Token)), 404, recordNotFound)
		wantError(t, do(t, http.MethodGet, hiddenNotes+"/1", token(outsider.Token)), 404, recordNotFound)
		wantStatus(t, do(t, http.MethodGet, hiddenNotes, token(guest.Token)), http.StatusOK)
	})

	t.Run("edit", func(t *testing.T) {
		path := notes + "/" + itoa(num(first, "id"))
		r := do(t, http.MethodPut, path, token(guest.Token), formBody("body", "edited by its author"))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantNote(t, got, "edited by its author", guest, "Snippet", snID)
			wantField(t, got, "created_at", first["created_at"])
		}
		r = do(t, http.MethodPut, path, token(master.Token), jsonBody(map[string]any{"body": "edited by a master"}))
		if wantStatus(t, r, http.StatusOK) {
			wantNote(t, decode[obj](t, r.body), "edited by a master", guest, "Snippet", snID)
		}
		wantError(t, do(t, http.MethodPut, path, token(dev.Token), formBody("body", "no")), 403, forbidden403)
		wantError(t, do(t, http.MethodPut, path, token(outsider.Token), formBody("body", "no")), 403, forbidden403)
		wantError(t, do(t, http.MethodPut, path, token(guest.Token)), 400, notGivenBody)
		wantError(t, do(t, http.MethodPut, notes+"/999999999", token(guest.Token), formBody("body", "x")), 404, recordNotFound)
		// 8.7 looked the note up among all the project's notes: the path's snippet does not matter.
		r = do(t, http.MethodPut, "/projects/"+p.idPath()+"/snippets/999999999/notes/"+itoa(num(first, "id")), token(guest.Token), formBody("body", "through another path"))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "noteable_id", snID)
		}
		// Another project's note is not this project's.
		q := newProject(t, owner.Token, "visibility_level", itoa(visPublic))
		wantError(t, do(t, http.MethodPut, "/projects/"+q.idPath()+"/snippets/1/notes/"+itoa(num(first, "id")), token(env.rootToken), formBody("body", "x")), 404, recordNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		r := do(t, http.MethodPost, notes, token(dev.Token), formBody("body", "short-lived"))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		n := decode[obj](t, r.body)
		path := notes + "/" + itoa(num(n, "id"))
		wantError(t, do(t, http.MethodDelete, path, token(guest.Token)), 403, forbidden403)
		r = do(t, http.MethodDelete, path, token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(mustJSON(t, n)))
		}
		wantError(t, do(t, http.MethodDelete, path, token(dev.Token)), 404, recordNotFound)
		wantError(t, do(t, http.MethodGet, path, token(dev.Token)), 404, recordNotFound)
		// A master deletes another's note.
		r = do(t, http.MethodPost, notes, token(guest.Token), formBody("body", "to be removed"))
		if wantStatus(t, r, http.StatusCreated) {
			wantStatus(t, do(t, http.MethodDelete, notes+"/"+itoa(num(decode[obj](t, r.body), "id")), token(master.Token)), http.StatusOK)
		}
	})

	t.Run("deleting the snippet takes its notes", func(t *testing.T) {
		gone := newSnippet(t, dev.Token, p, visPublic)
		goneNotes := "/projects/" + p.idPath() + "/snippets/" + itoa(num(gone, "id")) + "/notes"
		r := do(t, http.MethodPost, goneNotes, token(dev.Token), formBody("body", "on a doomed snippet"))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		noteID := itoa(num(decode[obj](t, r.body), "id"))
		wantStatus(t, do(t, http.MethodDelete, "/projects/"+p.idPath()+"/snippets/"+itoa(num(gone, "id")), token(dev.Token)), http.StatusOK)
		wantError(t, do(t, http.MethodPut, notes+"/"+noteID, token(dev.Token), formBody("body", "x")), 404, recordNotFound)
	})
}

// TestNoteEventsAndHooks: a comment is a "commented on" event with its note,
// and a Note Hook delivery with Gitlab::NoteDataBuilder's payload.
func TestNoteEventsAndHooks(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	owner := newUser(t)
	p := newProject(t, owner.Token, "snippets_enabled", "true", "description", "hooked")
	rc := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/note", "push_events", "false", "note_events", "true")
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/push-only", "push_events", "true")
	project := getProject(t, owner.Token, p.ID)
	web := str(project, "web_url")

	sn := newSnippet(t, owner.Token, p, visPrivate)
	snID := num(sn, "id")
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/snippets/"+itoa(snID)+"/notes", token(owner.Token), formBody("body", "hooked comment"))
	if !wantStatus(t, r, http.StatusCreated) {
		return
	}
	note := decode[obj](t, r.body)
	noteID := num(note, "id")

	t.Run("event", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		events := decode[[]obj](t, r.body)
		if len(events) == 0 {
			t.Fatalf("no events")
		}
		e := events[0]
		wantField(t, e, "action_name", "commented on")
		wantField(t, e, "target_type", "Note")
		wantField(t, e, "target_id", noteID)
		wantField(t, e, "author_id", owner.ID)
		wantField(t, e, "data", nil)
		n, _ := e["note"].(map[string]any)
		if n == nil {
			t.Fatalf("event without its note: %s", mustJSON(t, e))
		}
		wantNote(t, n, "hooked comment", owner, "Snippet", snID)
		for _, other := range events[1:] {
			if _, ok := other["note"]; ok && other["target_type"] != "Note" {
				t.Errorf("a non-note event has a note: %s", mustJSON(t, other))
			}
		}
	})

	t.Run("hook", func(t *testing.T) {
		got := rc.waitFor(t, "/note", 1, func(o obj) bool {
			a, _ := o["object_attributes"].(map[string]any)
			return a != nil && a["note"] == "hooked comment"
		})
		if len(got) != 1 {
			t.Fatalf("note hook deliveries: %d, want 1", len(got))
		}
		if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Note Hook" {
			t.Errorf("X-Gitlab-Event = %q, want Note Hook", ev)
		}
		d := got[0].payload()
		if keys := sortedKeys(d); !reflect.DeepEqual(keys, []string{"object_attributes", "object_kind", "project", "project_id", "repository", "snippet", "user"}) {
			t.Errorf("payload keys %v", keys)
		}
		wantField(t, d, "object_kind", "note")
		wantField(t, d, "project_id", p.ID)
		u, _ := d["user"].(map[string]any)
		wantField(t, u, "username", owner.Username)
		wantField(t, u, "name", owner.Name)
		wantFields(t, u, "avatar_url")
		repo, _ := d["repository"].(map[string]any)
		wantField(t, repo, "name", p.Name)
		wantField(t, repo, "url", str(project, "ssh_url_to_repo"))
		wantField(t, repo, "description", "hooked")
		wantField(t, repo, "homepage", web)
		proj, _ := d["project"].(map[string]any)
		wantField(t, proj, "path_with_namespace", str(project, "path_with_namespace"))
		wantField(t, proj, "web_url", web)
		a, _ := d["object_attributes"].(map[string]any)
		for k, v := range map[string]any{
			"id": noteID, "note": "hooked comment", "noteable_type": "Snippet", "author_id": owner.ID, "project_id": p.ID,
			"attachment": nil, "line_code": nil, "commit_id": nil, "noteable_id": snID, "system": false, "st_diff": nil,
			"url": web + "/snippets/" + itoa(snID) + "#note_" + itoa(noteID),
		} {
			wantField(t, a, k, v)
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if s, _ := a[k].(string); !hookTimeRE.MatchString(s) {
				t.Errorf("object_attributes.%s = %q, want UTC with milliseconds", k, s)
			}
		}
		s, _ := d["snippet"].(map[string]any)
		for k, v := range map[string]any{
			"id": snID, "title": sn["title"], "content": "puts 'hello'\n", "author_id": owner.ID, "project_id": p.ID,
			"file_name": "hello.rb", "expires_at": nil, "type": "ProjectSnippet", "visibility_level": visPrivate,
		} {
			wantField(t, s, k, v)
		}
		if n := len(rc.matching("/push-only", func(obj) bool { return true })); n != 0 {
			t.Errorf("a hook without note_events got %d deliveries", n)
		}
	})
}
