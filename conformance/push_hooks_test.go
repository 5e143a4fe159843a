package conformance

// What a push sends and records (doc/web_hooks/web_hooks.md, "Push events"
// and "Tag events"): a project hook with push_events gets one "Push Hook"
// delivery per pushed branch, with GitLab 8.7's Gitlab::PushDataBuilder
// payload; one with tag_push_events a "Tag Push Hook" per pushed tag; and
// the project's events list each push ("pushed new", "pushed to",
// "deleted") with the payload as data.

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// addProjectHook registers a project hook as tok's user with the given
// fields (url included).
func addProjectHook(t testing.TB, tok string, p testProject, kv ...string) {
	t.Helper()
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/hooks", token(tok), formBody(kv...))
	if r.status != http.StatusCreated {
		t.Fatalf("add project hook: %s", r)
	}
}

// iso8601 is Ruby's Time#xmlschema of a time with its zone.
var iso8601 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`)

func TestPushHooksAndEvents(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token, "description", "pushed around")
	pushes := newReceiver(t, nil)
	tags := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", pushes.srv.URL+"/push", "push_events", "true")
	addProjectHook(t, owner.Token, p, "url", tags.srv.URL+"/tag", "push_events", "false", "tag_push_events", "true")

	raw := repoURL(t, owner.Token, p)
	project := getProject(t, owner.Token, p.ID)
	web := str(project, "web_url")
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	first := g.commit(work, "README.md", "# readme\n")
	second := g.commit(work, "main.go", "package main\n")
	g.must(work, "push", "--quiet", "origin", "master")

	got := pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["after"] == second })
	if len(got) != 1 {
		t.Fatalf("push hook deliveries for %s: %d, want 1", second, len(got))
	}
	if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Push Hook" {
		t.Errorf("X-Gitlab-Event = %q, want Push Hook", ev)
	}
	d := got[0].payload()
	for k, v := range map[string]any{
		"object_kind": "push", "before": strings.Repeat("0", 40), "after": second, "ref": "refs/heads/master",
		"checkout_sha": second, "message": nil, "user_id": owner.ID, "user_name": owner.Name, "user_email": owner.Email,
		"project_id": p.ID, "total_commits_count": 2,
	} {
		wantField(t, d, k, v)
	}
	repo, _ := d["repository"].(map[string]any)
	for k, v := range map[string]any{
		"name": p.Name, "url": str(project, "ssh_url_to_repo"), "description": "pushed around", "homepage": web,
		"git_http_url": raw, "git_ssh_url": str(project, "ssh_url_to_repo"), "visibility_level": visPrivate,
	} {
		wantField(t, repo, k, v)
	}
	if keys := sortedKeys(d); strings.Join(keys, " ") != "after before checkout_sha commits message object_kind project_id ref repository total_commits_count user_email user_id user_name" {
		t.Errorf("payload keys %v", keys)
	}
	commits, _ := d["commits"].([]any)
	if len(commits) != 2 {
		t.Fatalf("commits: %s, want 2", mustJSON(t, d["commits"]))
	}
	for i, want := range []struct{ id, file string }{{first, "README.md"}, {second, "main.go"}} {
		c, _ := commits[i].(map[string]any)
		wantField(t, c, "id", want.id)
		wantField(t, c, "message", "add "+want.file+"\n")
		wantField(t, c, "url", web+"/commit/"+want.id)
		wantField(t, c, "author", map[string]any{"name": "Conformance", "email": "conformance@example.com"})
		wantField(t, c, "added", []any{want.file})
		wantField(t, c, "modified", []any{})
		wantField(t, c, "removed", []any{})
		if ts, _ := c["timestamp"].(string); !iso8601.MatchString(ts) {
			t.Errorf("commit timestamp %q, want ISO 8601 with its zone", ts)
		}
	}

	// An update of the branch: before is the old tip, the commit changes a file.
	third := g.commit(work, "README.md", "# readme, again\n")
	g.must(work, "push", "--quiet", "origin", "master")
	got = pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["after"] == third })
	if len(got) == 1 {
		d := got[0].payload()
		wantField(t, d, "before", second)
		wantField(t, d, "total_commits_count", 1)
		if commits, _ := d["commits"].([]any); len(commits) == 1 {
			wantField(t, commits[0].(map[string]any), "modified", []any{"README.md"})
		} else {
			t.Errorf("commits of the update: %s, want 1", mustJSON(t, d["commits"]))
		}
	}

	// A tag goes to the tag push hook only.
	g.must(work, "tag", "-a", "v1.0", "-m", "release one", first)
	g.must(work, "push", "--quiet", "origin", "refs/tags/v1.0")
	got = tags.waitFor(t, "/tag", 1, func(o obj) bool { return o != nil && o["ref"] == "refs/tags/v1.0" })
	if len(got) == 1 {
		if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Tag Push Hook" {
			t.Errorf("X-Gitlab-Event = %q, want Tag Push Hook", ev)
		}
		d := got[0].payload()
		wantField(t, d, "object_kind", "tag_push")
		wantField(t, d, "before", strings.Repeat("0", 40))
		wantField(t, d, "checkout_sha", first)
		wantField(t, d, "message", "release one")
		wantField(t, d, "total_commits_count", 1)
		if commits, _ := d["commits"].([]any); len(commits) != 1 || commits[0].(map[string]any)["id"] != first {
			t.Errorf("tag push commits: %s, want the tagged %s", mustJSON(t, d["commits"]), first)
		}
	}
	// Deleting a branch is a push too.
	g.must(work, "push", "--quiet", "origin", "HEAD:refs/heads/short-lived")
	g.must(work, "push", "--quiet", "origin", ":refs/heads/short-lived")
	pushes.waitFor(t, "/push", 2, func(o obj) bool { return o != nil && o["ref"] == "refs/heads/short-lived" })
	if n := len(pushes.matching("/tag", func(obj) bool { return true })) + len(tags.matching("/push", func(obj) bool { return true })); n != 0 {
		t.Errorf("%d deliveries to the wrong hook", n)
	}
	if n := len(pushes.matching("/push", func(o obj) bool { return o != nil && o["object_kind"] == "tag_push" })); n != 0 {
		t.Errorf("the push hook (tag_push_events false) got %d tag pushes", n)
	}

	// The events, newest first.
	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	events := decode[[]obj](t, r.body)
	type seen struct{ action, ref, after string }
	var list []seen
	for _, e := range events {
		data, _ := e["data"].(map[string]any)
		after, _ := data["after"].(string)
		ref, _ := data["ref"].(string)
		list = append(list, seen{str(e, "action_name"), ref, after})
		if data != nil {
			wantField(t, e, "author_id", owner.ID)
			wantField(t, e, "target_id", nil)
		}
	}
	zero := strings.Repeat("0", 40)
	want := []seen{
		{"deleted", "refs/heads/short-lived", zero},
		{"pushed new", "refs/heads/short-lived", third},
		{"pushed new", "refs/tags/v1.0", ""},
		{"pushed to", "refs/heads/master", third},
		{"pushed new", "refs/heads/master", second},
	}
	if len(list) < len(want) {
		t.Fatalf("events %+v, want at least %+v", list, want)
	}
	for i, w := range want {
		if w.after == "" {
			w.after = list[i].after // the tag object's name
		}
		if list[i] != w {
			t.Errorf("event %d = %+v, want %+v", i, list[i], w)
		}
	}
}

func sortedKeys(o obj) []string {
	var keys []string
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
