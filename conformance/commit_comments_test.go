package conformance

// Commit comments (doc/api/commits.md, "Get the comments of a commit" and
// "Post comment to commit"; endpoints.tsv rows for
// /projects/:id/repository/commits/:sha/comments; entities.md
// "CommitNote"): line comments only where path, line and line_type match a
// line of the commit's diff, as 8.7's Gitlab::Diff::Parser numbered it; the
// event and the Note Hook with the commit. The commits are pushed over HTTP
// with the git client.

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func TestCommitComments(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	rc := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/note", "push_events", "false", "note_events", "true")
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	root := g.commit(work, "a.txt", "a\nb\n")
	// a.txt: "@@ -1,2 +1,3 @@", " a" (context, 1/1), "-b" (old, 2/2), "+B" (new, 3/2), "+c" (new, 3/3).
	sha := g.commit(work, "a.txt", "a\nB\nc\n")
	g.must(work, "push", "--quiet", "origin", "master")
	web := str(getProject(t, owner.Token, p.ID), "web_url")

	reporter, guest, outsider := newUser(t), newUser(t), newUser(t)
	addMember(t, "projects", p.ID, reporter.ID, accessReporter)
	addMember(t, "projects", p.ID, guest.ID, accessGuest)
	comments := "/projects/" + p.idPath() + "/repository/commits/" + sha + "/comments"
	lineCode := func(path string, old, new int) string {
		sum := sha1.Sum([]byte(path))
		return hex.EncodeToString(sum[:]) + "_" + itoa(old) + "_" + itoa(new)
	}

	rows := []struct {
		name         string
		form         []string
		path         any
		line         any
		lineType     any
		lineCodeWant any
	}{
		{"an added line", []string{"path", "a.txt", "line", "2", "line_type", "new"}, "a.txt", 2, "new", lineCode("a.txt", 3, 2)},
		{"a removed line, by its new-side number", []string{"path", "a.txt", "line", "2", "line_type", "old"}, "a.txt", 2, "old", lineCode("a.txt", 2, 2)},
		{"line read as Ruby's to_i", []string{"path", "a.txt", "line", "3abc", "line_type", "new"}, "a.txt", 3, "new", lineCode("a.txt", 3, 3)},
		{"a context line has no type", []string{"path", "a.txt", "line", "1", "line_type", "new"}, nil, nil, nil, nil},
		{"a file the commit does not change", []string{"path", "b.txt", "line", "2", "line_type", "new"}, nil, nil, nil, nil},
		{"no line_type", []string{"path", "a.txt", "line", "2"}, nil, nil, nil, nil},
		{"a line type git does not have", []string{"path", "a.txt", "line", "2", "line_type", "added"}, nil, nil, nil, nil},
		{"the whole commit", nil, nil, nil, nil, nil},
	}
	for i, row := range rows {
		t.Run("post: "+row.name, func(t *testing.T) {
			body := "comment " + itoa(i)
			r := do(t, http.MethodPost, comments, token(reporter.Token), formBody(append([]string{"note", body}, row.form...)...))
			if !wantStatus(t, r, http.StatusCreated) {
				return
			}
			got := decode[obj](t, r.body)
			if keys := sortedKeys(got); strings.Join(keys, " ") != "author created_at line line_type note path" {
				t.Errorf("keys %v", keys)
			}
			wantField(t, got, "note", body)
			wantField(t, got, "path", row.path)
			wantField(t, got, "line", row.line)
			wantField(t, got, "line_type", row.lineType)
			wantTimestamp(t, got, "created_at")
			a, _ := got["author"].(map[string]any)
			wantField(t, a, "username", reporter.Username)

			hooks := rc.waitFor(t, "/note", 1, func(o obj) bool {
				oa, _ := o["object_attributes"].(map[string]any)
				return oa != nil && oa["note"] == body
			})
			if len(hooks) != 1 {
				t.Fatalf("note hook deliveries for %q: %d, want 1", body, len(hooks))
			}
			d := hooks[0].payload()
			if keys := sortedKeys(d); strings.Join(keys, " ") != "commit object_attributes object_kind project project_id repository user" {
				t.Errorf("payload keys %v", keys)
			}
			oa, _ := d["object_attributes"].(map[string]any)
			wantField(t, oa, "noteable_type", "Commit")
			wantField(t, oa, "noteable_id", nil)
			wantField(t, oa, "commit_id", sha)
			wantField(t, oa, "line_code", row.lineCodeWant)
			if row.lineCodeWant == nil {
				wantField(t, oa, "st_diff", nil)
			} else if sd, _ := oa["st_diff"].(map[string]any); sd == nil || sd["new_path"] != "a.txt" {
				t.Errorf("st_diff = %v, want a.txt's diff", oa["st_diff"])
			}
			if u, _ := oa["url"].(string); !strings.HasPrefix(u, web+"/commit/"+sha+"#note_") {
				t.Errorf("url = %q", u)
			}
			c, _ := d["commit"].(map[string]any)
			wantField(t, c, "id", sha)
			wantField(t, c, "message", "add a.txt\n")
			wantField(t, c, "url", web+"/commit/"+sha)
			wantField(t, c, "author", map[string]any{"name": "Conformance", "email": "conformance@example.com"})
			if ts, _ := c["timestamp"].(string); !iso8601.MatchString(ts) {
				t.Errorf("commit timestamp %q", ts)
			}
		})
	}

	t.Run("list, oldest first, by SHA or branch", func(t *testing.T) {
		r := do(t, http.MethodGet, comments, token(guest.Token), query("per_page", "3"))
		if wantStatus(t, r, http.StatusForbidden) {
			wantJSON(t, r.body, forbidden403)
		}
		r = do(t, http.MethodGet, comments, token(reporter.Token), query("per_page", "3"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got := names(list, "note"); strings.Join(got, ",") != "comment 0,comment 1,comment 2" {
			t.Errorf("first page %v", got)
		}
		if got := r.header.Get("X-Total"); got != itoa(len(rows)) {
			t.Errorf("X-Total = %q, want %d", got, len(rows))
		}
		r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/master/comments", token(owner.Token), query("per_page", "100"))
		if wantStatus(t, r, http.StatusOK) && len(decode[[]obj](t, r.body)) != len(rows) {
			t.Errorf("by branch: %s", r.body)
		}
		r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/"+root+"/comments", token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
	})

	t.Run("event", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		e := decode[[]obj](t, r.body)[0]
		wantField(t, e, "action_name", "commented on")
		wantField(t, e, "target_type", "Note")
		n, _ := e["note"].(map[string]any)
		wantField(t, n, "noteable_type", "Commit")
		wantField(t, n, "noteable_id", nil)
	})

	t.Run("refused", func(t *testing.T) {
		zero := strings.Repeat("0", 40)
		for _, row := range []struct {
			name, method, path, tok string
			form                    []string
			status                  int
			body                    string
		}{
			{"post: no note", "POST", comments, reporter.Token, nil, 400, `{"message":"400 (Bad request) \"note\" not given"}`},
			{"post: blank note", "POST", comments, reporter.Token, []string{"note", "  "}, 400, `{"message":"400 (Bad request) \"note\" not given"}`},
			{"post: guest of a private project", "POST", comments, guest.Token, []string{"note", "x"}, 403, forbidden403},
			// The right before the parameters.
			{"post: guest, no note", "POST", comments, guest.Token, nil, 403, forbidden403},
			{"post: cannot see the project", "POST", comments, outsider.Token, []string{"note", "x"}, 404, projectNotFound},
			{"post: unknown commit", "POST", "/projects/" + p.idPath() + "/repository/commits/" + zero + "/comments", reporter.Token, []string{"note", "x"}, 404, `{"message":"404 Commit Not Found"}`},
			{"post: unknown commit, no note", "POST", "/projects/" + p.idPath() + "/repository/commits/" + zero + "/comments", reporter.Token, nil, 400, `{"message":"400 (Bad request) \"note\" not given"}`},
			{"get: unknown commit", "GET", "/projects/" + p.idPath() + "/repository/commits/nope/comments", reporter.Token, nil, 404, `{"message":"404 Commit Not Found"}`},
			{"get: cannot see the project", "GET", comments, outsider.Token, nil, 404, projectNotFound},
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

	t.Run("anyone on a public project", func(t *testing.T) {
		pub, _, pubSHA := seededProject(t, g, owner, "visibility_level", itoa(visPublic))
		r := do(t, http.MethodPost, "/projects/"+pub.idPath()+"/repository/commits/"+pubSHA+"/comments", token(outsider.Token), formBody("note", "drive-by"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "path", nil)
		}
	})
}
