package conformance

// Build triggers and variables (doc/api/build_triggers.md,
// doc/api/build_variables.md at 8.7) and the CI API v1's ref trigger:
// masters manage them; a trigger's token builds a ref's first stage for a
// trigger request, with its variables.

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var triggerTokenRE = regexp.MustCompile(`^[0-9a-f]{30}$`)

const triggerCI = `build:
  stage: build
  script: [make]
on-trigger:
  stage: build
  script: [deploy]
  only: [triggers]
not-on-trigger:
  stage: build
  script: [x]
  except: [triggers]
test:
  script: [test]
`

// ciAccessRows checks the statuses every master-only CI operation shares:
// 401 without a user, 404 for a project the caller cannot see or that does
// not exist, 403 for a developer.
func ciAccessRows(t *testing.T, method, suffix string, p testProject, dev, outsider testUser) {
	t.Helper()
	base := "/projects/" + p.idPath() + suffix
	for _, tt := range []struct {
		name, path string
		opts       []reqOpt
		status     int
		body       string
	}{
		{"no user", base, nil, 401, `{"message":"401 Unauthorized"}`},
		{"cannot see", base, []reqOpt{token(outsider.Token)}, 404, projectNotFound},
		{"unknown project", "/projects/999999999" + suffix, []reqOpt{token(dev.Token)}, 404, projectNotFound},
		{"developer", base, []reqOpt{token(dev.Token)}, 403, forbidden403},
	} {
		t.Run(method+" "+suffix+": "+tt.name, func(t *testing.T) {
			wantError(t, do(t, method, tt.path, tt.opts...), tt.status, tt.body)
		})
	}
}

func TestTriggers(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, master, dev, outsider := newUser(t), newUser(t), newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	other := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	sha := pushCI(g, work, triggerCI, "", "master")
	g.must(work, "checkout", "--quiet", "-b", "plain")
	g.commit(work, ".gitlab-ci.yml", "only-tags:\n  script: [x]\n  only: [tags]\n")
	g.must(work, "push", "--quiet", "origin", "plain")

	triggers := "/projects/" + p.idPath() + "/triggers"
	create := func(tok string, proj testProject) obj {
		t.Helper()
		r := do(t, http.MethodPost, "/projects/"+proj.idPath()+"/triggers", token(tok))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		return decode[obj](t, r.body)
	}
	first := create(master.Token, p)
	if !triggerTokenRE.MatchString(str(first, "token")) {
		t.Errorf("token = %q, want 30 hex digits", str(first, "token"))
	}
	wantField(t, first, "deleted_at", nil)
	wantField(t, first, "last_used", nil)
	wantTimestamp(t, first, "created_at")
	wantTimestamp(t, first, "updated_at")
	second := create(owner.Token, p)
	foreign := create(owner.Token, other)

	// List: oldest first, paginated.
	r := do(t, http.MethodGet, triggers, token(master.Token), query("per_page", "1", "page", "2"))
	wantStatus(t, r, http.StatusOK)
	if l := decode[[]obj](t, r.body); len(l) != 1 || str(l[0], "token") != str(second, "token") || r.header.Get("X-Total") != "2" {
		t.Errorf("page 2 = %s (X-Total %q)", r.body, r.header.Get("X-Total"))
	}
	r = do(t, http.MethodGet, triggers+"/"+str(first, "token"), token(master.Token))
	wantStatus(t, r, http.StatusOK)
	wantField(t, decode[obj](t, r.body), "token", str(first, "token"))
	wantError(t, do(t, http.MethodGet, triggers+"/"+str(foreign, "token"), token(master.Token)), 404, `{"message":"404 Trigger Not Found"}`)
	wantError(t, do(t, http.MethodGet, triggers+"/nope", token(master.Token)), 404, `{"message":"404 Trigger Not Found"}`)

	ciAccessRows(t, http.MethodGet, "/triggers", p, dev, outsider)
	ciAccessRows(t, http.MethodPost, "/triggers", p, dev, outsider)
	ciAccessRows(t, http.MethodGet, "/triggers/"+str(first, "token"), p, dev, outsider)
	ciAccessRows(t, http.MethodDelete, "/triggers/"+str(first, "token"), p, dev, outsider)

	// Trigger builds: with variables as a form, the trigger-only job runs
	// and the except-triggers one does not; no user is the author.
	run := "/projects/" + p.idPath() + "/trigger/builds"
	r = do(t, http.MethodPost, run, formBody("token", str(first, "token"), "ref", "master", "variables[DEPLOY]", "yes", "variables[ENV]", "prod"))
	wantStatus(t, r, http.StatusCreated)
	tr := decode[obj](t, r.body)
	if num(tr, "id") == 0 {
		t.Errorf("trigger request = %s", r.body)
	}
	wantJSON(t, mustJSON(t, tr["variables"]), `{"DEPLOY":"yes","ENV":"prod"}`)
	list := commitStatuses(t, owner.Token, p, sha, func(l []obj) bool { return len(l) >= 4 })
	var triggered []string
	for _, s := range list {
		if s["author"] == nil {
			triggered = append(triggered, str(s, "name"))
		}
	}
	if strings.Join(triggered, ",") != "build,on-trigger" {
		t.Errorf("triggered builds = %v (all: %v)", triggered, list)
	}
	r = do(t, http.MethodGet, triggers+"/"+str(first, "token"), token(master.Token))
	wantTimestamp(t, decode[obj](t, r.body), "last_used")

	// JSON, by namespace/path, no variables.
	r = do(t, http.MethodPost, "/projects/"+p.encoded()+"/trigger/builds", jsonBody(map[string]any{"token": str(second, "token"), "ref": sha}))
	wantStatus(t, r, http.StatusCreated)
	wantField(t, decode[obj](t, r.body), "variables", nil)

	for _, tt := range []struct {
		name   string
		path   string
		opts   []reqOpt
		status int
		body   string
	}{
		{"no ref", run, []reqOpt{formBody("token", str(first, "token"))}, 400, `{"message":"400 (Bad request) \"ref\" not given"}`},
		{"no token", run, []reqOpt{formBody("ref", "master")}, 400, `{"message":"400 (Bad request) \"token\" not given"}`},
		{"variables not a hash", run, []reqOpt{jsonBody(map[string]any{"token": str(first, "token"), "ref": "master", "variables": "A=1"})}, 400, `{"message":"variables needs to be a hash"}`},
		{"variables not strings", run, []reqOpt{jsonBody(map[string]any{"token": str(first, "token"), "ref": "master", "variables": map[string]any{"A": 1}})}, 400, `{"message":"variables needs to be a map of key-valued strings"}`},
		{"unknown ref", run, []reqOpt{formBody("token", str(first, "token"), "ref", "nope")}, 400, `{"message":"No builds created"}`},
		{"no job for the ref", run, []reqOpt{formBody("token", str(first, "token"), "ref", "plain")}, 400, `{"message":"No builds created"}`},
		{"another project's trigger", run, []reqOpt{formBody("token", str(foreign, "token"), "ref", "master")}, 401, `{"message":"401 Unauthorized"}`},
		{"unknown token", run, []reqOpt{formBody("token", "nope", "ref", "master")}, 404, `{"message":"404 Not Found"}`},
		{"unknown project", "/projects/999999999/trigger/builds", []reqOpt{formBody("token", str(first, "token"), "ref", "master")}, 404, `{"message":"404 Not Found"}`},
	} {
		t.Run("trigger builds: "+tt.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, tt.path, tt.opts...), tt.status, tt.body)
		})
	}

	// The CI API v1 ref trigger, on both mounts, with and without .json.
	for i, path := range []string{
		"/ci/api/v1/projects/" + p.idPath() + "/refs/master/trigger",
		"/api/v1/projects/" + p.idPath() + "/refs/" + sha + "/trigger.json",
	} {
		r := do(t, http.MethodPost, path, formBody("token", str(first, "token"), "variables[N]", itoa(i)))
		wantStatus(t, r, http.StatusCreated)
		o := decode[obj](t, r.body)
		c, _ := o["commit"].(map[string]any)
		if c == nil || str(c, "sha") != sha || num(c, "project_id") != p.ID || str(c, "status") != "pending" ||
			!strings.Contains(str(c, "git_commit_message"), ".gitlab-ci.yml") {
			t.Errorf("%s: %s", path, r.body)
		}
		wantJSON(t, mustJSON(t, o["variables"]), `{"N":"`+itoa(i)+`"}`)
	}
	ciRun := "/ci/api/v1/projects/" + p.idPath() + "/refs/master/trigger"
	for _, tt := range []struct {
		name   string
		path   string
		opts   []reqOpt
		status int
		body   string
	}{
		{"no token", ciRun, nil, 400, `{"message":"400 (Bad request) \"token\" not given"}`},
		{"variables not a hash", ciRun, []reqOpt{jsonBody(map[string]any{"token": str(first, "token"), "variables": []string{"a"}})}, 400, `{"message":"variables needs to be a hash"}`},
		{"nothing built", "/ci/api/v1/projects/" + p.idPath() + "/refs/plain/trigger", []reqOpt{formBody("token", str(first, "token"))}, 400, `{"message":"No builds created"}`},
		{"another project's trigger", ciRun, []reqOpt{formBody("token", str(foreign, "token"))}, 401, `{"message":"401 Unauthorized"}`},
		{"unknown token", ciRun, []reqOpt{formBody("token", "nope")}, 404, `{"message":"404 Not Found"}`},
		{"unknown project", "/api/v1/projects/999999999/refs/master/trigger", []reqOpt{formBody("token", str(first, "token"))}, 404, `{"message":"404 Not Found"}`},
	} {
		t.Run("CI ref trigger: "+tt.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, tt.path, tt.opts...), tt.status, tt.body)
		})
	}

	// Delete: kept with deleted_at, gone from the list, its token dead.
	r = do(t, http.MethodDelete, triggers+"/"+str(first, "token"), token(master.Token))
	wantStatus(t, r, http.StatusOK)
	wantTimestamp(t, decode[obj](t, r.body), "deleted_at")
	wantError(t, do(t, http.MethodDelete, triggers+"/"+str(first, "token"), token(master.Token)), 404, `{"message":"404 Trigger Not Found"}`)
	wantError(t, do(t, http.MethodGet, triggers+"/"+str(first, "token"), token(master.Token)), 404, `{"message":"404 Trigger Not Found"}`)
	r = do(t, http.MethodGet, triggers, token(master.Token))
	if l := decode[[]obj](t, r.body); len(l) != 1 || str(l[0], "token") != str(second, "token") {
		t.Errorf("after delete: %s", r.body)
	}
	wantError(t, do(t, http.MethodPost, run, formBody("token", str(first, "token"), "ref", "master")), 404, `{"message":"404 Not Found"}`)
}

func TestVariables(t *testing.T) {
	t.Parallel()
	owner, master, dev, outsider := newUser(t), newUser(t), newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	vars := "/projects/" + p.idPath() + "/variables"

	r := do(t, http.MethodPost, vars, token(master.Token), formBody("key", "DB_PASSWORD", "value", "secret"))
	wantStatus(t, r, http.StatusCreated)
	wantJSON(t, r.body, `{"key":"DB_PASSWORD","value":"secret"}`)
	r = do(t, http.MethodPost, "/projects/"+p.encoded()+"/variables", token(owner.Token), jsonBody(map[string]string{"key": "second_2", "value": "2"}))
	wantStatus(t, r, http.StatusCreated)

	r = do(t, http.MethodGet, vars, token(master.Token))
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r.body, `[{"key":"DB_PASSWORD","value":"secret"},{"key":"second_2","value":"2"}]`)
	if r.header.Get("X-Total") != "2" {
		t.Errorf("X-Total = %q", r.header.Get("X-Total"))
	}
	r = do(t, http.MethodGet, vars+"/DB_PASSWORD", token(master.Token))
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r.body, `{"key":"DB_PASSWORD","value":"secret"}`)

	long := strings.Repeat("k", 256)
	for _, tt := range []struct {
		name   string
		form   []string
		status int
		body   string
	}{
		{"no key", []string{"value", "x"}, 400, `{"message":"400 (Bad request) \"key\" not given"}`},
		{"no value", []string{"key", "K"}, 400, `{"message":"400 (Bad request) \"value\" not given"}`},
		{"taken", []string{"key", "DB_PASSWORD", "value", "x"}, 400, `{"message":{"key":["has already been taken"]}}`},
		{"bad characters", []string{"key", "MY-KEY", "value", "x"}, 400, `{"message":{"key":["can contain only letters, digits and '_'."]}}`},
		{"too long", []string{"key", long, "value", "x"}, 400, `{"message":{"key":["is too long (maximum is 255 characters)"]}}`},
	} {
		t.Run("create: "+tt.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, vars, token(master.Token), formBody(tt.form...)), tt.status, tt.body)
		})
	}

	r = do(t, http.MethodPut, vars+"/DB_PASSWORD", token(master.Token), formBody("value", "changed", "key", "IGNORED"))
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r.body, `{"key":"DB_PASSWORD","value":"changed"}`)
	r = do(t, http.MethodPut, vars+"/DB_PASSWORD", token(master.Token))
	wantJSON(t, r.body, `{"key":"DB_PASSWORD","value":"changed"}`)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		wantError(t, do(t, m, vars+"/NOPE", token(master.Token)), 404, `{"message":"404 Variable Not Found"}`)
	}
	r = do(t, http.MethodDelete, vars+"/second_2", token(master.Token))
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r.body, `{"key":"second_2","value":"2"}`)
	wantError(t, do(t, http.MethodGet, vars+"/second_2", token(master.Token)), 404, `{"message":"404 Variable Not Found"}`)

	ciAccessRows(t, http.MethodGet, "/variables", p, dev, outsider)
	ciAccessRows(t, http.MethodPost, "/variables", p, dev, outsider)
	ciAccessRows(t, http.MethodGet, "/variables/DB_PASSWORD", p, dev, outsider)
	ciAccessRows(t, http.MethodPut, "/variables/DB_PASSWORD", p, dev, outsider)
	ciAccessRows(t, http.MethodDelete, "/variables/DB_PASSWORD", p, dev, outsider)
	// The value survived every refused call.
	r = do(t, http.MethodGet, vars+"/DB_PASSWORD", token(owner.Token))
	wantJSON(t, r.body, `{"key":"DB_PASSWORD","value":"changed"}`)
}

// TestTriggeredBuildVariables takes a triggered build with a runner: its
// variables are the predefined ones (CI_BUILD_TRIGGERED among them), the
// YAML ones (public), the project's secure variables and the trigger's
// (not public), in that order.
func TestTriggeredBuildVariables(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	runner := registerRunner(t, projectRunnersToken(t, owner.Token, p.ID), "")
	work := g.clone(withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token))
	sha := pushCI(g, work, "variables:\n  GLOBAL: g\ndeploy:\n  script: [deploy]\n  only: [triggers]\n  variables:\n    JOB: j\n", "", "master")
	// The push matched no job: the commit is skipped, nothing to take.
	if st := commitState(t, owner.Token, p, sha); st != "skipped" {
		t.Errorf("commit status after the push = %v, want skipped", st)
	}
	if r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/variables", token(owner.Token), formBody("key", "SECRET", "value", "s")); r.status != http.StatusCreated {
		t.Fatalf("add variable: %s", r)
	}
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/triggers", token(owner.Token))
	if r.status != http.StatusCreated {
		t.Fatalf("add trigger: %s", r)
	}
	tok := str(decode[obj](t, r.body), "token")
	r = do(t, http.MethodPost, "/projects/"+p.idPath()+"/trigger/builds", jsonBody(map[string]any{"token": tok, "ref": "master", "variables": map[string]string{"FROM_TRIGGER": "t"}}))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	r = do(t, http.MethodPost, "/ci/api/v1/builds/register.json", jsonBody(map[string]any{"token": runner.Token}))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	b := decode[obj](t, r.body)
	if str(b, "name") != "deploy" || str(b, "sha") != sha {
		t.Errorf("claimed %s", r.body)
	}
	var got []string
	vars, _ := b["variables"].([]any)
	for _, v := range vars {
		m, _ := v.(map[string]any)
		got = append(got, str(m, "key")+"="+str(m, "value")+"/"+map[bool]string{true: "public", false: "secret"}[m["public"] == true])
	}
	want := "CI_BUILD_NAME=deploy/public,CI_BUILD_STAGE=test/public,CI_BUILD_TRIGGERED=true/public,GLOBAL=g/public,JOB=j/public,SECRET=s/secret,FROM_TRIGGER=t/secret"
	if strings.Join(got, ",") != want {
		t.Errorf("variables = %s\nwant        %s", strings.Join(got, ","), want)
	}
}
