package conformance

// The v3 runners API (doc/api/runners.md, GitLab CE 8.7 lib/api/runners.rb):
// the caller's runners, all of them, details, update, removal, and enabling
// and disabling a specific runner on a project, with 8.7's messages.

import (
	"net/http"
	"testing"
)

const (
	runnerShared    = `{"message":"403 Forbidden  - Runner is shared"}`
	runnerNoAccess  = `{"message":"403 Forbidden  - No access granted"}`
	runnerManyProjs = `{"message":"403 Forbidden  - Runner associated with more than one project"}`
	runnerLastProj  = `{"message":"403 Forbidden  - Only one project associated with the runner. Please remove the runner instead"}`
	runnerNotFound  = `{"message":"404 Runner Not Found"}`
	badRunnerScope  = `{"message":"Scope contains invalid value"}`
)

// runnerFixture is a master with two projects, a specific runner on each
// (the first also on the second project), and a shared runner.
type runnerFixture struct {
	master, dev, outsider testUser
	p, q                  testProject
	specA, specB, shared  testRunner
}

func newRunnerFixture(t *testing.T) runnerFixture {
	t.Helper()
	f := runnerFixture{master: newUser(t), dev: newUser(t), outsider: newUser(t)}
	f.p, f.q = newProject(t, f.master.Token), newProject(t, f.master.Token)
	addMember(t, "projects", f.p.ID, f.dev.ID, accessDeveloper)
	f.specA = registerRunner(t, projectRunnersToken(t, f.master.Token, f.p.ID), "ruby,mysql")
	f.specB = registerRunner(t, projectRunnersToken(t, f.master.Token, f.q.ID), "")
	f.shared = registerRunner(t, env.regToken, "docker")
	wantStatus(t, do(t, http.MethodPost, "/projects/"+f.q.idPath()+"/runners", token(f.master.Token),
		formBody("runner_id", itoa(f.specA.ID))), http.StatusCreated)
	return f
}

func runnerIDsOf(t *testing.T, r response) []int {
	t.Helper()
	if !wantStatus(t, r, http.StatusOK) {
		return nil
	}
	return ids(decode[[]obj](t, r.body))
}

func TestRunnersList(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	wantError(t, do(t, http.MethodGet, "/runners"), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)

	rows := []struct {
		name string
		tok  string
		opts []reqOpt
		want []int
	}{
		{"master's specific runners", f.master.Token, nil, []int{f.specA.ID, f.specB.ID}},
		{"active", f.master.Token, []reqOpt{query("scope", "active")}, []int{f.specA.ID, f.specB.ID}},
		{"paused", f.master.Token, []reqOpt{query("scope", "paused")}, []int{}},
		{"a developer masters nothing", f.dev.Token, nil, []int{}},
		{"second page", f.master.Token, []reqOpt{query("per_page", "1", "page", "2")}, []int{f.specB.ID}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got := runnerIDsOf(t, do(t, http.MethodGet, "/runners", append(row.opts, token(row.tok))...))
			if got != nil && !sameInts(got, row.want) {
				t.Errorf("got runners %v, want %v", got, row.want)
			}
		})
	}
	r := do(t, http.MethodGet, "/runners", token(f.master.Token), query("per_page", "1"))
	if wantStatus(t, r, http.StatusOK) && (r.header.Get("X-Total") != "2" || r.header.Get("X-Next-Page") != "2") {
		t.Errorf("pagination headers: X-Total %q, X-Next-Page %q", r.header.Get("X-Total"), r.header.Get("X-Next-Page"))
	}
	got := decode[[]obj](t, r.body)
	if len(got) == 1 {
		wantFields(t, got[0], "id", "description", "active", "is_shared", "name")
		wantField(t, got[0], "is_shared", false)
	}
	// A runner that polls for builds is online; one that never did is not.
	poll := do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": f.specB.Token}))
	if poll.status != http.StatusNotFound && poll.status != http.StatusNoContent && poll.status != http.StatusCreated {
		t.Errorf("poll: %s", poll)
	}
	if got := runnerIDsOf(t, do(t, http.MethodGet, "/runners", token(f.master.Token), query("scope", "online"))); !sameInts(got, []int{f.specB.ID}) {
		t.Errorf("online runners = %v, want [%d]", got, f.specB.ID)
	}
	r = do(t, http.MethodGet, "/runners/"+itoa(f.specB.ID), token(f.master.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantTimestamp(t, decode[obj](t, r.body), "contacted_at")
	}
	for _, scope := range []string{"shared", "specific", "bogus"} {
		wantError(t, do(t, http.MethodGet, "/runners", token(f.master.Token), query("scope", scope)), http.StatusBadRequest, badRunnerScope)
	}
}

func TestRunnersAll(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	wantError(t, do(t, http.MethodGet, "/runners/all", token(f.master.Token)), http.StatusForbidden, forbidden403)
	wantError(t, do(t, http.MethodGet, "/runners/all"), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
	wantError(t, do(t, http.MethodGet, "/runners/all", token(env.rootToken), query("scope", "nope")), http.StatusBadRequest, badRunnerScope)

	all := map[int]obj{}
	for page := 1; ; page++ {
		r := do(t, http.MethodGet, "/runners/all", token(env.rootToken), query("per_page", "100", "page", itoa(page)))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		for _, o := range list {
			all[num(o, "id")] = o
		}
		if r.header.Get("X-Next-Page") == "" {
			break
		}
	}
	for _, id := range []int{f.specA.ID, f.specB.ID, f.shared.ID} {
		if all[id] == nil {
			t.Errorf("runner %d missing from /runners/all", id)
		}
	}
	for _, row := range []struct {
		scope     string
		in, notIn int
	}{{"shared", f.shared.ID, f.specA.ID}, {"specific", f.specA.ID, f.shared.ID}} {
		got := runnerIDsOf(t, do(t, http.MethodGet, "/runners/all.json", token(env.rootToken), query("scope", row.scope, "per_page", "100")))
		if containsInt(got, row.notIn) {
			t.Errorf("scope %s lists runner %d", row.scope, row.notIn)
		}
		_ = row.in // the newest runners may be past the first page; the full listing above covers them
	}
	wantStatus(t, do(t, http.MethodGet, "/runners/all", token(env.rootToken), query("scope", "online")), http.StatusOK)
}

func TestRunnerDetails(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	path := func(r testRunner) string { return "/runners/" + itoa(r.ID) }

	r := do(t, http.MethodGet, path(f.specA), token(f.master.Token))
	if wantStatus(t, r, http.StatusOK) {
		d := decode[obj](t, r.body)
		wantFields(t, d, "id", "description", "active", "is_shared", "name", "tag_list", "version", "revision",
			"platform", "architecture", "contacted_at", "token", "projects")
		wantField(t, d, "token", f.specA.Token)
		tags, _ := d["tag_list"].([]any)
		if len(tags) != 2 || tags[0] != "ruby" || tags[1] != "mysql" {
			t.Errorf("tag_list = %v", d["tag_list"])
		}
		projects, _ := d["projects"].([]any)
		if len(projects) != 2 {
			t.Errorf("projects = %v, want the two projects", d["projects"])
		}
	}
	// A developer of the first project sees neither runner's details, but
	// anyone sees a shared runner, without its token.
	wantError(t, do(t, http.MethodGet, path(f.specA), token(f.dev.Token)), http.StatusForbidden, runnerNoAccess)
	r = do(t, http.MethodGet, path(f.shared), token(f.outsider.Token))
	if wantStatus(t, r, http.StatusOK) {
		d := decode[obj](t, r.body)
		wantNoFields(t, d, "token")
		wantField(t, d, "is_shared", true)
	}
	// Admins see the shared runner's token.
	r = do(t, http.MethodGet, path(f.shared), token(env.rootToken))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "token", f.shared.Token)
	}
	wantError(t, do(t, http.MethodGet, "/runners/999999999", token(f.master.Token)), http.StatusNotFound, recordNotFound)
	wantError(t, do(t, http.MethodGet, "/runners/abc", token(f.master.Token)), http.StatusNotFound, recordNotFound)
	wantError(t, do(t, http.MethodGet, path(f.shared)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
}

func TestRunnerUpdate(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	path := "/runners/" + itoa(f.specA.ID)

	r := do(t, http.MethodPut, path, token(f.master.Token), formBody("description", "box", "active", "false", "tag_list", "go, linux"))
	if wantStatus(t, r, http.StatusOK) {
		d := decode[obj](t, r.body)
		wantField(t, d, "description", "box")
		wantField(t, d, "active", false)
		tags, _ := d["tag_list"].([]any)
		if len(tags) != 2 || tags[0] != "go" || tags[1] != "linux" {
			t.Errorf("tag_list = %v, want [go linux]", d["tag_list"])
		}
	}
	// Paused now; the list's scope sees it. JSON with an array of tags.
	if got := runnerIDsOf(t, do(t, http.MethodGet, "/runners", token(f.master.Token), query("scope", "paused"))); !sameInts(got, []int{f.specA.ID}) {
		t.Errorf("paused runners = %v, want [%d]", got, f.specA.ID)
	}
	r = do(t, http.MethodPut, path, token(f.master.Token), jsonBody(map[string]any{"tag_list": []string{"a", "b", "a"}, "active": true}))
	if wantStatus(t, r, http.StatusOK) {
		d := decode[obj](t, r.body)
		wantField(t, d, "description", "box")
		if tags, _ := d["tag_list"].([]any); len(tags) != 2 {
			t.Errorf("tag_list = %v, want [a b]", d["tag_list"])
		}
	}
	wantValidation(t, do(t, http.MethodPut, path, token(f.master.Token), formBody("active", "perhaps")), "active", "is invalid")

	rows := []struct {
		name   string
		path   string
		tok    string
		status int
		body   string
	}{
		{"shared runner, not admin", "/runners/" + itoa(f.shared.ID), f.master.Token, 403, runnerShared},
		{"specific runner of others", path, f.dev.Token, 403, runnerNoAccess},
		{"unknown", "/runners/999999999", f.master.Token, 404, recordNotFound},
		{"anonymous", path, "", 401, `{"message":"401 Unauthorized"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{formBody("description", "hijacked")}
			if row.tok != "" {
				opts = append(opts, token(row.tok))
			}
			wantError(t, do(t, http.MethodPut, row.path, opts...), row.status, row.body)
		})
	}
	// An admin may edit a shared runner.
	r = do(t, http.MethodPut, "/runners/"+itoa(f.shared.ID), token(env.rootToken), formBody("description", "shared box"))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "description", "shared box")
	}
}

func TestRunnerRemove(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	rows := []struct {
		name   string
		runner testRunner
		tok    string
		status int
		body   string
	}{
		{"shared, not admin", f.shared, f.master.Token, 403, runnerShared},
		{"on two projects", f.specA, f.master.Token, 403, runnerManyProjs},
		{"not the caller's", f.specB, f.dev.Token, 403, runnerNoAccess},
		{"unknown", testRunner{ID: 999999999}, f.master.Token, 404, recordNotFound},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodDelete, "/runners/"+itoa(row.runner.ID), token(row.tok)), row.status, row.body)
		})
	}
	wantError(t, do(t, http.MethodDelete, "/runners/"+itoa(f.specB.ID)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)

	r := do(t, http.MethodDelete, "/runners/"+itoa(f.specB.ID), token(f.master.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "id", float64(f.specB.ID))
	}
	wantError(t, do(t, http.MethodGet, "/runners/"+itoa(f.specB.ID), token(f.master.Token)), http.StatusNotFound, recordNotFound)
	// The runner is gone for the protocol too: its token no longer works.
	wantError(t, do(t, http.MethodDelete, "/ci/api/v1/runners/delete", query("token", f.specB.Token)), http.StatusForbidden, forbidden403)
	// Admins remove any runner, shared or on many projects.
	for _, rr := range []testRunner{f.shared, f.specA} {
		wantStatus(t, do(t, http.MethodDelete, "/runners/"+itoa(rr.ID), token(env.rootToken)), http.StatusOK)
	}
}

func TestProjectRunners(t *testing.T) {
	t.Parallel()
	f := newRunnerFixture(t)
	other := newUser(t)
	otherProject := newProject(t, other.Token)
	foreign := registerRunner(t, projectRunnersToken(t, other.Token, otherProject.ID), "")
	pRunners := "/projects/" + f.p.idPath() + "/runners"

	// The project's own runners and the shared ones.
	got := runnerIDsOf(t, do(t, http.MethodGet, pRunners, token(f.master.Token), query("scope", "specific")))
	if !sameInts(got, []int{f.specA.ID}) {
		t.Errorf("specific runners of p = %v, want [%d]", got, f.specA.ID)
	}
	got = runnerIDsOf(t, do(t, http.MethodGet, "/projects/"+f.q.encoded()+"/runners", token(f.master.Token), query("per_page", "100", "scope", "specific")))
	if !sameInts(got, []int{f.specA.ID, f.specB.ID}) {
		t.Errorf("specific runners of q = %v", got)
	}
	r := do(t, http.MethodGet, pRunners, token(f.master.Token), query("scope", "shared", "per_page", "100"))
	if wantStatus(t, r, http.StatusOK) {
		for _, o := range decode[[]obj](t, r.body) {
			wantField(t, o, "is_shared", true)
		}
	}
	wantError(t, do(t, http.MethodGet, pRunners, token(f.master.Token), query("scope", "mine")), http.StatusBadRequest, badRunnerScope)
	wantError(t, do(t, http.MethodGet, pRunners, token(f.dev.Token)), http.StatusForbidden, forbidden403)
	wantError(t, do(t, http.MethodGet, pRunners, token(f.outsider.Token)), http.StatusNotFound, projectNotFound)
	wantError(t, do(t, http.MethodGet, pRunners), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)

	// Enabling: 8.7's checks in order.
	enable := []struct {
		name   string
		path   string
		tok    string
		form   []string
		status int
		body   string
	}{
		{"cannot see the project", pRunners, f.outsider.Token, []string{"runner_id", itoa(f.specB.ID)}, 404, projectNotFound},
		{"developer", pRunners, f.dev.Token, []string{"runner_id", itoa(f.specB.ID)}, 403, forbidden403},
		{"no runner_id", pRunners, f.master.Token, nil, 400, `{"message":"400 (Bad request) \"runner_id\" not given"}`},
		{"unknown runner", pRunners, f.master.Token, []string{"runner_id", "999999999"}, 404, recordNotFound},
		{"shared runner", pRunners, f.master.Token, []string{"runner_id", itoa(f.shared.ID)}, 403, runnerShared},
		{"shared runner, admin too", pRunners, env.rootToken, []string{"runner_id", itoa(f.shared.ID)}, 403, runnerShared},
		{"another user's runner", pRunners, f.master.Token, []string{"runner_id", itoa(foreign.ID)}, 403, runnerNoAccess},
		{"anonymous", pRunners, "", []string{"runner_id", itoa(f.specB.ID)}, 401, `{"message":"401 Unauthorized"}`},
	}
	for _, row := range enable {
		t.Run("enable "+row.name, func(t *testing.T) {
			opts := []reqOpt{formBody(row.form...)}
			if row.tok != "" {
				opts = append(opts, token(row.tok))
			}
			wantError(t, do(t, http.MethodPost, row.path, opts...), row.status, row.body)
		})
	}
	r = do(t, http.MethodPost, pRunners, token(f.master.Token), jsonBody(map[string]any{"runner_id": f.specB.ID}))
	if wantStatus(t, r, http.StatusCreated) {
		wantField(t, decode[obj](t, r.body), "id", float64(f.specB.ID))
	}
	// Again: nothing changes, 201 all the same.
	wantStatus(t, do(t, http.MethodPost, pRunners, token(f.master.Token), formBody("runner_id", itoa(f.specB.ID))), http.StatusCreated)
	// An admin enables any specific runner.
	wantStatus(t, do(t, http.MethodPost, pRunners, token(env.rootToken), formBody("runner_id", itoa(foreign.ID))), http.StatusCreated)
	got = runnerIDsOf(t, do(t, http.MethodGet, pRunners, token(f.master.Token), query("scope", "specific")))
	if !sameInts(got, []int{f.specA.ID, f.specB.ID, foreign.ID}) {
		t.Errorf("specific runners of p after enabling = %v", got)
	}

	// Disabling.
	disable := func(runner int) string { return pRunners + "/" + itoa(runner) }
	r = do(t, http.MethodDelete, disable(foreign.ID), token(f.master.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "id", float64(foreign.ID))
	}
	wantError(t, do(t, http.MethodDelete, disable(foreign.ID), token(f.master.Token)), http.StatusNotFound, runnerNotFound)
	wantError(t, do(t, http.MethodDelete, pRunners+"/abc", token(f.master.Token)), http.StatusNotFound, runnerNotFound)
	wantError(t, do(t, http.MethodDelete, disable(f.specB.ID), token(f.dev.Token)), http.StatusForbidden, forbidden403)
	wantError(t, do(t, http.MethodDelete, disable(f.specB.ID), token(f.outsider.Token)), http.StatusNotFound, projectNotFound)
	wantError(t, do(t, http.MethodDelete, disable(f.specB.ID)), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
	wantStatus(t, do(t, http.MethodDelete, disable(f.specB.ID), token(f.master.Token)), http.StatusOK)
	// specA is on p and q: off p it goes; then q is its last project.
	wantStatus(t, do(t, http.MethodDelete, disable(f.specA.ID), token(f.master.Token)), http.StatusOK)
	wantError(t, do(t, http.MethodDelete, "/projects/"+f.q.idPath()+"/runners/"+itoa(f.specA.ID), token(f.master.Token)),
		http.StatusForbidden, runnerLastProj)
}
