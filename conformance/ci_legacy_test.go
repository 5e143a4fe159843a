package conformance

// The legacy CI API v1 resources (GitLab CE 8.0–8.2 and standalone GitLab
// CI, doc/ci/api/*.md of 8.5): projects, runner links, web hooks, the
// runners list, commits and forks, with their auth methods: a user's
// private token, a project token, or both.

import (
	"net/http"
	"strings"
	"testing"
)

const (
	ciForbidden    = `{"message":"403 Forbidden"}`
	ciUnauthorized = `{"message":"401 Unauthorized"}`
	ciNotFoundLow  = `{"message":"404 Not found"}`
	ciNotFound     = `{"message":"404 Not Found"}`
)

// ciPath alternates the two mounts, so that every resource is exercised
// under both, and the .json suffix somewhere.
func ciPath(mount int, path string) string {
	switch mount % 3 {
	case 0:
		return "/ci/api/v1" + path
	case 1:
		return "/api/v1" + path
	}
	return "/ci/api/v1" + path + ".json"
}

func TestLegacyCIProjects(t *testing.T) {
	t.Parallel()
	owner, master, dev, outsider := newUser(t), newUser(t), newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	noCI := newProject(t, owner.Token, "builds_enabled", "false")
	other := newProject(t, outsider.Token)

	t.Run("list", func(t *testing.T) {
		for i, tok := range []string{owner.Token, master.Token} {
			r := do(t, http.MethodGet, ciPath(i, "/projects"), token(tok))
			if !wantStatus(t, r, http.StatusOK) {
				continue
			}
			got := ids(decode[[]obj](t, r.body))
			if !containsInt(got, p.ID) || containsInt(got, noCI.ID) || containsInt(got, other.ID) {
				t.Errorf("CI projects of %d: %v; want %d, not %d (no builds) nor %d (not theirs)", i, got, p.ID, noCI.ID, other.ID)
			}
		}
		// Owned: the owner's namespace only; the master owns none.
		r := do(t, http.MethodGet, ciPath(2, "/projects/owned"), tokenQuery(owner.Token), query("url", "http://gitlab.example.com"))
		if wantStatus(t, r, http.StatusOK) {
			list := decode[[]obj](t, r.body)
			if got := ids(list); !containsInt(got, p.ID) {
				t.Errorf("owned CI projects = %v, want %d", got, p.ID)
			}
			for _, o := range list {
				if num(o, "id") == p.ID {
					wantFields(t, o, "id", "name", "timeout", "token", "default_ref", "gitlab_url", "path",
						"always_build", "polling_interval", "public", "ssh_url_to_repo", "gitlab_id")
					wantField(t, o, "gitlab_id", float64(p.ID))
					wantField(t, o, "path", p.PathWithNamespace)
					wantField(t, o, "token", projectRunnersToken(t, owner.Token, p.ID))
					wantField(t, o, "default_ref", "master")
					wantField(t, o, "timeout", float64(3600))
				}
			}
		}
		r = do(t, http.MethodGet, ciPath(1, "/projects/owned"), token(master.Token))
		if wantStatus(t, r, http.StatusOK) && len(decode[[]obj](t, r.body)) != 0 {
			t.Errorf("a master owns CI projects: %s", r.body)
		}
		wantError(t, do(t, http.MethodGet, ciPath(0, "/projects")), http.StatusForbidden, ciForbidden)
		wantError(t, do(t, http.MethodGet, ciPath(1, "/projects/owned"), token("not-a-token")), http.StatusForbidden, ciForbidden)
	})

	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, ciPath(0, "/projects/"+p.idPath()), token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "id", float64(p.ID))
		}
		wantError(t, do(t, http.MethodGet, ciPath(1, "/projects/"+p.idPath()), token(outsider.Token)), http.StatusUnauthorized, ciUnauthorized)
		wantError(t, do(t, http.MethodGet, ciPath(2, "/projects/"+noCI.idPath()), token(owner.Token)), http.StatusNotFound, ciNotFoundLow)
		wantError(t, do(t, http.MethodGet, ciPath(0, "/projects/999999999"), token(owner.Token)), http.StatusNotFound, ciNotFoundLow)
		wantError(t, do(t, http.MethodGet, ciPath(0, "/projects/abc"), token(owner.Token)), http.StatusNotFound, ciNotFoundLow)
		wantError(t, do(t, http.MethodGet, ciPath(1, "/projects/"+p.idPath())), http.StatusForbidden, ciForbidden)
	})

	t.Run("update", func(t *testing.T) {
		r := do(t, http.MethodPut, ciPath(0, "/projects/"+p.idPath()), token(master.Token), formBody("name", "renamed", "default_ref", "dev"))
		if wantStatus(t, r, http.StatusOK) {
			o := decode[obj](t, r.body)
			// The GitLab project's own values stay.
			wantField(t, o, "name", p.Name)
			wantField(t, o, "default_ref", "master")
		}
		wantError(t, do(t, http.MethodPut, ciPath(1, "/projects/"+p.idPath()), token(dev.Token), formBody("name", "x")), http.StatusUnauthorized, ciUnauthorized)
		wantError(t, do(t, http.MethodPut, ciPath(2, "/projects/"+noCI.idPath()), token(owner.Token), formBody("name", "x")), http.StatusNotFound, ciNotFoundLow)
		wantError(t, do(t, http.MethodPut, ciPath(0, "/projects/"+p.idPath()), formBody("name", "x")), http.StatusForbidden, ciForbidden)
	})

	t.Run("create and delete", func(t *testing.T) {
		body := func(id int, extra ...string) reqOpt {
			return formBody(append([]string{"name", "x", "gitlab_id", itoa(id), "ssh_url_to_repo", "git@x:y.git"}, extra...)...)
		}
		rows := []struct {
			name   string
			tok    string
			opt    reqOpt
			status int
			body   string
		}{
			{"no user", "", body(noCI.ID, "path", "a/b"), 403, ciForbidden},
			{"no name", owner.Token, formBody("gitlab_id", noCI.idPath(), "ssh_url_to_repo", "git@x:y.git", "path", "a/b"), 400, `{"message":"400 (Bad request) \"name\" not given"}`},
			{"no ssh url", owner.Token, formBody("name", "x", "gitlab_id", noCI.idPath()), 400, `{"message":"400 (Bad request) \"ssh_url_to_repo\" not given"}`},
			{"no path", owner.Token, body(noCI.ID), 400, `{"message":"Path can't be blank"}`},
			{"unknown GitLab project", owner.Token, body(999999999, "path", "a/b"), 401, ciUnauthorized},
			{"a developer", dev.Token, body(p.ID, "path", "a/b"), 401, ciUnauthorized},
			{"builds enabled already", owner.Token, body(p.ID, "path", "a/b"), 400, `{"message":"Gitlab has already been taken"}`},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				opts := []reqOpt{row.opt}
				if row.tok != "" {
					opts = append(opts, token(row.tok))
				}
				wantError(t, do(t, http.MethodPost, "/ci/api/v1/projects", opts...), row.status, row.body)
			})
		}
		r := do(t, http.MethodPost, "/api/v1/projects.json", token(owner.Token), jsonBody(map[string]any{
			"name": "ignored", "gitlab_id": noCI.ID, "ssh_url_to_repo": "git@x:y.git", "gitlab_url": "http://gitlab.example.com/a/b", "default_ref": "master"}))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "id", float64(noCI.ID))
		}
		if v := getProject(t, owner.Token, noCI.ID)["builds_enabled"]; v != true {
			t.Errorf("builds_enabled after creating the CI project = %v", v)
		}

		wantError(t, do(t, http.MethodDelete, ciPath(0, "/projects/"+noCI.idPath()), token(dev.Token)), http.StatusUnauthorized, ciUnauthorized)
		wantError(t, do(t, http.MethodDelete, ciPath(1, "/projects/"+noCI.idPath())), http.StatusForbidden, ciForbidden)
		r = do(t, http.MethodDelete, ciPath(2, "/projects/"+noCI.idPath()), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "gitlab_id", float64(noCI.ID))
		}
		if v := getProject(t, owner.Token, noCI.ID)["builds_enabled"]; v != false {
			t.Errorf("builds_enabled after removing the CI project = %v", v)
		}
		wantError(t, do(t, http.MethodDelete, ciPath(0, "/projects/"+noCI.idPath()), token(owner.Token)), http.StatusNotFound, ciNotFoundLow)
	})
}

func TestLegacyCIRunners(t *testing.T) {
	t.Parallel()
	owner, dev, stranger := newUser(t), newUser(t), newUser(t)
	p, q := newProject(t, owner.Token), newProject(t, owner.Token)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	mine := registerRunner(t, projectRunnersToken(t, owner.Token, q.ID), "")
	strangers := registerRunner(t, projectRunnersToken(t, stranger.Token, newProject(t, stranger.Token).ID), "")
	shared := registerRunner(t, env.regToken, "")

	t.Run("list", func(t *testing.T) {
		r := do(t, http.MethodGet, "/ci/api/v1/runners", token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			list := decode[[]obj](t, r.body)
			if got := ids(list); !sameInts(got, []int{mine.ID}) {
				t.Errorf("owner's runners = %v, want [%d]", got, mine.ID)
			}
			if len(list) == 1 {
				wantField(t, list[0], "token", mine.Token)
			}
		}
		r = do(t, http.MethodGet, "/api/v1/runners.json", tokenQuery(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			got := ids(decode[[]obj](t, r.body))
			for _, id := range []int{mine.ID, strangers.ID, shared.ID} {
				if !containsInt(got, id) {
					t.Errorf("admin's runner list lacks %d", id)
				}
			}
		}
		wantError(t, do(t, http.MethodGet, "/api/v1/runners"), http.StatusForbidden, ciForbidden)
	})

	link := func(m int, proj testProject, r testRunner) string {
		return ciPath(m, "/projects/"+proj.idPath()+"/runners/"+itoa(r.ID))
	}
	t.Run("link", func(t *testing.T) {
		rows := []struct {
			name   string
			path   string
			tok    string
			status int
			body   string
		}{
			{"no user", link(0, p, mine), "", 403, ciForbidden},
			{"unknown project", ciPath(1, "/projects/999999999/runners/"+itoa(mine.ID)), owner.Token, 404, ciNotFoundLow},
			{"unknown runner", ciPath(2, "/projects/"+p.idPath()+"/runners/999999999"), owner.Token, 404, ciNotFoundLow},
			{"a developer", link(0, p, mine), dev.Token, 401, ciUnauthorized},
			{"another user's runner", link(1, p, strangers), owner.Token, 401, ciUnauthorized},
			{"a shared runner", link(2, p, shared), owner.Token, 401, ciUnauthorized},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				var opts []reqOpt
				if row.tok != "" {
					opts = append(opts, token(row.tok))
				}
				wantError(t, do(t, http.MethodPost, row.path, opts...), row.status, row.body)
			})
		}
		r := do(t, http.MethodPost, link(0, p, mine), token(owner.Token))
		if wantStatus(t, r, http.StatusCreated) {
			o := decode[obj](t, r.body)
			wantField(t, o, "project_id", float64(p.ID))
			wantField(t, o, "runner_id", float64(mine.ID))
		}
		// 8.0 joined the CI project's (empty) errors for a second link.
		wantError(t, do(t, http.MethodPost, link(1, p, mine), token(owner.Token)), http.StatusBadRequest, `{"message":""}`)
		// The v3 API sees the link.
		got := runnerIDsOf(t, do(t, http.MethodGet, "/projects/"+p.idPath()+"/runners", token(owner.Token), query("scope", "specific")))
		if !sameInts(got, []int{mine.ID}) {
			t.Errorf("v3 runners of p = %v, want [%d]", got, mine.ID)
		}
		// Admins link any runner.
		wantStatus(t, do(t, http.MethodPost, link(2, p, strangers), token(env.rootToken)), http.StatusCreated)
	})

	t.Run("unlink", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, link(0, p, mine)), http.StatusForbidden, ciForbidden)
		wantError(t, do(t, http.MethodDelete, link(1, p, mine), token(dev.Token)), http.StatusUnauthorized, ciUnauthorized)
		wantError(t, do(t, http.MethodDelete, ciPath(2, "/projects/"+p.idPath()+"/runners/999999999"), token(owner.Token)), http.StatusNotFound, ciNotFoundLow)
		wantError(t, do(t, http.MethodDelete, link(0, p, shared), token(owner.Token)), http.StatusNotFound, ciNotFound)
		r := do(t, http.MethodDelete, link(1, p, mine), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			o := decode[obj](t, r.body)
			wantFields(t, o, "id", "project_id", "runner_id", "created_at", "updated_at")
			wantField(t, o, "runner_id", float64(mine.ID))
		}
		// Unlike the v3 API, the last project may go too.
		wantStatus(t, do(t, http.MethodDelete, link(2, q, mine), token(owner.Token)), http.StatusOK)
		wantError(t, do(t, http.MethodDelete, link(0, q, mine), token(owner.Token)), http.StatusNotFound, ciNotFound)
	})
}

func TestLegacyCIWebHooks(t *testing.T) {
	t.Parallel()
	owner, dev := newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	hooks := func(m int, id string) string { return ciPath(m, "/projects/"+id+"/webhooks") }

	rows := []struct {
		name   string
		path   string
		tok    string
		form   []string
		status int
		body   string
	}{
		{"no user", hooks(0, p.idPath()), "", []string{"web_hook", "http://127.0.0.1:9/ci"}, 403, ciForbidden},
		{"no web_hook", hooks(1, p.idPath()), owner.Token, nil, 400, `{"message":"400 (Bad request) \"web_hook\" not given"}`},
		{"unknown project", hooks(2, "999999999"), owner.Token, []string{"web_hook", "http://127.0.0.1:9/ci"}, 404, ciNotFoundLow},
		{"a developer", hooks(0, p.idPath()), dev.Token, []string{"web_hook", "http://127.0.0.1:9/ci"}, 401, ciUnauthorized},
		{"not a URL", hooks(1, p.idPath()), owner.Token, []string{"web_hook", "not a url"}, 400, `{"message":"Url is invalid"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{formBody(row.form...)}
			if row.tok != "" {
				opts = append(opts, token(row.tok))
			}
			wantError(t, do(t, http.MethodPost, row.path, opts...), row.status, row.body)
		})
	}
	r := do(t, http.MethodPost, hooks(2, p.idPath()), token(owner.Token), jsonBody(map[string]any{"web_hook": "http://127.0.0.1:9/ci"}))
	if !wantStatus(t, r, http.StatusCreated) {
		return
	}
	h := decode[obj](t, r.body)
	wantField(t, h, "project_id", float64(p.ID))
	wantField(t, h, "url", "http://127.0.0.1:9/ci")
	// It is the project's hook, for build events only.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/hooks/"+itoa(num(h, "id")), token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		o := decode[obj](t, r.body)
		wantField(t, o, "build_events", true)
		wantField(t, o, "push_events", false)
	}
}

func TestLegacyCICommits(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	plain := g.commit(work, "README.md", "# no CI here\n")
	g.must(work, "push", "--quiet", "origin", "master")
	sha := pushCI(g, work, "build:\n  script: [make]\n", "", "master")
	projectToken := projectRunnersToken(t, owner.Token, p.ID)
	noCI := newProject(t, owner.Token, "builds_enabled", "false")

	push := func(ref, after string) map[string]any {
		return map[string]any{"before": plain, "after": after, "ref": ref, "commits": []any{}}
	}
	// The push made a pipeline for master; posting the same commit answers it.
	var pushed obj
	eventually(10e9, func() bool {
		r := do(t, http.MethodGet, "/ci/api/v1/commits", query("project_id", p.idPath(), "project_token", projectToken))
		if r.status != http.StatusOK {
			t.Fatalf("commits: %s", r)
		}
		list := decode[[]obj](t, r.body)
		if len(list) > 0 {
			pushed = list[0]
		}
		return pushed != nil
	})
	if pushed == nil {
		t.Fatal("the push made no pipeline")
	}
	wantField(t, pushed, "sha", sha)
	wantField(t, pushed, "ref", "master")
	wantField(t, pushed, "git_commit_message", "add .gitlab-ci.yml\n")
	wantField(t, pushed, "git_author_email", "conformance@example.com")
	if builds, _ := pushed["builds"].([]any); len(builds) != 1 {
		t.Errorf("builds of the pushed commit = %v, want one", pushed["builds"])
	} else {
		b := builds[0].(obj)
		wantField(t, b, "name", "build")
		wantField(t, b, "commit_id", float64(num(pushed, "id")))
		wantField(t, b, "status", "pending")
	}

	r := do(t, http.MethodPost, "/ci/api/v1/commits", jsonBody(map[string]any{
		"project_id": p.ID, "project_token": projectToken, "data": push("refs/heads/master", sha)}))
	if wantStatus(t, r, http.StatusCreated) {
		wantField(t, decode[obj](t, r.body), "id", float64(num(pushed, "id")))
	}
	// The same commit on another ref is built anew; form fields with data[...].
	r = do(t, http.MethodPost, "/api/v1/commits.json", formBody("project_id", p.idPath(), "project_token", projectToken,
		"data[before]", plain, "data[after]", sha, "data[ref]", "refs/heads/feature"))
	if wantStatus(t, r, http.StatusCreated) {
		c := decode[obj](t, r.body)
		if num(c, "id") == num(pushed, "id") {
			t.Errorf("another ref answered the master pipeline")
		}
		wantField(t, c, "ref", "feature")
		wantField(t, c, "before_sha", plain)
		if builds, _ := c["builds"].([]any); len(builds) != 1 {
			t.Errorf("builds = %v, want one", c["builds"])
		}
	}
	r = do(t, http.MethodGet, "/api/v1/commits", query("project_id", p.idPath(), "project_token", projectToken, "per_page", "1"))
	if wantStatus(t, r, http.StatusOK) {
		list := decode[[]obj](t, r.body)
		if len(list) != 1 || str(list[0], "ref") != "feature" {
			t.Errorf("first page of one = %s, want the feature pipeline", r.body)
		}
	}

	bad := []struct {
		name   string
		opt    reqOpt
		status int
		body   string
	}{
		{"no data", formBody("project_id", p.idPath(), "project_token", projectToken), 400, `{"message":"400 (Bad request) \"data\" not given"}`},
		{"no token", jsonBody(map[string]any{"project_id": p.ID, "data": push("refs/heads/x", sha)}), 400, `{"message":"400 (Bad request) \"project_token\" not given"}`},
		{"wrong token", jsonBody(map[string]any{"project_id": p.ID, "project_token": "nope", "data": push("refs/heads/x", sha)}), 403, ciForbidden},
		{"unknown project", jsonBody(map[string]any{"project_id": 999999999, "project_token": projectToken, "data": push("refs/heads/x", sha)}), 404, ciNotFoundLow},
		{"builds disabled", jsonBody(map[string]any{"project_id": noCI.ID, "project_token": projectToken, "data": push("refs/heads/x", sha)}), 404, ciNotFoundLow},
		{"no ref", jsonBody(map[string]any{"project_id": p.ID, "project_token": projectToken, "data": map[string]any{"after": sha}}), 400, `{"message":"Ref can't be blank"}`},
		{"deleted ref", jsonBody(map[string]any{"project_id": p.ID, "project_token": projectToken, "data": push("refs/heads/x", strings.Repeat("0", 40))}), 400, `{"message":"Sha can't be blank"}`},
		{"unknown sha", jsonBody(map[string]any{"project_id": p.ID, "project_token": projectToken, "data": push("refs/heads/x", strings.Repeat("ab", 20))}), 400, `{"message":"Sha is not a commit of the repository"}`},
		{"no .gitlab-ci.yml", jsonBody(map[string]any{"project_id": p.ID, "project_token": projectToken, "data": push("refs/heads/x", plain)}), 400, `{"message":"Missing .gitlab-ci.yml file"}`},
	}
	for _, row := range bad {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, "/ci/api/v1/commits", row.opt), row.status, row.body)
		})
	}
	wantError(t, do(t, http.MethodGet, "/ci/api/v1/commits", query("project_id", p.idPath(), "project_token", "nope")), http.StatusForbidden, ciForbidden)
	wantError(t, do(t, http.MethodGet, "/ci/api/v1/commits", query("project_id", p.idPath())), http.StatusForbidden, ciForbidden)
	wantError(t, do(t, http.MethodGet, "/ci/api/v1/commits.json", query("project_token", projectToken)), http.StatusNotFound, ciNotFoundLow)
	wantError(t, do(t, http.MethodGet, "/api/v1/commits", query("project_id", "999999999", "project_token", projectToken)), http.StatusNotFound, ciNotFoundLow)
}

func TestLegacyCIForks(t *testing.T) {
	t.Parallel()
	owner, forker := newUser(t), newUser(t)
	origin := newProject(t, owner.Token, "visibility_level", "20")
	originToken := projectRunnersToken(t, owner.Token, origin.ID)
	r := do(t, http.MethodPost, "/projects/fork/"+origin.idPath(), token(forker.Token))
	if r.status != http.StatusCreated {
		t.Fatalf("fork: %s", r)
	}
	fork := projectOf(decode[obj](t, r.body))
	unrelated := newProject(t, forker.Token)
	data := func(p testProject) map[string]any {
		return map[string]any{"web_url": env.base + "/" + p.PathWithNamespace, "default_branch": "master"}
	}
	body := func(id int, tok string, d map[string]any) reqOpt {
		return jsonBody(map[string]any{"project_id": id, "project_token": tok, "data": d})
	}
	rows := []struct {
		name   string
		opts   []reqOpt
		status int
		body   string
	}{
		{"no data", []reqOpt{token(forker.Token), formBody("project_id", origin.idPath(), "project_token", originToken)}, 400, `{"message":"400 (Bad request) \"data\" not given"}`},
		{"no private token", []reqOpt{body(origin.ID, originToken, data(fork))}, 400, `{"message":"400 (Bad request) \"private_token\" not given"}`},
		{"unknown origin", []reqOpt{token(forker.Token), body(999999999, originToken, data(fork))}, 404, ciNotFoundLow},
		{"wrong project token", []reqOpt{token(forker.Token), body(origin.ID, "nope", data(fork))}, 403, ciForbidden},
		{"unknown user", []reqOpt{token("not-a-token"), body(origin.ID, originToken, data(fork))}, 404, ciNotFound},
		{"not a fork of the origin", []reqOpt{token(forker.Token), body(origin.ID, originToken, data(unrelated))}, 404, ciNotFound},
		{"someone else's fork", []reqOpt{token(owner.Token), body(origin.ID, originToken, data(fork))}, 404, ciNotFound},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, "/api/v1/forks", row.opts...), row.status, row.body)
		})
	}
	// The settings come from the origin.
	wantStatus(t, do(t, http.MethodPut, "/projects/"+origin.idPath(), token(owner.Token), formBody("public_builds", "false")), http.StatusOK)
	r = do(t, http.MethodPost, "/ci/api/v1/forks.json", tokenQuery(forker.Token), jsonBody(map[string]any{
		"project_id": origin.ID, "project_token": originToken,
		"data": map[string]any{"name_with_namespace": forker.Username + " / " + fork.Name}}))
	if wantStatus(t, r, http.StatusCreated) {
		o := decode[obj](t, r.body)
		wantField(t, o, "id", float64(fork.ID))
		wantField(t, o, "public", false)
		wantField(t, o, "token", projectRunnersToken(t, forker.Token, fork.ID))
	}
	r = do(t, http.MethodPost, "/api/v1/forks", token(forker.Token), body(origin.ID, originToken, data(fork)))
	wantStatus(t, r, http.StatusCreated)
}
