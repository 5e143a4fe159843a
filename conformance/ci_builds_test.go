package conformance

// Every documented answer of the runner protocol's build calls and of the
// v3 builds API that the full loop does not reach: bad tokens, unknown
// builds, paused runners, Workhorse pre-authorization, size caps, scopes,
// and 8.7's build abilities (read_build, update_build).

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

const oneJobCI = `job:
  script: [make test]
`

// ciProject is a project (shared runners off) with a specific runner and
// one pushed .gitlab-ci.yml whose build the runner has taken.
type ciProject struct {
	owner  testUser
	p      testProject
	sha    string
	runner *testCIRunner
	build  *buildPayload
}

func newCIProject(t *testing.T, mount string) *ciProject {
	t.Helper()
	g := newGitClient(t)
	c := &ciProject{owner: newUser(t)}
	c.p = newProject(t, c.owner.Token, "shared_runners_enabled", "false")
	c.runner = newTestCIRunner(t, mount)
	wantStatus(t, c.runner.register(projectRunnersToken(t, c.owner.Token, c.p.ID), "errors", ""), http.StatusCreated)
	work := g.clone(withCreds(t, repoURL(t, c.owner.Token, c.p), c.owner.Username, c.owner.Token))
	c.sha = pushCI(g, work, oneJobCI, "", "master")
	c.build = c.runner.waitForBuild()
	return c
}

// finish streams a trace, uploads artifacts and succeeds the build.
func (c *ciProject) finish(t *testing.T, artifacts []byte) {
	t.Helper()
	wantStatus(t, c.runner.patchTrace(c.build.ID, c.build.Token, 0, "$ make test\nok\n"), http.StatusAccepted)
	if artifacts != nil {
		wantStatus(t, c.runner.uploadArtifacts(c.build.ID, c.build.Token, "artifacts.zip", artifacts), http.StatusCreated)
	}
	wantStatus(t, c.runner.updateBuild(c.build.ID, "success", nil), http.StatusOK)
}

func TestRunnerBuildCallErrors(t *testing.T) {
	t.Parallel()
	c := newCIProject(t, "/api/v1") // the standalone mount
	id := itoa(c.build.ID)
	tok := header("BUILD-TOKEN", c.build.Token)
	bad := header("BUILD-TOKEN", "not-the-token")

	t.Run("request build", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": "unknown"})),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
		// Without a runner's User-Agent, "nothing to do" is 404.
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/register", formBody("token", c.runner.token)),
			http.StatusNotFound, `{"message":"404 Not Found"}`)
	})
	t.Run("update build", func(t *testing.T) {
		wantError(t, do(t, http.MethodPut, "/ci/api/v1/builds/"+id+".json", jsonBody(map[string]any{"token": "unknown", "state": "success"})),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodPut, "/ci/api/v1/builds/"+itoa(c.build.ID+100000), jsonBody(map[string]any{"token": c.runner.token})),
			http.StatusNotFound, `{"message":"404 Not found"}`)
	})
	t.Run("trace", func(t *testing.T) {
		wantError(t, do(t, http.MethodPatch, "/ci/api/v1/builds/"+id+"/trace.txt", bad, header("Content-Range", "0-1")),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodPatch, "/ci/api/v1/builds/999999/trace.txt", tok, header("Content-Range", "0-1")),
			http.StatusNotFound, `{"message":"404 Not Found"}`)
		// The token as a parameter works as well as the header.
		r := do(t, http.MethodPatch, "/ci/api/v1/builds/"+id+"/trace.txt", query("token", c.build.Token),
			header("Content-Range", "0-2"), header("Content-Type", "text/plain"), rawBody("ab\n"))
		wantStatus(t, r, http.StatusAccepted)
	})
	t.Run("authorize", func(t *testing.T) {
		wh := header("Gitlab-Workhorse", "0.7.1")
		r := do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts/authorize", tok, wh, formBody("filesize", "1024"))
		if wantStatus(t, r, http.StatusOK) && str(decode[obj](t, r.body), "TempPath") == "" {
			t.Errorf("authorize answered %s", r.body)
		}
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts/authorize", tok),
			http.StatusForbidden, `{"message":"403 Forbidden  - Request should be executed via GitLab Workhorse"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/999999/artifacts/authorize", tok, wh),
			http.StatusNotFound, `{"message":"404 Not Found"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts/authorize", tok, wh, jsonBody(map[string]any{"filesize": 200 << 20})),
			http.StatusRequestEntityTooLarge, `{"message":"413 Request Entity Too Large"}`)
	})
	t.Run("upload", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts", tok, multipartFile(t, "file", "", nil, "other", "x")),
			http.StatusBadRequest, `{"message":"400 (Bad request) \"Missing artifacts file!\" not given"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts", bad, multipartFile(t, "file", "a.zip", []byte("x"))),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/999999/artifacts", tok, multipartFile(t, "file", "a.zip", []byte("x"))),
			http.StatusNotFound, `{"message":"404 Not Found"}`)
		// Over max_artifacts_size (100 MB): refused on the declared length,
		// before the body is sent (the client waits for 100-continue).
		req, _ := http.NewRequestWithContext(withTest(context.Background(), t), http.MethodPost,
			env.ci+"/builds/"+id+"/artifacts", io.LimitReader(zeroReader{}, 101<<20+(2<<20)))
		req.ContentLength = 101<<20 + (2 << 20)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("BUILD-TOKEN", c.build.Token)
		resp, err := env.http.Do(req)
		if err != nil {
			t.Fatalf("large upload: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantError(t, response{status: resp.StatusCode, header: resp.Header, body: body},
			http.StatusRequestEntityTooLarge, `{"message":"413 Request Entity Too Large"}`)
	})
	t.Run("download and delete", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/ci/api/v1/builds/"+id+"/artifacts", tok), http.StatusNotFound, `{"message":"404 Not Found"}`)
		wantStatus(t, c.runner.uploadArtifacts(c.build.ID, c.build.Token, "a.zip", []byte("zip")), http.StatusCreated)
		wantError(t, do(t, http.MethodGet, "/ci/api/v1/builds/"+id+"/artifacts", bad), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		r := do(t, http.MethodGet, "/ci/api/v1/builds/"+id+"/artifacts", tok, rawAnswer())
		if wantStatus(t, r, http.StatusOK) {
			if string(r.body) != "zip" || r.header.Get("Content-Disposition") != "attachment; filename=a.zip" ||
				r.header.Get("Content-Type") != "application/octet-stream" {
				t.Errorf("download: %q %v", r.body, r.header)
			}
		}
		wantError(t, do(t, http.MethodDelete, "/ci/api/v1/builds/"+id+"/artifacts", bad), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodDelete, "/ci/api/v1/builds/999999/artifacts", tok), http.StatusNotFound, `{"message":"404 Not Found"}`)
		r = do(t, http.MethodDelete, "/ci/api/v1/builds/"+id+"/artifacts", tok)
		if wantStatus(t, r, http.StatusOK) {
			wantNoFields(t, decode[obj](t, r.body), "artifacts_file")
		}
		wantStatus(t, do(t, http.MethodGet, "/ci/api/v1/builds/"+id+"/artifacts", tok), http.StatusNotFound)
	})
	t.Run("finished build", func(t *testing.T) {
		wantStatus(t, c.runner.updateBuild(c.build.ID, "failed", nil), http.StatusOK)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts", tok, multipartFile(t, "file", "a.zip", []byte("x"))),
			http.StatusForbidden, `{"message":"403 Forbidden  - Build is not running!"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/"+id+"/artifacts/authorize", tok, header("Gitlab-Workhorse", "1")),
			http.StatusForbidden, `{"message":"403 Forbidden  - build is not running"}`)
	})
}

func TestRunnerPaused(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token, "shared_runners_enabled", "false")
	runner := newTestCIRunner(t, "/ci/api/v1")
	wantStatus(t, runner.register(projectRunnersToken(t, owner.Token, p.ID), "paused", ""), http.StatusCreated)
	g := newGitClient(t)
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	sha := pushCI(g, work, oneJobCI, "", "master")
	commitStatuses(t, owner.Token, p, sha, func(l []obj) bool { return len(l) == 1 })
	// Pause it (v3 runners API): a pending build is not handed to it.
	var id int
	r := do(t, http.MethodGet, "/runners", token(owner.Token))
	for _, o := range decode[[]obj](t, r.body) {
		if str(o, "description") == "paused" {
			id = num(o, "id")
		}
	}
	wantStatus(t, do(t, http.MethodPut, "/runners/"+itoa(id), token(owner.Token), formBody("active", "false")), http.StatusOK)
	wantError(t, do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": runner.token})),
		http.StatusNotFound, `{"message":"404 Not Found"}`)
	if b, r := runner.requestBuild(); b != nil || r.status != http.StatusNoContent {
		t.Errorf("paused runner with a runner's User-Agent: %s, want 204", r)
	}
	wantStatus(t, do(t, http.MethodPut, "/runners/"+itoa(id), token(owner.Token), formBody("active", "true")), http.StatusOK)
	if b := runner.waitForBuild(); b.Name != "job" {
		t.Errorf("resumed runner got %+v", b)
	}
}

func TestBuildsAPI(t *testing.T) {
	t.Parallel()
	c := newCIProject(t, "/ci/api/v1")
	archive := []byte("PK-archive")
	c.finish(t, archive)
	base := "/projects/" + c.p.idPath() + "/builds/"
	id := itoa(c.build.ID)
	guest, reporter, developer := newUser(t), newUser(t), newUser(t)
	addMember(t, "projects", c.p.ID, guest.ID, accessGuest)
	addMember(t, "projects", c.p.ID, reporter.ID, accessReporter)
	addMember(t, "projects", c.p.ID, developer.ID, accessDeveloper)
	// public_builds (on by default, as in 8.7) lets a guest read builds;
	// off, read_build takes a reporter.
	wantStatus(t, do(t, http.MethodGet, base+id, token(guest.Token)), http.StatusOK)
	wantStatus(t, do(t, http.MethodPut, "/projects/"+c.p.idPath(), token(c.owner.Token), formBody("public_builds", "false")), http.StatusOK)

	t.Run("list", func(t *testing.T) {
		for _, q := range []reqOpt{query("scope", "success"), query("scope[]", "success", "scope[]", "failed"), query("scope", "success", "scope", "running")} {
			r := do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/builds", token(guest.Token), q)
			if wantStatus(t, r, http.StatusOK) && len(decode[[]obj](t, r.body)) != 1 {
				t.Errorf("scoped list: %s", r.body)
			}
		}
		r := do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/builds", token(guest.Token), query("scope", "pending"))
		if wantStatus(t, r, http.StatusOK) && len(decode[[]obj](t, r.body)) != 0 {
			t.Errorf("pending list: %s", r.body)
		}
		wantError(t, do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/builds", token(guest.Token), query("scope", "bogus")),
			http.StatusBadRequest, `{"message":"Scope contains invalid value(s)"}`)
		wantStatus(t, do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/builds"), http.StatusUnauthorized)
		wantStatus(t, do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/builds", token(guest.Token), sudo("root")), http.StatusForbidden)
		wantError(t, do(t, http.MethodGet, "/projects/999999/builds", token(guest.Token)), http.StatusNotFound, `{"message":"404 Project Not Found"}`)
	})
	t.Run("per commit", func(t *testing.T) {
		path := "/projects/" + c.p.idPath() + "/repository/commits/" + c.sha + "/builds"
		r := do(t, http.MethodGet, path, token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) && strings.Join(names(decode[[]obj](t, r.body), "name"), ",") != "job" {
			t.Errorf("commit builds: %s", r.body)
		}
		wantError(t, do(t, http.MethodGet, path, token(reporter.Token), query("scope[]", "nope")),
			http.StatusBadRequest, `{"message":"Scope contains invalid value(s)"}`)
		wantStatus(t, do(t, http.MethodGet, path), http.StatusUnauthorized)
		wantError(t, do(t, http.MethodGet, path, token(guest.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodGet, "/projects/"+c.p.idPath()+"/repository/commits/"+strings.Repeat("f", 40)+"/builds", token(reporter.Token)),
			http.StatusNotFound, `{"message":"404 Not Found"}`)
	})
	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, base+id, token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			b := decode[obj](t, r.body)
			for k, v := range map[string]any{"id": c.build.ID, "status": "success", "name": "job", "stage": "test",
				"ref": "master", "tag": false, "coverage": nil} {
				wantField(t, b, k, v)
			}
			wantField(t, b, "artifacts_file", map[string]any{"filename": "artifacts.zip", "size": len(archive)})
			wantTimestamp(t, b, "started_at")
			wantTimestamp(t, b, "finished_at")
		}
		wantStatus(t, do(t, http.MethodGet, base+id), http.StatusUnauthorized)
		wantError(t, do(t, http.MethodGet, base+id, token(guest.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodGet, base+"999999", token(reporter.Token)), http.StatusNotFound, `{"message":"404 Not Found"}`)
	})
	t.Run("artifacts and trace", func(t *testing.T) {
		r := do(t, http.MethodGet, base+id+"/artifacts", token(reporter.Token), rawAnswer())
		if wantStatus(t, r, http.StatusOK) && (!bytes.Equal(r.body, archive) || r.header.Get("Content-Disposition") != "attachment; filename=artifacts.zip") {
			t.Errorf("artifacts: %q %v", r.body, r.header)
		}
		wantStatus(t, do(t, http.MethodGet, base+id+"/artifacts"), http.StatusUnauthorized)
		wantError(t, do(t, http.MethodGet, base+id+"/artifacts", token(guest.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantStatus(t, do(t, http.MethodGet, base+id+"/trace"), http.StatusUnauthorized)
		wantError(t, do(t, http.MethodGet, base+id+"/trace", token(guest.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodGet, base+"999999/trace", token(reporter.Token)), http.StatusNotFound, `{"message":"404 Not Found"}`)
	})
	t.Run("retry, cancel, erase", func(t *testing.T) {
		for _, op := range []string{"cancel", "retry", "erase"} {
			wantStatus(t, do(t, http.MethodPost, base+id+"/"+op), http.StatusUnauthorized)
			wantError(t, do(t, http.MethodPost, base+id+"/"+op, token(reporter.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
			wantError(t, do(t, http.MethodPost, base+"999999/"+op, token(developer.Token)), http.StatusNotFound, `{"message":"404 Not Found"}`)
		}
		// Cancel of a finished build changes nothing.
		r := do(t, http.MethodPost, base+id+"/cancel", token(developer.Token))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "status", "success")
		}
		r = do(t, http.MethodPost, base+id+"/retry", token(developer.Token))
		var retried obj
		if wantStatus(t, r, http.StatusCreated) {
			retried = decode[obj](t, r.body)
			if num(retried, "id") == c.build.ID || str(retried, "status") != "pending" || str(retried, "name") != "job" {
				t.Errorf("retry answered %s", r.body)
			}
			if u, _ := retried["user"].(map[string]any); u == nil || num(u, "id") != developer.ID {
				t.Errorf("retried build's user = %v, want the developer", retried["user"])
			}
		}
		// The runner takes the retried build with the same job.
		if b := c.runner.waitForBuild(); b.ID != num(retried, "id") || b.Commands != "make test" {
			t.Errorf("runner took %+v, want the retried build", b)
		}
		// A running build is not erasable; the finished one is.
		wantError(t, do(t, http.MethodPost, base+itoa(num(retried, "id"))+"/erase", token(developer.Token)),
			http.StatusForbidden, `{"message":"403 Forbidden  - Build is not erasable!"}`)
		r = do(t, http.MethodPost, base+id+"/erase", token(developer.Token))
		if wantStatus(t, r, http.StatusCreated) {
			wantNoFields(t, decode[obj](t, r.body), "artifacts_file")
		}
		r = do(t, http.MethodGet, base+id+"/trace", token(reporter.Token), rawAnswer())
		if wantStatus(t, r, http.StatusOK) && len(r.body) != 0 {
			t.Errorf("trace after erase: %q", r.body)
		}
		wantError(t, do(t, http.MethodGet, base+id+"/artifacts", token(reporter.Token)), http.StatusNotFound, `{"message":"404 Not Found"}`)
		wantError(t, do(t, http.MethodPost, base+id+"/erase", token(developer.Token)),
			http.StatusForbidden, `{"message":"403 Forbidden  - Build is not erasable!"}`)
		// Cancelling the running retry tells its runner.
		wantStatus(t, do(t, http.MethodPost, base+itoa(num(retried, "id"))+"/cancel", token(developer.Token)), http.StatusCreated)
		wantStatus(t, c.runner.updateBuild(num(retried, "id"), "success", nil), http.StatusNotFound)
	})
}

// zeroReader is an endless stream of zero bytes.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// rawBody sends s as the request body as it is.
func rawBody(s string) reqOpt { return func(o *reqOpts) { o.body = []byte(s) } }
