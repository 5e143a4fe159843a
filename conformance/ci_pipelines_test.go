package conformance

// How a push becomes builds (doc/ci/yaml/README.md at 8.7): the pushed
// commit's .gitlab-ci.yml makes the first stage's builds, visible as the
// commit's statuses, announced to project hooks with build_events; an
// invalid file fails the commit's status; a commit without the file, a
// [ci skip] commit and a project with builds disabled get no builds.

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const twoStageCI = `stages: [build, test]
variables:
  GLOBAL: "1"
before_script: [echo setup]
compile:
  stage: build
  script: [make]
  tags: [docker, linux]
  artifacts:
    paths: [out/]
rspec:
  stage: test
  script: rake spec
lint:
  stage: test
  script: [lint]
  allow_failure: true
tags-only:
  stage: build
  script: [release]
  only: [tags]
`

// pushCI commits .gitlab-ci.yml (and a message) in work and pushes ref.
func pushCI(g *gitClient, work, content, message, ref string) string {
	g.t.Helper()
	g.commit(work, ".gitlab-ci.yml", content)
	if message != "" {
		g.must(work, "commit", "--quiet", "--amend", "-m", message)
	}
	g.must(work, "push", "--quiet", "origin", ref)
	return g.must(work, "rev-parse", "HEAD")
}

// commitStatuses lists the commit's statuses once cond holds for them.
func commitStatuses(t testing.TB, tok string, p testProject, sha string, cond func([]obj) bool) []obj {
	t.Helper()
	var list []obj
	eventually(10e9, func() bool {
		r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/"+sha+"/statuses", token(tok))
		if r.status != http.StatusOK {
			t.Fatalf("statuses: %s", r)
		}
		list = decode[[]obj](t, r.body)
		return cond(list)
	})
	return list
}

func commitState(t testing.TB, tok string, p testProject, sha string) any {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/"+sha, token(tok))
	if r.status != http.StatusOK {
		t.Fatalf("commit: %s", r)
	}
	return decode[obj](t, r.body)["status"]
}

func TestPushCreatesPipeline(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	hooks := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", hooks.srv.URL+"/build", "push_events", "false", "build_events", "true")
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	sha := pushCI(g, work, twoStageCI, "", "master")

	// Only the first stage is built, and only its jobs for a branch.
	list := commitStatuses(t, owner.Token, p, sha, func(l []obj) bool { return len(l) > 0 })
	if len(list) != 1 {
		t.Fatalf("statuses = %v, want the one build of stage build", list)
	}
	b := list[0]
	for k, v := range map[string]any{"name": "compile", "status": "pending", "ref": "master", "sha": sha,
		"allow_failure": false, "target_url": nil, "description": nil, "started_at": nil, "finished_at": nil} {
		wantField(t, b, k, v)
	}
	if a, _ := b["author"].(map[string]any); a == nil || num(a, "id") != owner.ID {
		t.Errorf("author = %v, want the pusher", b["author"])
	}
	if st := commitState(t, owner.Token, p, sha); st != "pending" {
		t.Errorf("commit status = %v, want pending", st)
	}

	got := hooks.waitFor(t, "/build", 1, func(o obj) bool { return o != nil && o["build_name"] == "compile" })
	if len(got) == 0 {
		t.Fatalf("no Build Hook for compile")
	}
	if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Build Hook" {
		t.Errorf("X-Gitlab-Event = %q", ev)
	}
	d := got[0].payload()
	for k, v := range map[string]any{"object_kind": "build", "ref": "master", "tag": false, "sha": sha,
		"before_sha": strings.Repeat("0", 40), "build_id": num(b, "id"), "build_stage": "build",
		"build_status": "pending", "build_started_at": nil, "build_finished_at": nil, "build_duration": nil,
		"build_allow_failure": false, "project_id": p.ID} {
		wantField(t, d, k, v)
	}
	wantFields(t, d, "project_name", "user", "commit", "repository")
	if u, _ := d["user"].(map[string]any); u == nil || num(u, "id") != owner.ID || str(u, "email") != owner.Email {
		t.Errorf("hook user = %v", d["user"])
	}
	if c, _ := d["commit"].(map[string]any); c == nil || str(c, "sha") != sha || str(c, "status") != "pending" ||
		!strings.Contains(str(c, "message"), ".gitlab-ci.yml") {
		t.Errorf("hook commit = %v", d["commit"])
	}

	// A tag of the same commit builds the tags-only job too.
	g.must(work, "tag", "v1.0")
	g.must(work, "push", "--quiet", "origin", "v1.0")
	list = commitStatuses(t, owner.Token, p, sha, func(l []obj) bool { return len(l) >= 3 })
	var tagged []string
	for _, s := range list {
		if str(s, "ref") == "v1.0" {
			tagged = append(tagged, str(s, "name"))
		}
	}
	if strings.Join(tagged, ",") != "compile,tags-only" {
		t.Errorf("tag builds = %v, want compile,tags-only", tagged)
	}
}

func TestPushInvalidCIConfig(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))

	// No .gitlab-ci.yml: no pipeline, no status.
	plain := g.commit(work, "README.md", "hello\n")
	g.must(work, "push", "--quiet", "origin", "master")
	if st := commitState(t, owner.Token, p, plain); st != nil {
		t.Errorf("status without .gitlab-ci.yml = %v, want null", st)
	}

	// An invalid file: the commit fails, no builds.
	bad := pushCI(g, work, "rspec:\n  script: x\n  stage: lint\n", "", "master")
	if !eventually(10e9, func() bool { return commitState(t, owner.Token, p, bad) == "failed" }) {
		t.Errorf("status of an invalid .gitlab-ci.yml = %v, want failed", commitState(t, owner.Token, p, bad))
	}
	if l := commitStatuses(t, owner.Token, p, bad, func([]obj) bool { return true }); len(l) != 0 {
		t.Errorf("builds of an invalid configuration: %v", l)
	}

	// [ci skip]: the pipeline is kept without builds: skipped.
	skipped := pushCI(g, work, "rspec:\n  script: x\n", "do not build [ci skip]", "master")
	if !eventually(10e9, func() bool { return commitState(t, owner.Token, p, skipped) == "skipped" }) {
		t.Errorf("status of a [ci skip] commit = %v, want skipped", commitState(t, owner.Token, p, skipped))
	}

	// Builds disabled: nothing.
	if r := do(t, http.MethodPut, "/projects/"+p.idPath(), token(owner.Token), formBody("builds_enabled", "false")); r.status != http.StatusOK {
		t.Fatalf("disable builds: %s", r)
	}
	off := pushCI(g, work, "rspec:\n  script: [y]\n", "", "master")
	if st := commitState(t, owner.Token, p, off); st != nil {
		t.Errorf("status with builds disabled = %v, want null", st)
	}
}

// TestStagesThroughRunner runs a pipeline with the runner protocol: each
// finished stage makes the next due stage pending (on_success after a
// success, an allowed failure counting as one), every build change sends
// a Build Hook, and the commit's status follows.
func TestStagesThroughRunner(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	hooks := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", hooks.srv.URL+"/build", "push_events", "false", "build_events", "true")
	runner := registerRunner(t, projectRunnersToken(t, owner.Token, p.ID), "")
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	sha := pushCI(g, work, `stages: [build, test, deploy]
compile:
  stage: build
  script: [make]
rspec:
  stage: test
  script: [rspec]
lint:
  stage: test
  script: [lint]
  allow_failure: true
deploy:
  stage: deploy
  script: [deploy]
rollback:
  stage: deploy
  script: [rollback]
  when: on_failure
`, "", "master")

	claim := func(want string) int {
		t.Helper()
		r := do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": runner.Token}))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		b := decode[obj](t, r.body)
		if want != "" && str(b, "name") != want {
			t.Fatalf("claimed %s, want %s", str(b, "name"), want)
		}
		return num(b, "id")
	}
	finish := func(id int, state string) {
		t.Helper()
		r := do(t, http.MethodPut, "/ci/api/v1/builds/"+itoa(id)+".json", jsonBody(map[string]any{"token": runner.Token, "state": state, "trace": "done\n"}))
		wantStatus(t, r, http.StatusOK)
	}
	statuses := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, s := range commitStatuses(t, owner.Token, p, sha, func([]obj) bool { return true }) {
			out[str(s, "name")] = str(s, "status")
		}
		return out
	}
	wantStatuses := func(want string) {
		t.Helper()
		got := statuses()
		var parts []string
		for _, n := range []string{"compile", "rspec", "lint", "deploy", "rollback"} {
			if st, ok := got[n]; ok {
				parts = append(parts, n+"="+st)
			}
		}
		if strings.Join(parts, " ") != want {
			t.Fatalf("statuses = %s, want %s", strings.Join(parts, " "), want)
		}
	}

	compile := claim("compile")
	wantStatuses("compile=running")
	if st := commitState(t, owner.Token, p, sha); st != "running" {
		t.Errorf("commit status = %v, want running", st)
	}
	finish(compile, "success")
	wantStatuses("compile=success rspec=pending lint=pending")
	first, second := claim(""), claim("")
	ids := map[string]int{}
	for _, id := range []int{first, second} {
		for _, s := range commitStatuses(t, owner.Token, p, sha, func([]obj) bool { return true }) {
			if num(s, "id") == id {
				ids[str(s, "name")] = id
			}
		}
	}
	finish(ids["lint"], "failed")
	wantStatuses("compile=success rspec=running lint=failed")
	finish(ids["rspec"], "success")
	wantStatuses("compile=success rspec=success lint=failed deploy=pending")
	if st := commitState(t, owner.Token, p, sha); st != "pending" && st != "running" {
		t.Errorf("commit status = %v, want running", st)
	}
	finish(claim("deploy"), "success")
	wantStatuses("compile=success rspec=success lint=failed deploy=success")
	if st := commitState(t, owner.Token, p, sha); st != "success" {
		t.Errorf("commit status = %v, want success (lint may fail)", st)
	}
	wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": runner.Token})), 404, `{"message":"404 Not Found"}`)

	// Build Hooks: compile pending, running and success (deliveries may
	// arrive in any order).
	got := hooks.waitFor(t, "/build", 3, func(o obj) bool { return o != nil && o["build_name"] == "compile" })
	var seq []string
	var last obj
	for _, h := range got {
		seq = append(seq, str(h.payload(), "build_status"))
		if str(h.payload(), "build_status") == "success" {
			last = h.payload()
		}
	}
	sort.Strings(seq)
	if strings.Join(seq, ",") != "pending,running,success" || last == nil {
		t.Fatalf("compile's hooks: %v", seq)
	}
	wantTimestampMs(t, last, "build_started_at")
	wantTimestampMs(t, last, "build_finished_at")
	if d, ok := last["build_duration"].(float64); !ok || d < 0 {
		t.Errorf("build_duration = %v", last["build_duration"])
	}
	hooks.waitFor(t, "/build", 1, func(o obj) bool { return o != nil && o["build_name"] == "deploy" && o["build_status"] == "success" })
}

// wantTimestampMs wants a hook's time as Rails encoded it: UTC, milliseconds.
func wantTimestampMs(t testing.TB, o obj, key string) {
	t.Helper()
	if s := str(o, key); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
		t.Errorf("%s = %q, want 2016-01-04T15:31:51.081Z", key, s)
	}
}
