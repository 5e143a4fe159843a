package conformance

// Repository branches (doc/api/branches.md; endpoints.tsv rows for
// /projects/:id/repository/branches; entities.md "Branch (server name:
// RepoObject)", "Raw git commit"). Commits are pushed over HTTP with the
// git client; the API then reads, makes, protects and removes branches.

import (
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestBranches(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	first := g.commit(work, "a.txt", "a\n")
	second := g.commit(work, "b.txt", "b\n")
	g.must(work, "tag", "v1", first)
	g.must(work, "push", "--quiet", "origin", "master", "v1")

	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	master, dev, reporter, guest, stranger := member(accessMaster), member(accessDeveloper), member(accessReporter), member(accessGuest), newUser(t)
	branches := "/projects/" + p.idPath() + "/repository/branches"
	branch := func(name string) string { return branches + "/" + url.PathEscape(name) }

	t.Run("create a branch of a branch", func(t *testing.T) {
		r := do(t, http.MethodPost, branches, token(dev.Token), formBody("branch_name", "develop", "ref", "master"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "name", "develop")
		wantField(t, got, "protected", false)
		wantRawCommit(t, got, second, []string{first}, "add b.txt\n")
	})
	t.Run("create a branch with a slash, of a SHA, JSON, by project path", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+p.encoded()+"/repository/branches", token(owner.Token),
			jsonBody(map[string]string{"branch_name": "feature/login", "ref": first}))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "feature/login")
			wantRawCommit(t, got, first, []string{}, "add a.txt\n")
		}
		if out := g.must("", "ls-remote", withCreds(t, raw, owner.Username, owner.Token), "refs/heads/feature/login"); out != first+"\trefs/heads/feature/login" {
			t.Errorf("ls-remote shows %q, want feature/login at %s", out, first)
		}
	})
	t.Run("create a branch of a tag, from the query string", func(t *testing.T) {
		r := do(t, http.MethodPost, branches, token(dev.Token), query("branch_name", "from-tag", "ref", "v1"))
		if wantStatus(t, r, http.StatusCreated) {
			wantRawCommit(t, decode[obj](t, r.body), first, []string{}, "add a.txt\n")
		}
	})

	t.Run("list: every branch, by name, not paginated", func(t *testing.T) {
		r := do(t, http.MethodGet, branches, token(reporter.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got, want := names(list, "name"), []string{"develop", "feature/login", "from-tag", "master"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("names = %v, want %v", got, want)
		}
		wantRawCommit(t, list[3], second, []string{first}, "add b.txt\n")
		for _, b := range list {
			wantField(t, b, "protected", false)
		}
		if h := r.header.Get("X-Total"); h != "" {
			t.Errorf("X-Total = %q, want none: the list is not paginated", h)
		}
	})
	t.Run("get a branch whose name holds a slash, by project path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.encoded()+"/repository/branches/"+url.PathEscape("feature/login"), token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "feature/login")
			wantField(t, got, "protected", false)
			wantRawCommit(t, got, first, []string{}, "add a.txt\n")
		}
	})

	t.Run("protect, twice, then read it protected", func(t *testing.T) {
		for i, tok := range []string{master.Token, owner.Token} {
			r := do(t, http.MethodPut, branch("develop")+"/protect", token(tok))
			if wantStatus(t, r, http.StatusOK) {
				got := decode[obj](t, r.body)
				wantField(t, got, "name", "develop")
				wantField(t, got, "protected", true)
				wantRawCommit(t, got, second, []string{first}, "add b.txt\n")
			} else {
				t.Fatalf("protect #%d failed", i+1)
			}
		}
		r := do(t, http.MethodGet, branch("develop"), token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "protected", true)
		}
		r = do(t, http.MethodGet, branches, token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			for _, b := range decode[[]obj](t, r.body) {
				wantField(t, b, "protected", b["name"] == "develop")
			}
		}
	})
	t.Run("a protected branch refuses a developer's push", func(t *testing.T) {
		devWork := g.clone(withCreds(t, raw, dev.Username, dev.Token))
		g.must(devWork, "checkout", "--quiet", "develop")
		g.commit(devWork, "c.txt", "c\n")
		g.refused("You are not allowed to push code to protected branches on this project.", devWork, "push", "origin", "develop")
	})

	count := func(t *testing.T) int {
		t.Helper()
		r := do(t, http.MethodGet, branches, token(owner.Token))
		if r.status != http.StatusOK {
			t.Fatalf("list branches: %s", r)
		}
		return len(decode[[]obj](t, r.body))
	}
	stranger404 := `{"message":"404 Project Not Found"}`
	branch404 := `{"message":"404 Branch Not Found"}`
	rejects := []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"create a branch that exists", "POST", branches, dev.Token, []string{"branch_name", "develop", "ref", "master"}, 400, `{"message":"Branch already exists"}`},
		{"create a branch of an unknown ref", "POST", branches, dev.Token, []string{"branch_name", "b3", "ref", "no-such-branch"}, 400, `{"message":"Invalid reference name"}`},
		{"create a branch with an invalid name", "POST", branches, dev.Token, []string{"branch_name", "bad..name", "ref", "master"}, 400, `{"message":"Branch name is invalid"}`},
		{"create a branch named like a directory of one", "POST", branches, dev.Token, []string{"branch_name", "feature", "ref", "master"}, 400, `{"message":"Branch name is invalid"}`},
		{"create without ref", "POST", branches, dev.Token, []string{"branch_name", "b3"}, 400, `{"message":"400 (Bad request) \"ref\" not given"}`},
		{"create without branch_name", "POST", branches, dev.Token, []string{"ref", "master"}, 400, `{"message":"400 (Bad request) \"branch_name\" not given"}`},
		{"get an unknown branch", "GET", branch("nope"), owner.Token, nil, 404, branch404},
		{"get a prefix of a branch", "GET", branch("feature"), owner.Token, nil, 404, branch404},
		{"protect an unknown branch", "PUT", branch("nope") + "/protect", master.Token, nil, 404, branch404},
		{"unprotect an unknown branch", "PUT", branch("nope") + "/unprotect", master.Token, nil, 404, branch404},
		{"delete an unknown branch", "DELETE", branch("nope"), dev.Token, nil, 404, `{"message":"No such branch"}`},
		{"delete the HEAD branch", "DELETE", branch("master"), owner.Token, nil, 405, `{"message":"Cannot remove HEAD branch"}`},
		{"delete a protected branch", "DELETE", branch("develop"), owner.Token, nil, 405, `{"message":"Protected branch cant be removed"}`},
		// A reporter may read the code, not push it; a developer may push,
		// not protect; a guest of a private project may not even read it.
		{"reporter creates", "POST", branches, reporter.Token, []string{"branch_name", "b3", "ref", "master"}, 403, forbidden403},
		{"reporter creates without parameters: access first", "POST", branches, reporter.Token, []string{}, 403, forbidden403},
		{"reporter deletes", "DELETE", branch("from-tag"), reporter.Token, nil, 403, forbidden403},
		{"developer protects", "PUT", branch("from-tag") + "/protect", dev.Token, nil, 403, forbidden403},
		{"developer unprotects", "PUT", branch("develop") + "/unprotect", dev.Token, nil, 403, forbidden403},
		{"developer protects an unknown branch: access first", "PUT", branch("nope") + "/protect", dev.Token, nil, 403, forbidden403},
		{"guest lists", "GET", branches, guest.Token, nil, 403, forbidden403},
		{"guest gets", "GET", branch("master"), guest.Token, nil, 403, forbidden403},
		{"guest protects", "PUT", branch("master") + "/protect", guest.Token, nil, 403, forbidden403},
		{"stranger lists", "GET", branches, stranger.Token, nil, 404, stranger404},
		{"stranger gets", "GET", branch("master"), stranger.Token, nil, 404, stranger404},
		{"stranger creates without parameters: the project first", "POST", branches, stranger.Token, []string{}, 404, stranger404},
		{"stranger deletes", "DELETE", branch("from-tag"), stranger.Token, nil, 404, stranger404},
		{"stranger protects", "PUT", branch("from-tag") + "/protect", stranger.Token, nil, 404, stranger404},
		{"stranger unprotects", "PUT", branch("develop") + "/unprotect", stranger.Token, nil, 404, stranger404},
		{"unknown project", "GET", "/projects/999999999/repository/branches", owner.Token, nil, 404, stranger404},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
			if n := count(t); n != 4 {
				t.Errorf("%d branches after the rejected request, want 4", n)
			}
		})
	}
	t.Run("the rejected requests left the protection as it was", func(t *testing.T) {
		r := do(t, http.MethodGet, branches, token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			for _, b := range decode[[]obj](t, r.body) {
				wantField(t, b, "protected", b["name"] == "develop")
			}
		}
	})

	t.Run("unprotect, twice, then delete", func(t *testing.T) {
		for _, tok := range []string{master.Token, env.rootToken} {
			r := do(t, http.MethodPut, branch("develop")+"/unprotect", token(tok))
			if wantStatus(t, r, http.StatusOK) {
				got := decode[obj](t, r.body)
				wantField(t, got, "name", "develop")
				wantField(t, got, "protected", false)
			}
		}
		r := do(t, http.MethodDelete, branch("develop"), token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"branch_name":"develop"}`)
		}
		wantError(t, do(t, http.MethodGet, branch("develop"), token(owner.Token)), 404, branch404)
		wantError(t, do(t, http.MethodDelete, branch("develop"), token(dev.Token)), 404, `{"message":"No such branch"}`)
	})
	t.Run("git fails to remove a locked branch", func(t *testing.T) {
		unlock := lockRef(t, p.ID, "refs/heads/from-tag")
		wantError(t, do(t, http.MethodDelete, branch("from-tag"), token(dev.Token)), 400, `{"message":"Failed to remove branch"}`)
		unlock()
		if r := do(t, http.MethodGet, branch("from-tag"), token(owner.Token)); r.status != http.StatusOK {
			t.Errorf("the branch after the failed delete: %s", r)
		}
	})
	t.Run("delete a branch whose name holds a slash", func(t *testing.T) {
		r := do(t, http.MethodDelete, branch("feature/login"), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"branch_name":"feature/login"}`)
		}
		if out := g.must("", "ls-remote", "--heads", withCreds(t, raw, owner.Username, owner.Token)); containsLine(out, "refs/heads/feature/login") {
			t.Errorf("ls-remote after the delete:\n%s\nwant no feature/login", out)
		}
		// Its name is free again, and so is the directory's.
		r = do(t, http.MethodPost, branches, token(dev.Token), formBody("branch_name", "feature", "ref", "master"))
		wantStatus(t, r, http.StatusCreated)
	})
	t.Run("a protected name without its branch refuses a developer", func(t *testing.T) {
		if env.repoDir == "" {
			t.Skip("needs the spawned server's repositories to remove a protected branch behind the server's back")
		}
		if r := do(t, http.MethodPut, branch("from-tag")+"/protect", token(master.Token)); !wantStatus(t, r, http.StatusOK) {
			t.FailNow()
		}
		// Only git itself can remove a protected branch.
		g.must(filepath.Join(env.repoDir, strconv.Itoa(p.ID)+".git"), "update-ref", "-d", "refs/heads/from-tag")
		wantError(t, do(t, http.MethodPost, branches, token(dev.Token), formBody("branch_name", "from-tag", "ref", "master")),
			400, `{"message":"Branch creation was rejected by Git hook"}`)
		r := do(t, http.MethodPost, branches, token(master.Token), formBody("branch_name", "from-tag", "ref", "master"))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "protected", true)
		}
	})
}

// On a public project any user reads the branches and none but developers
// write them; an empty repository has no branches and branches nothing.
func TestBranchesPublicAndEmpty(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, outsider := newUser(t), newUser(t)
	pub, _, sha := seededProject(t, g, owner, "visibility_level", itoa(visPublic))
	branches := "/projects/" + pub.idPath() + "/repository/branches"
	r := do(t, http.MethodGet, branches, token(outsider.Token))
	if wantStatus(t, r, http.StatusOK) {
		list := decode[[]obj](t, r.body)
		if got := names(list, "name"); !reflect.DeepEqual(got, []string{"master"}) {
			t.Errorf("names = %v, want [master]", got)
		} else {
			wantField(t, list[0]["commit"].(obj), "id", sha)
		}
	}
	wantError(t, do(t, http.MethodPost, branches, token(outsider.Token), formBody("branch_name", "b", "ref", sha)), 403, forbidden403)
	wantError(t, do(t, http.MethodDelete, branches+"/master", token(outsider.Token)), 403, forbidden403)
	wantError(t, do(t, http.MethodPut, branches+"/master/protect", token(outsider.Token)), 403, forbidden403)
	wantError(t, do(t, http.MethodPut, branches+"/master/unprotect", token(outsider.Token)), 403, forbidden403)

	empty := newProject(t, owner.Token)
	emptyBranches := "/projects/" + empty.idPath() + "/repository/branches"
	r = do(t, http.MethodGet, emptyBranches, token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `[]`)
	}
	wantError(t, do(t, http.MethodPost, emptyBranches, token(owner.Token), formBody("branch_name", "b", "ref", "master")), 400, `{"message":"Invalid reference name"}`)
	wantError(t, do(t, http.MethodGet, emptyBranches+"/master", token(owner.Token)), 404, `{"message":"404 Branch Not Found"}`)
	wantError(t, do(t, http.MethodDelete, emptyBranches+"/master", token(owner.Token)), 404, `{"message":"No such branch"}`)
}

// Creating and deleting a branch through the API are pushes: each records
// its event and goes to the project's push hooks, as a git push does.
func TestBranchesArePushes(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	dev := newUser(t)
	p, _, sha := seededProject(t, g, owner)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	pushes := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", pushes.srv.URL+"/push", "push_events", "true")
	branches := "/projects/" + p.idPath() + "/repository/branches"
	zero := strings.Repeat("0", 40)

	if r := do(t, http.MethodPost, branches, token(dev.Token), formBody("branch_name", "topic/api", "ref", "master")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	got := pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["ref"] == "refs/heads/topic/api" })
	if len(got) != 1 {
		t.Fatalf("push hook deliveries for the new branch: %d, want 1", len(got))
	}
	if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Push Hook" {
		t.Errorf("X-Gitlab-Event = %q, want Push Hook", ev)
	}
	d := got[0].payload()
	for k, v := range map[string]any{
		"object_kind": "push", "before": zero, "after": sha, "checkout_sha": sha,
		"user_id": dev.ID, "user_name": dev.Name, "project_id": p.ID,
	} {
		wantField(t, d, k, v)
	}

	if r := do(t, http.MethodDelete, branches+"/"+url.PathEscape("topic/api"), token(dev.Token)); !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	got = pushes.waitFor(t, "/push", 1, func(o obj) bool {
		return o != nil && o["ref"] == "refs/heads/topic/api" && o["after"] == zero
	})
	if len(got) != 1 {
		t.Fatalf("push hook deliveries for the deleted branch: %d, want 1", len(got))
	}
	wantField(t, got[0].payload(), "before", sha)

	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	type seen struct{ action, ref, after string }
	var list []seen
	for _, e := range decode[[]obj](t, r.body) {
		data, _ := e["data"].(map[string]any)
		if data == nil {
			continue
		}
		after, _ := data["after"].(string)
		ref, _ := data["ref"].(string)
		list = append(list, seen{str(e, "action_name"), ref, after})
	}
	want := []seen{
		{"deleted", "refs/heads/topic/api", zero},
		{"pushed new", "refs/heads/topic/api", sha},
		{"pushed new", "refs/heads/master", sha},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("push events %+v, want %+v", list, want)
	}
}
