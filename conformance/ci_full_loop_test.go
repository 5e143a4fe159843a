package conformance

// The whole loop of issue 5 with the protocol-faithful runner: a push of a
// two-stage .gitlab-ci.yml over git HTTP, a specific runner that takes
// build 1, clones with the payload's repo_url, streams its trace in chunks,
// uploads artifacts and succeeds; stage 2 then becomes pending and carries
// build 1's artifacts in depends_on_builds; a cancel reaches the runner;
// the v3 API shows both builds, their traces and statuses.

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

const loopCI = `stages: [build, test]
variables:
  GLOBAL: "one"
before_script: [echo setup]
compile:
  stage: build
  script: [make, make install]
  tags: [docker]
  artifacts:
    paths: [out/]
rspec:
  stage: test
  script: rake spec
  variables:
    JOB_VAR: "two"
`

func TestRunnerFullLoop(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	// Shared runners of parallel tests must not take these builds.
	p := newProject(t, owner.Token, "shared_runners_enabled", "false")
	wantStatus(t, do(t, http.MethodPost, "/projects/"+p.idPath()+"/variables", token(owner.Token),
		formBody("key", "SECRET_KEY", "value", "s3cr3t")), http.StatusCreated)

	runner := newTestCIRunner(t, "/ci/api/v1")
	wantStatus(t, runner.register(projectRunnersToken(t, owner.Token, p.ID), "loop runner", "docker,linux"), http.StatusCreated)
	if st := runner.verify(); st != http.StatusNotFound {
		t.Errorf("verify a live runner: %d, want 404", st)
	}
	// Nothing yet: a runner's User-Agent gets 204.
	if b, r := runner.requestBuild(); b != nil || r.status != http.StatusNoContent {
		t.Fatalf("poll before the push: %v %s, want 204", b, r)
	}

	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	sha := pushCI(g, work, loopCI, "", "master")

	// Build 1: compile.
	b1 := runner.waitForBuild()
	if b1.Name != "compile" || b1.Stage != "build" || b1.Sha != sha || b1.RefName != "master" || b1.Tag ||
		b1.ProjectID != p.ID || b1.Commands != "echo setup\nmake\nmake install" || b1.Timeout != 3600 ||
		!b1.AllowGitFetch || b1.BeforeSha != strings.Repeat("0", 40) || b1.Token == "" {
		t.Errorf("build 1 payload = %+v", b1)
	}
	if len(b1.DependsOnBuilds) != 0 {
		t.Errorf("build 1 depends on %v, want nothing", b1.DependsOnBuilds)
	}
	if a, _ := b1.Options["artifacts"].(map[string]any); a == nil || !strings.Contains(mustJSONString(t, a["paths"]), "out/") {
		t.Errorf("build 1 options = %v, want artifacts paths out/", b1.Options)
	}
	wantVars := []buildVariable{{"CI_BUILD_NAME", "compile", true}, {"CI_BUILD_STAGE", "build", true},
		{"GLOBAL", "one", true}, {"SECRET_KEY", "s3cr3t", false}}
	if mustJSONString(t, b1.Variables) != mustJSONString(t, wantVars) {
		t.Errorf("build 1 variables = %+v, want %+v", b1.Variables, wantVars)
	}
	u, err := url.Parse(b1.RepoURL)
	if err != nil || u.User.Username() != "gitlab-ci-token" || !strings.HasSuffix(u.Path, "/"+p.PathWithNamespace+".git") {
		t.Errorf("repo_url = %q, want http://gitlab-ci-token:<token>@host/%s.git", b1.RepoURL, p.PathWithNamespace)
	}
	if pw, _ := u.User.Password(); pw != b1.Token {
		t.Errorf("repo_url password %q is not the build token %q", pw, b1.Token)
	}
	// The shell executor clones with repo_url and checks out the sha.
	checkout := g.clone(b1.RepoURL)
	if head := g.must(checkout, "rev-parse", "HEAD"); head != sha {
		t.Errorf("cloned HEAD = %s, want %s", head, sha)
	}
	g.commit(checkout, "evil.txt", "no")
	g.refused("You are not allowed to push code to this project.", checkout, "push", "--quiet", "origin", "HEAD:master")

	// The trace in chunks (runner 1.3+), a gap, the missing header.
	chunks := []string{"$ echo setup\nsetup\n", "$ make\n", "built\n"}
	off := 0
	for _, c := range chunks {
		r := runner.patchTrace(b1.ID, b1.Token, off, c)
		if !wantStatus(t, r, http.StatusAccepted) {
			break
		}
		off += len(c)
		if got := r.header.Get("Range"); got != "0-"+strconv.Itoa(off) {
			t.Errorf("Range = %q, want 0-%d", got, off)
		}
		if got := r.header.Get("Build-Status"); got != "running" {
			t.Errorf("Build-Status = %q, want running", got)
		}
	}
	r := runner.patchTrace(b1.ID, b1.Token, off+5, "lost")
	wantError(t, r, http.StatusRequestedRangeNotSatisfiable, `{"error":"416 Range Not Satisfiable"}`)
	if got := r.header.Get("Range"); got != "0-"+strconv.Itoa(off) {
		t.Errorf("416 Range = %q, want 0-%d", got, off)
	}
	wantError(t, do(t, http.MethodPatch, "/ci/api/v1/builds/"+itoa(b1.ID)+"/trace.txt", header("BUILD-TOKEN", b1.Token)),
		http.StatusBadRequest, `{"error":"400 Missing header Content-Range"}`)
	// A state report without the trace changes nothing but answers null.
	r = runner.updateBuild(b1.ID, "running", nil)
	if wantStatus(t, r, http.StatusOK) && strings.TrimSpace(string(r.body)) != "null" {
		t.Errorf("running update answered %s, want null", r.body)
	}

	// Artifacts up and back down.
	archive := bytes.Repeat([]byte("PK\x03\x04artifact"), 100)
	r = runner.uploadArtifacts(b1.ID, b1.Token, "artifacts.zip", archive)
	if wantStatus(t, r, http.StatusCreated) {
		d := decode[obj](t, r.body)
		wantField(t, d, "artifacts_file", map[string]any{"filename": "artifacts.zip", "size": len(archive)})
	}
	if r := runner.downloadArtifacts(b1.ID, b1.Token); wantStatus(t, r, http.StatusOK) && !bytes.Equal(r.body, archive) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(r.body), len(archive))
	}

	// Success, with the full trace as the final update.
	full := strings.Join(chunks, "") + "Build succeeded.\n"
	r = runner.updateBuild(b1.ID, "success", &full)
	if wantStatus(t, r, http.StatusOK) && strings.TrimSpace(string(r.body)) != "true" {
		t.Errorf("success update answered %s, want true", r.body)
	}
	wantError(t, runner.updateBuild(b1.ID, "success", &full), http.StatusNotFound, `{"message":"404 Not found"}`)

	// Build 2: rspec, now pending, with build 1's artifacts to fetch.
	b2 := runner.waitForBuild()
	if b2.Name != "rspec" || b2.Stage != "test" || b2.Commands != "echo setup\nrake spec" {
		t.Errorf("build 2 payload = %+v", b2)
	}
	wantVars = []buildVariable{{"CI_BUILD_NAME", "rspec", true}, {"CI_BUILD_STAGE", "test", true},
		{"GLOBAL", "one", true}, {"JOB_VAR", "two", true}, {"SECRET_KEY", "s3cr3t", false}}
	if mustJSONString(t, b2.Variables) != mustJSONString(t, wantVars) {
		t.Errorf("build 2 variables = %+v, want %+v", b2.Variables, wantVars)
	}
	if len(b2.DependsOnBuilds) != 1 || b2.DependsOnBuilds[0].ID != b1.ID || b2.DependsOnBuilds[0].ArtifactsFile == nil ||
		b2.DependsOnBuilds[0].ArtifactsFile.Filename != "artifacts.zip" || b2.DependsOnBuilds[0].ArtifactsFile.Size != int64(len(archive)) {
		t.Fatalf("build 2 depends_on_builds = %+v, want build %d with artifacts.zip", b2.DependsOnBuilds, b1.ID)
	}
	dep := b2.DependsOnBuilds[0]
	if r := runner.downloadArtifacts(dep.ID, dep.Token); wantStatus(t, r, http.StatusOK) && !bytes.Equal(r.body, archive) {
		t.Errorf("dependency artifacts: %d bytes, want %d", len(r.body), len(archive))
	}
	wantStatus(t, runner.patchTrace(b2.ID, b2.Token, 0, "$ rake spec\n"), http.StatusAccepted)

	// A developer cancels build 2: the runner learns it from the next
	// trace patch and gets 404 on its update.
	r = do(t, http.MethodPost, "/projects/"+p.idPath()+"/builds/"+itoa(b2.ID)+"/cancel", token(owner.Token))
	if wantStatus(t, r, http.StatusCreated) {
		wantField(t, decode[obj](t, r.body), "status", "canceled")
	}
	r = runner.patchTrace(b2.ID, b2.Token, len("$ rake spec\n"), "....")
	if wantStatus(t, r, http.StatusAccepted) && r.header.Get("Build-Status") != "canceled" {
		t.Errorf("Build-Status after cancel = %q, want canceled", r.header.Get("Build-Status"))
	}
	wantStatus(t, runner.updateBuild(b2.ID, "failed", nil), http.StatusNotFound)
	// The build token no longer clones once its build stopped.
	if _, err := g.run("", "ls-remote", b2.RepoURL); err == nil {
		t.Errorf("ls-remote with a finished build's token succeeded")
	}

	// The v3 API shows both builds, their traces and statuses.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/builds", token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		list := decode[[]obj](t, r.body)
		if got := strings.Join(names(list, "name"), ","); got != "rspec,compile" {
			t.Errorf("builds = %s, want rspec,compile (newest first)", got)
		}
		if got := strings.Join(names(list, "status"), ","); got != "canceled,success" {
			t.Errorf("statuses = %s, want canceled,success", got)
		}
		for _, b := range list {
			if c, _ := b["commit"].(map[string]any); c == nil || str(c, "id") != sha {
				t.Errorf("build %v commit = %v, want %s", b["id"], b["commit"], sha)
			}
			if rn, _ := b["runner"].(map[string]any); rn == nil || str(rn, "description") != "loop runner" {
				t.Errorf("build %v runner = %v", b["id"], b["runner"])
			}
			if u, _ := b["user"].(map[string]any); u == nil || num(u, "id") != owner.ID {
				t.Errorf("build %v user = %v, want the pusher", b["id"], b["user"])
			}
		}
	}
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/builds/"+itoa(b1.ID)+"/trace", token(owner.Token), rawAnswer())
	if wantStatus(t, r, http.StatusOK) {
		if string(r.body) != full {
			t.Errorf("trace = %q, want %q", r.body, full)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/plain" {
			t.Errorf("trace Content-Type = %q", ct)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `infile; filename="`+itoa(b1.ID)+`.log"` {
			t.Errorf("trace Content-Disposition = %q", cd)
		}
	}
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/builds/"+itoa(b2.ID)+"/trace", token(owner.Token), rawAnswer())
	if wantStatus(t, r, http.StatusOK) && string(r.body) != "$ rake spec\n...." {
		t.Errorf("build 2 trace = %q", r.body)
	}
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/"+sha+"/builds", token(owner.Token), query("scope", "success"))
	if wantStatus(t, r, http.StatusOK) {
		if got := names(decode[[]obj](t, r.body), "name"); strings.Join(got, ",") != "compile" {
			t.Errorf("commit builds with scope success = %v", got)
		}
	}
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits/"+sha+"/statuses", token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		if got := strings.Join(names(decode[[]obj](t, r.body), "status"), ","); got != "success,canceled" {
			t.Errorf("commit statuses = %s, want success,canceled", got)
		}
	}

	// Unregistered, the runner is told it is gone.
	wantStatus(t, runner.unregister(), http.StatusOK)
	if st := runner.verify(); st != http.StatusForbidden {
		t.Errorf("verify a removed runner: %d, want 403", st)
	}
}

func mustJSONString(t testing.TB, v any) string {
	t.Helper()
	return string(mustJSON(t, v))
}
