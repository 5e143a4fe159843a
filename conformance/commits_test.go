package conformance

// Repository commits, diffs and commit statuses (doc/api/commits.md;
// endpoints.tsv rows for /projects/:id/repository/commits and
// /projects/:id/statuses/:sha; entities.md "RepoCommit",
// "RepoCommitDetail", "RepoDiff", "CommitStatus"). Commits are pushed over
// HTTP with the git client.

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCommits(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	first := g.commit(work, "a.txt", "a\nb\n")
	second := g.commit(work, "b.txt", "b\n")
	g.must(work, "mv", "a.txt", "c.txt")
	if err := os.WriteFile(filepath.Join(work, "b.txt"), []byte("b\nmore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.must(work, "add", "-A")
	g.must(work, "commit", "--quiet", "-m", "rename a, edit b\n\nThe body.")
	third := g.must(work, "rev-parse", "HEAD")
	g.must(work, "checkout", "--quiet", "-b", "side", first)
	side := g.commit(work, "side.txt", "s\n")
	g.must(work, "push", "--quiet", "origin", "master", "side")

	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	dev, reporter, guest, stranger := member(accessDeveloper), member(accessReporter), member(accessGuest), newUser(t)
	repo := "/projects/" + p.idPath() + "/repository/commits"
	statuses := "/projects/" + p.idPath() + "/statuses/"

	t.Run("list the default branch, newest first", func(t *testing.T) {
		r := do(t, http.MethodGet, repo, token(reporter.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got, want := names(list, "id"), []string{third, second, first}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ids = %v, want %v", got, want)
		}
		wantField(t, list[0], "short_id", third[:11])
		wantField(t, list[0], "title", "rename a, edit b")
		wantField(t, list[0], "message", "rename a, edit b\n\nThe body.\n")
		wantField(t, list[0], "author_name", "Conformance")
		wantField(t, list[0], "author_email", "conformance@example.com")
		if h := r.header.Get("X-Total"); h != "" {
			t.Errorf("X-Total = %q, want none", h)
		}
	})
	t.Run("list a branch, zero-based pages", func(t *testing.T) {
		r := do(t, http.MethodGet, repo, token(owner.Token), query("ref_name", "side"))
		if wantStatus(t, r, http.StatusOK) {
			if got, want := names(decode[[]obj](t, r.body), "id"), []string{side, first}; !reflect.DeepEqual(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
		}
		r = do(t, http.MethodGet, repo, token(owner.Token), query("page", "1", "per_page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if got, want := names(decode[[]obj](t, r.body), "id"), []string{first}; !reflect.DeepEqual(got, want) {
				t.Errorf("page 1 of 2 = %v, want %v", got, want)
			}
		}
		r = do(t, http.MethodGet, repo, token(owner.Token), query("ref_name", "no-such-ref"))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
	})
	t.Run("get a commit by SHA and by branch", func(t *testing.T) {
		r := do(t, http.MethodGet, repo+"/"+third, token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", third)
			wantField(t, got, "parent_ids", []string{second})
			wantField(t, got, "status", nil)
			wantField(t, got, "title", "rename a, edit b")
		}
		r = do(t, http.MethodGet, repo+"/side", token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "id", side)
		}
	})
	t.Run("diff: a rename and an edit", func(t *testing.T) {
		r := do(t, http.MethodGet, repo+"/"+third+"/diff", token(reporter.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) != 2 {
			t.Fatalf("%d diffs, want 2: %s", len(list), r.body)
		}
		wantJSON(t, mustJSON(t, list[0]), `{"old_path":"b.txt","new_path":"b.txt","a_mode":"100644","b_mode":"100644",`+
			`"diff":"--- a/b.txt\n+++ b/b.txt\n@@ -1 +1,2 @@\n b\n+more\n","new_file":false,"renamed_file":false,"deleted_file":false}`)
		wantJSON(t, mustJSON(t, list[1]), `{"old_path":"a.txt","new_path":"c.txt","a_mode":"100644","b_mode":"100644",`+
			`"diff":"","new_file":false,"renamed_file":true,"deleted_file":false}`)
	})
	t.Run("diff of the root commit", func(t *testing.T) {
		r := do(t, http.MethodGet, repo+"/"+first+"/diff", token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[{"old_path":"a.txt","new_path":"a.txt","a_mode":"0","b_mode":"100644",`+
				`"diff":"--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n","new_file":true,"renamed_file":false,"deleted_file":false}]`)
		}
	})

	t.Run("statuses: report, update, list", func(t *testing.T) {
		r := do(t, http.MethodGet, repo+"/"+third+"/statuses", token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
		r = do(t, http.MethodPost, statuses+third, token(dev.Token), formBody("state", "pending", "name", "ci", "ref", "master", "target_url", "http://ci.example.com/1"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		created := decode[obj](t, r.body)
		wantField(t, created, "status", "pending")
		wantField(t, created, "name", "ci")
		wantField(t, created, "ref", "master")
		wantField(t, created, "sha", third)
		wantField(t, created, "started_at", nil)
		wantField(t, created, "allow_failure", false)
		if a, ok := created["author"].(obj); !ok || a["username"] != dev.Username {
			t.Errorf("author = %v, want %s", created["author"], dev.Username)
		}
		r = do(t, http.MethodPost, statuses+third, token(dev.Token), jsonBody(map[string]string{"state": "running", "context": "ci", "ref": "master", "description": "building"}))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", created["id"])
			wantField(t, got, "status", "running")
			wantField(t, got, "description", "building")
			wantField(t, got, "target_url", "http://ci.example.com/1")
			if got["started_at"] == nil {
				t.Errorf("started_at = null, want a time")
			}
		}
		// Without a name: a new "default" status, its ref not set.
		r = do(t, http.MethodPost, statuses+third, token(owner.Token), query("state", "success"))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "default")
			wantField(t, got, "ref", nil)
			wantField(t, got, "status", "success")
			if got["finished_at"] == nil {
				t.Errorf("finished_at = null, want a time")
			}
		}
		r = do(t, http.MethodGet, repo+"/"+third+"/statuses", token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			if got := names(decode[[]obj](t, r.body), "name"); !reflect.DeepEqual(got, []string{"ci", "default"}) {
				t.Errorf("names = %v, want [ci default]", got)
			}
			if h := r.header.Get("X-Total"); h != "2" {
				t.Errorf("X-Total = %q, want 2", h)
			}
		}
		r = do(t, http.MethodGet, repo+"/"+third+"/statuses", token(reporter.Token), query("ref", "master", "stage", "external", "name", "ci", "all", "true"))
		if wantStatus(t, r, http.StatusOK) {
			if got := names(decode[[]obj](t, r.body), "status"); !reflect.DeepEqual(got, []string{"running"}) {
				t.Errorf("statuses = %v, want [running]", got)
			}
		}
		r = do(t, http.MethodGet, repo+"/"+third, token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "status", "running")
		}
	})

	const stranger404 = `{"message":"404 Project Not Found"}`
	const commit404 = `{"message":"404 Commit Not Found"}`
	const unknown = "0123456789012345678901234567890123456789"
	rows := []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"get an unknown commit", "GET", repo + "/" + unknown, owner.Token, nil, 404, commit404},
		{"diff of an unknown commit", "GET", repo + "/no-such-branch/diff", owner.Token, nil, 404, commit404},
		{"statuses of an unknown commit", "GET", repo + "/" + unknown + "/statuses", owner.Token, nil, 404, commit404},
		{"report on an unknown commit", "POST", statuses + unknown, dev.Token, []string{"state", "success"}, 404, commit404},
		{"report without state", "POST", statuses + third, dev.Token, []string{"name", "x"}, 400, `{"message":"400 (Bad request) \"state\" not given"}`},
		{"report a blank state", "POST", statuses + third, dev.Token, []string{"state", " "}, 400, `{"message":"400 (Bad request) \"state\" not given"}`},
		{"report an unknown state", "POST", statuses + third, dev.Token, []string{"state", "bogus", "name", "lint"}, 400, `{"message":{"status":["is invalid"]}}`},
		{"reporter reports", "POST", statuses + third, reporter.Token, []string{"state", "success"}, 403, forbidden403},
		{"reporter reports without parameters: access first", "POST", statuses + third, reporter.Token, []string{}, 403, forbidden403},
		{"guest lists commits", "GET", repo, guest.Token, nil, 403, forbidden403},
		{"guest gets a commit", "GET", repo + "/" + third, guest.Token, nil, 403, forbidden403},
		{"guest gets a diff", "GET", repo + "/" + third + "/diff", guest.Token, nil, 403, forbidden403},
		{"guest lists statuses", "GET", repo + "/" + third + "/statuses", guest.Token, nil, 403, forbidden403},
		{"stranger lists commits", "GET", repo, stranger.Token, nil, 404, stranger404},
		{"stranger gets a commit", "GET", repo + "/" + third, stranger.Token, nil, 404, stranger404},
		{"stranger gets a diff", "GET", repo + "/" + third + "/diff", stranger.Token, nil, 404, stranger404},
		{"stranger lists statuses", "GET", repo + "/" + third + "/statuses", stranger.Token, nil, 404, stranger404},
		{"stranger reports without parameters: the project first", "POST", statuses + third, stranger.Token, []string{}, 404, stranger404},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
		})
	}
	t.Run("the unknown state left a pending status", func(t *testing.T) {
		r := do(t, http.MethodGet, repo+"/"+third+"/statuses", token(owner.Token), query("name", "lint"))
		if wantStatus(t, r, http.StatusOK) {
			if got := names(decode[[]obj](t, r.body), "status"); !reflect.DeepEqual(got, []string{"pending"}) {
				t.Errorf("statuses = %v, want [pending]", got)
			}
		}
	})
	t.Run("no branch holds the commit", func(t *testing.T) {
		g.must(work, "checkout", "--quiet", "--detach", first)
		orphan := g.commit(work, "orphan.txt", "o\n")
		g.must(work, "push", "--quiet", "origin", orphan+":refs/tags/orphan")
		wantError(t, do(t, http.MethodPost, statuses+orphan, token(dev.Token), formBody("state", "success")), 404,
			`{"message":"404 References for commit Not Found"}`)
		r := do(t, http.MethodPost, statuses+orphan, token(dev.Token), formBody("state", "success", "ref", "orphan"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "ref", "orphan")
		}
	})
}
