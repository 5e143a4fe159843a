package conformance

// How a push becomes builds (doc/ci/yaml/README.md at 8.7): the pushed
// commit's .gitlab-ci.yml makes the first stage's builds, visible as the
// commit's statuses, announced to project hooks with build_events; an
// invalid file fails the commit's status; a commit without the file, a
// [ci skip] commit and a project with builds disabled get no builds.

import (
	"net/http"
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
