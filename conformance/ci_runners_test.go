package conformance

// The runner registration calls of the CI API v1 (doc/ci/api/runners.md):
// shared and specific registration, unregistration, their errors.

import (
	"net/http"
	"testing"
)

// projectRunnersToken reads a project's runners_token as its owner.
func projectRunnersToken(t testing.TB, tok string, id int) string {
	t.Helper()
	rt := str(getProject(t, tok, id), "runners_token")
	if rt == "" {
		t.Fatalf("project %d shows no runners_token to its owner", id)
	}
	return rt
}

func TestRunnerRegister(t *testing.T) {
	owner := newUser(t)
	p := newProject(t, owner.Token)
	projectToken := projectRunnersToken(t, owner.Token, p.ID)
	info := map[string]any{"name": "gitlab-ci-multi-runner", "version": "1.1.4", "revision": "a7b6b1b",
		"platform": "linux", "architecture": "amd64", "executor": "", "features": map[string]any{"variables": true}}

	rows := []struct {
		name       string
		path       string
		opt        reqOpt
		wantShared bool
		wantTags   []string
		wantInfo   bool
	}{
		{"shared, JSON as runners send it", "/ci/api/v1/runners/register.json",
			jsonBody(map[string]any{"token": env.regToken, "description": "shared one", "tag_list": "docker, linux", "info": info}),
			true, []string{"docker", "linux"}, true},
		{"specific, form with info[...]", "/ci/api/v1/runners/register",
			formBody("token", projectToken, "description", "mine", "tag_list", "ruby", "info[name]", "gitlab-ci-multi-runner",
				"info[version]", "1.1.4", "info[revision]", "a7b6b1b", "info[platform]", "linux", "info[architecture]", "amd64"),
			false, []string{"ruby"}, true},
		{"standalone mount, no tags", "/api/v1/runners/register.json",
			jsonBody(map[string]any{"token": env.regToken}), true, []string{}, false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, row.path, row.opt)
			if !wantStatus(t, r, http.StatusCreated) {
				return
			}
			got := decode[obj](t, r.body)
			wantFields(t, got, "id", "token")
			if len(got) != 2 {
				t.Errorf("register answer has keys other than id, token: %s", r.body)
			}
			// Unregistering answers the record: what registration stored.
			d := do(t, http.MethodDelete, "/ci/api/v1/runners/delete", jsonBody(map[string]any{"token": str(got, "token")}))
			if !wantStatus(t, d, http.StatusOK) {
				return
			}
			rec := decode[obj](t, d.body)
			wantField(t, rec, "id", float64(num(got, "id")))
			wantField(t, rec, "is_shared", row.wantShared)
			wantField(t, rec, "active", true)
			tags, _ := rec["tag_list"].([]any)
			if len(tags) != len(row.wantTags) {
				t.Errorf("tag_list = %v, want %v", rec["tag_list"], row.wantTags)
			}
			for i := range tags {
				if i < len(row.wantTags) && tags[i] != row.wantTags[i] {
					t.Errorf("tag_list = %v, want %v", rec["tag_list"], row.wantTags)
				}
			}
			if row.wantInfo {
				for k, v := range map[string]string{"name": "gitlab-ci-multi-runner", "version": "1.1.4",
					"revision": "a7b6b1b", "platform": "linux", "architecture": "amd64"} {
					wantField(t, rec, k, v)
				}
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/runners/register.json", jsonBody(map[string]any{"description": "x"})),
			http.StatusBadRequest, `{"message":"400 (Bad request) \"token\" not given"}`)
		wantError(t, do(t, http.MethodPost, "/ci/api/v1/runners/register.json", jsonBody(map[string]any{"token": "not-a-token"})),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
	})
}

func TestRunnerDelete(t *testing.T) {
	r := registerRunner(t, env.regToken, "")
	wantError(t, do(t, http.MethodDelete, "/ci/api/v1/runners/delete"),
		http.StatusBadRequest, `{"message":"400 (Bad request) \"token\" not given"}`)
	wantError(t, do(t, http.MethodDelete, "/ci/api/v1/runners/delete", query("token", "unknown-runner")),
		http.StatusForbidden, `{"message":"403 Forbidden"}`)
	// The token as a query parameter, on the standalone mount.
	wantStatus(t, do(t, http.MethodDelete, "/api/v1/runners/delete", query("token", r.Token)), http.StatusOK)
	// Gone: its token is unknown now.
	wantError(t, do(t, http.MethodDelete, "/ci/api/v1/runners/delete", formBody("token", r.Token)),
		http.StatusForbidden, `{"message":"403 Forbidden"}`)
}

// testRunner is a registered runner.
type testRunner struct {
	ID    int
	Token string
}

// registerRunner registers a runner with a registration token and tags.
func registerRunner(t testing.TB, regToken, tags string) testRunner {
	t.Helper()
	r := do(t, http.MethodPost, "/ci/api/v1/runners/register.json",
		jsonBody(map[string]any{"token": regToken, "description": uniqueName(t), "tag_list": tags}))
	if r.status != http.StatusCreated {
		t.Fatalf("register runner: %s", r)
	}
	o := decode[obj](t, r.body)
	return testRunner{ID: num(o, "id"), Token: str(o, "token")}
}
