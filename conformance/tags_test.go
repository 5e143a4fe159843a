package conformance

// Repository tags and releases (doc/api/tags.md; endpoints.tsv rows for
// /projects/:id/repository/tags; entities.md "RepoTag", "Release", "Raw git
// commit"). Commits and one tag are pushed over HTTP with the git client;
// the API then reads, makes and removes tags.

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// wantRawCommit checks a tag's commit: its id, parents, message and the
// git client's identity, with dates in the commit's own zone.
func wantRawCommit(t testing.TB, tag obj, sha string, parents []string, message string) {
	t.Helper()
	c, ok := tag["commit"].(obj)
	if !ok {
		t.Errorf("commit = %v, want an object", tag["commit"])
		return
	}
	wantField(t, c, "id", sha)
	wantField(t, c, "parent_ids", parents)
	wantField(t, c, "message", message)
	for _, f := range []string{"author", "committer"} {
		wantField(t, c, f+"_name", "Conformance")
		wantField(t, c, f+"_email", "conformance@example.com")
	}
	for _, f := range []string{"authored_date", "committed_date"} {
		if _, err := time.Parse("2006-01-02T15:04:05.000-07:00", str(c, f)); err != nil {
			t.Errorf("%s = %q, want a time with milliseconds and an offset: %v", f, str(c, f), err)
		}
	}
}

func wantRelease(t testing.TB, tag obj, name, description string) {
	t.Helper()
	if description == "" {
		wantField(t, tag, "release", nil)
		return
	}
	wantField(t, tag, "release", obj{"tag_name": name, "description": description})
}

func TestTags(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	first := g.commit(work, "a.txt", "a\n")
	second := g.commit(work, "b.txt", "b\n")
	g.must(work, "tag", "-a", "-m", "pushed tag", "pushed", first)
	g.must(work, "push", "--quiet", "origin", "master", "pushed")

	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	dev, reporter, guest, stranger := member(accessDeveloper), member(accessReporter), member(accessGuest), newUser(t)
	tags := "/projects/" + p.idPath() + "/repository/tags"
	tag := func(name string) string { return tags + "/" + url.PathEscape(name) }

	t.Run("create a lightweight tag of a branch", func(t *testing.T) {
		r := do(t, http.MethodPost, tags, token(owner.Token), formBody("tag_name", "v1.0.0", "ref", "master"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "name", "v1.0.0")
		wantField(t, got, "message", nil)
		wantRawCommit(t, got, second, []string{first}, "add b.txt\n")
		wantRelease(t, got, "", "")
	})
	t.Run("create an annotated tag of a SHA with a release, JSON, by path", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+p.encoded()+"/repository/tags", token(dev.Token), jsonBody(map[string]any{
			"tag_name": "v0.9", "ref": first, "message": "  Release 0.9\n", "release_description": "Early notes"}))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "name", "v0.9")
		wantField(t, got, "message", "Release 0.9")
		wantRawCommit(t, got, first, []string{}, "add a.txt\n")
		wantRelease(t, got, "v0.9", "Early notes")
		// The tag is in the repository, annotated by the caller.
		if out := g.must("", "ls-remote", withCreds(t, raw, owner.Username, owner.Token), "refs/tags/v0.9^{}"); out != first+"\trefs/tags/v0.9^{}" {
			t.Errorf("ls-remote shows %q, want v0.9 peeled to %s", out, first)
		}
	})
	t.Run("create a tag with a slash, of another tag", func(t *testing.T) {
		r := do(t, http.MethodPost, tags, token(owner.Token), formBody("tag_name", "release/2.0", "ref", "v1.0.0"))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "release/2.0")
			wantRawCommit(t, got, second, []string{first}, "add b.txt\n")
		}
	})

	t.Run("list: every tag, by name descending, with releases", func(t *testing.T) {
		r := do(t, http.MethodGet, tags, token(reporter.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got, want := names(list, "name"), []string{"v1.0.0", "v0.9", "release/2.0", "pushed"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("names = %v, want %v", got, want)
		}
		wantRelease(t, list[0], "", "")
		wantRelease(t, list[1], "v0.9", "Early notes")
		wantField(t, list[3], "message", "pushed tag")
		wantRawCommit(t, list[3], first, []string{}, "add a.txt\n")
		if h := r.header.Get("X-Total"); h != "" {
			t.Errorf("X-Total = %q, want none: the list is not paginated", h)
		}
	})
	t.Run("get a tag whose name holds a slash, by project path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.encoded()+"/repository/tags/"+url.PathEscape("release/2.0"), token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "name", "release/2.0")
			wantField(t, got, "message", nil)
			wantRelease(t, got, "", "")
		}
	})
	t.Run("get a pushed annotated tag", func(t *testing.T) {
		r := do(t, http.MethodGet, tag("pushed"), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "message", "pushed tag")
			wantRawCommit(t, got, first, []string{}, "add a.txt\n")
		}
	})

	t.Run("release: create, then update", func(t *testing.T) {
		r := do(t, http.MethodPost, tag("v1.0.0")+"/release", token(dev.Token), formBody("description", "Amazing release. Wow"))
		if wantStatus(t, r, http.StatusCreated) {
			wantJSON(t, r.body, `{"tag_name":"v1.0.0","description":"Amazing release. Wow"}`)
		}
		r = do(t, http.MethodPut, tag("v1.0.0")+"/release", token(owner.Token), jsonBody(map[string]string{"description": "Even better"}))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"tag_name":"v1.0.0","description":"Even better"}`)
		}
		r = do(t, http.MethodGet, tag("v1.0.0"), token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantRelease(t, decode[obj](t, r.body), "v1.0.0", "Even better")
		}
	})

	count := func(t *testing.T) int {
		t.Helper()
		r := do(t, http.MethodGet, tags, token(owner.Token))
		if r.status != http.StatusOK {
			t.Fatalf("list tags: %s", r)
		}
		return len(decode[[]obj](t, r.body))
	}
	stranger404 := `{"message":"404 Project Not Found"}`
	rejects := []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"create a tag that exists", "POST", tags, dev.Token, []string{"tag_name", "v1.0.0", "ref", "master"}, 400, `{"message":"Tag already exists"}`},
		{"create a tag of an unknown ref", "POST", tags, dev.Token, []string{"tag_name", "v3", "ref", "no-such-branch"}, 400, `{"message":"Invalid reference name"}`},
		{"create a tag with an invalid name", "POST", tags, dev.Token, []string{"tag_name", "bad..name", "ref", "master"}, 400, `{"message":"Tag name invalid"}`},
		{"create without ref", "POST", tags, dev.Token, []string{"tag_name", "v3"}, 400, `{"message":"400 (Bad request) \"ref\" not given"}`},
		{"create without tag_name", "POST", tags, dev.Token, []string{"ref", "master"}, 400, `{"message":"400 (Bad request) \"tag_name\" not given"}`},
		{"get an unknown tag", "GET", tag("v9"), owner.Token, nil, 404, `{"message":"404 Tag Not Found"}`},
		{"get a prefix of a tag", "GET", tag("release"), owner.Token, nil, 404, `{"message":"404 Tag Not Found"}`},
		{"delete an unknown tag", "DELETE", tag("v9"), dev.Token, nil, 404, `{"message":"No such tag"}`},
		{"release of an unknown tag", "POST", tag("v9") + "/release", dev.Token, []string{"description", "x"}, 404, `{"message":"Tag does not exist"}`},
		{"release that exists", "POST", tag("v0.9") + "/release", dev.Token, []string{"description", "x"}, 409, `{"message":"Release already exists"}`},
		{"release without description", "POST", tag("release/2.0") + "/release", dev.Token, []string{}, 400, `{"message":"400 (Bad request) \"description\" not given"}`},
		{"update the release of an unknown tag", "PUT", tag("v9") + "/release", dev.Token, []string{"description", "x"}, 404, `{"message":"Tag does not exist"}`},
		{"update a release that does not exist", "PUT", tag("release/2.0") + "/release", dev.Token, []string{"description", "x"}, 404, `{"message":"Release does not exist"}`},
		{"update a release without description", "PUT", tag("v0.9") + "/release", dev.Token, []string{}, 400, `{"message":"400 (Bad request) \"description\" not given"}`},
		// A reporter may read the code, not push it; a guest of a private
		// project may not even read it.
		{"reporter creates", "POST", tags, reporter.Token, []string{"tag_name", "v3", "ref", "master"}, 403, forbidden403},
		{"reporter creates without parameters: access first", "POST", tags, reporter.Token, []string{}, 403, forbidden403},
		{"reporter deletes", "DELETE", tag("v1.0.0"), reporter.Token, nil, 403, forbidden403},
		{"reporter adds a release", "POST", tag("release/2.0") + "/release", reporter.Token, []string{"description", "x"}, 403, forbidden403},
		{"reporter updates a release", "PUT", tag("v0.9") + "/release", reporter.Token, []string{"description", "x"}, 403, forbidden403},
		{"guest lists", "GET", tags, guest.Token, nil, 403, forbidden403},
		{"guest gets", "GET", tag("v1.0.0"), guest.Token, nil, 403, forbidden403},
		{"stranger lists", "GET", tags, stranger.Token, nil, 404, stranger404},
		{"stranger gets", "GET", tag("v1.0.0"), stranger.Token, nil, 404, stranger404},
		{"stranger creates without parameters: the project first", "POST", tags, stranger.Token, []string{}, 404, stranger404},
		{"stranger deletes", "DELETE", tag("v1.0.0"), stranger.Token, nil, 404, stranger404},
		{"stranger adds a release", "POST", tag("release/2.0") + "/release", stranger.Token, []string{"description", "x"}, 404, stranger404},
		{"stranger updates a release", "PUT", tag("v0.9") + "/release", stranger.Token, []string{"description", "x"}, 404, stranger404},
		{"unknown project", "GET", "/projects/999999999/repository/tags", owner.Token, nil, 404, stranger404},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
			if n := count(t); n != 4 {
				t.Errorf("%d tags after the rejected request, want 4", n)
			}
		})
	}
	t.Run("the rejected release requests changed nothing", func(t *testing.T) {
		r := do(t, http.MethodGet, tag("v0.9"), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantRelease(t, decode[obj](t, r.body), "v0.9", "Early notes")
		}
		r = do(t, http.MethodGet, tag("release/2.0"), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantRelease(t, decode[obj](t, r.body), "", "")
		}
	})

	t.Run("git fails to remove a locked tag", func(t *testing.T) {
		unlock := lockRef(t, p.ID, "refs/tags/v1.0.0")
		wantError(t, do(t, http.MethodDelete, tag("v1.0.0"), token(dev.Token)), 400, `{"message":"Failed to remove tag"}`)
		unlock()
		if r := do(t, http.MethodGet, tag("v1.0.0"), token(owner.Token)); r.status != http.StatusOK {
			t.Errorf("the tag after the failed delete: %s", r)
		}
	})

	t.Run("delete takes the tag and its release", func(t *testing.T) {
		r := do(t, http.MethodDelete, tag("v0.9"), token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"tag_name":"v0.9"}`)
		}
		wantError(t, do(t, http.MethodGet, tag("v0.9"), token(owner.Token)), 404, `{"message":"404 Tag Not Found"}`)
		wantError(t, do(t, http.MethodDelete, tag("v0.9"), token(dev.Token)), 404, `{"message":"No such tag"}`)
		// A new tag of that name starts without release notes.
		r = do(t, http.MethodPost, tags, token(dev.Token), formBody("tag_name", "v0.9", "ref", "master"))
		if wantStatus(t, r, http.StatusCreated) {
			wantRelease(t, decode[obj](t, r.body), "", "")
		}
	})
	t.Run("delete a tag whose name holds a slash", func(t *testing.T) {
		r := do(t, http.MethodDelete, tag("release/2.0"), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"tag_name":"release/2.0"}`)
		}
		if out := g.must("", "ls-remote", "--tags", withCreds(t, raw, owner.Username, owner.Token)); containsLine(out, "refs/tags/release/2.0") {
			t.Errorf("ls-remote after the delete:\n%s\nwant no release/2.0", out)
		}
	})
}

// containsLine reports whether a line of ls-remote's output ends in ref.
func containsLine(out, ref string) bool {
	for _, l := range splitLines(out) {
		if len(l) >= len(ref) && l[len(l)-len(ref):] == ref {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// On a public project any user reads the tags and none but developers
// write them; an empty repository has no tags and tags nothing.
func TestTagsPublicAndEmpty(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, outsider := newUser(t), newUser(t)
	pub, _, sha := seededProject(t, g, owner, "visibility_level", itoa(visPublic))
	tags := "/projects/" + pub.idPath() + "/repository/tags"
	if r := do(t, http.MethodPost, tags, token(owner.Token), formBody("tag_name", "v1", "ref", sha)); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	r := do(t, http.MethodGet, tags, token(outsider.Token))
	if wantStatus(t, r, http.StatusOK) {
		if got := names(decode[[]obj](t, r.body), "name"); !reflect.DeepEqual(got, []string{"v1"}) {
			t.Errorf("names = %v, want [v1]", got)
		}
	}
	wantError(t, do(t, http.MethodPost, tags, token(outsider.Token), formBody("tag_name", "v2", "ref", sha)), 403, forbidden403)
	wantError(t, do(t, http.MethodDelete, tags+"/v1", token(outsider.Token)), 403, forbidden403)

	empty := newProject(t, owner.Token)
	emptyTags := "/projects/" + empty.idPath() + "/repository/tags"
	r = do(t, http.MethodGet, emptyTags, token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `[]`)
	}
	wantError(t, do(t, http.MethodPost, emptyTags, token(owner.Token), formBody("tag_name", "v1", "ref", "master")), 400, `{"message":"Invalid reference name"}`)
}
