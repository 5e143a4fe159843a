package conformance

// A ref moved through the API is a push (GitLab 8.7 ran its git hooks for
// them): tags created and deleted with doc/api/tags.md give Tag Push Hook
// payloads and events like `git push` of them, and a branch created with
// doc/api/branches.md lists, as 8.7's GitPushService did for a new
// branch, the commits that are not on the default branch.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAPITagsArePushes(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p, _, sha := seededProject(t, g, owner)
	tags := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", tags.srv.URL+"/tag", "push_events", "false", "tag_push_events", "true")
	zero := strings.Repeat("0", 40)
	base := "/projects/" + p.idPath() + "/repository/tags"

	if r := do(t, http.MethodPost, base, token(owner.Token), formBody("tag_name", "v1.0", "ref", "master", "message", "release one")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	got := tags.waitFor(t, "/tag", 1, func(o obj) bool { return o != nil && o["ref"] == "refs/tags/v1.0" && o["before"] == zero })
	if len(got) != 1 {
		t.Fatalf("tag push hook deliveries for the new tag: %d, want 1", len(got))
	}
	if ev := got[0].header.Get("X-Gitlab-Event"); ev != "Tag Push Hook" {
		t.Errorf("X-Gitlab-Event = %q, want Tag Push Hook", ev)
	}
	d := got[0].payload()
	for k, v := range map[string]any{
		"object_kind": "tag_push", "after": sha, "checkout_sha": sha, "message": "release one",
		"user_id": owner.ID, "total_commits_count": 1,
	} {
		wantField(t, d, k, v)
	}

	if r := do(t, http.MethodDelete, base+"/v1.0", token(owner.Token)); !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	got = tags.waitFor(t, "/tag", 1, func(o obj) bool { return o != nil && o["ref"] == "refs/tags/v1.0" && o["after"] == zero })
	if len(got) != 1 {
		t.Fatalf("tag push hook deliveries for the deleted tag: %d, want 1", len(got))
	}
	wantField(t, got[0].payload(), "total_commits_count", 0)

	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	var tagEvents []string
	for _, e := range decode[[]obj](t, r.body) {
		if data, _ := e["data"].(map[string]any); data != nil && data["ref"] == "refs/tags/v1.0" {
			tagEvents = append(tagEvents, str(e, "action_name"))
		}
	}
	if want := []string{"deleted", "pushed new"}; strings.Join(tagEvents, ",") != strings.Join(want, ",") {
		t.Errorf("tag events %v, want %v", tagEvents, want)
	}
}

func TestAPIBranchListsCommitsNotOnDefaultBranch(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner := newUser(t)
	p, _, _ := seededProject(t, g, owner)
	pushes := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", pushes.srv.URL+"/push", "push_events", "true")
	branches := "/projects/" + p.idPath() + "/repository/branches"
	if r := do(t, http.MethodPost, branches, token(owner.Token), formBody("branch_name", "feature", "ref", "master")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	if r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/repository/files", token(owner.Token),
		formBody("file_path", "f.txt", "branch_name", "feature", "content", "f", "commit_message", "on feature")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	feature := headOf(t, owner.Token, p, "feature")
	// From feature: its one commit is not on master, though the feature
	// branch holds it already.
	if r := do(t, http.MethodPost, branches, token(owner.Token), formBody("branch_name", "copy", "ref", "feature")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	got := pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["ref"] == "refs/heads/copy" })
	if len(got) != 1 {
		t.Fatalf("push hook deliveries for the new branch: %d, want 1", len(got))
	}
	d := got[0].payload()
	wantField(t, d, "total_commits_count", 1)
	commits, _ := d["commits"].([]any)
	if len(commits) != 1 {
		t.Fatalf("commits = %v, want the feature commit", d["commits"])
	}
	c, _ := commits[0].(map[string]any)
	wantField(t, c, "id", feature["id"])
	wantField(t, c, "message", "on feature")
	wantField(t, c, "url", str(getProject(t, owner.Token, p.ID), "web_url")+"/commit/"+url.PathEscape(str(feature, "id")))
}
