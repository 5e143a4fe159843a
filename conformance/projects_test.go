package conformance

// Projects (doc/api/projects.md; endpoints.tsv rows for /projects and
// /projects/:id; entities.md "Project", "ProjectWithAccess"). A project is
// addressed by numeric id or by URL-encoded "namespace%2Fpath": rows use both.

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	projectNotFound = `{"message":"404 Project Not Found"}`
	forbidden403    = `{"message":"403 Forbidden"}`
	recordNotFound  = `{"message":"404 Not found"}`
)

// host is the server's host name, as ssh_url_to_repo carries it.
func host(t testing.TB) string {
	u, err := url.Parse(env.base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

// wantPermissions checks ProjectWithAccess.permissions: a level of 0 wants
// null; any other level wants {access_level, notification_level: 3}.
func wantPermissions(t testing.TB, got obj, projectLevel, groupLevel int) {
	t.Helper()
	perms, ok := got["permissions"].(obj)
	if !ok {
		t.Errorf("permissions = %v, want an object", got["permissions"])
		return
	}
	for _, c := range []struct {
		key   string
		level int
	}{{"project_access", projectLevel}, {"group_access", groupLevel}} {
		v, present := perms[c.key]
		switch {
		case !present:
			t.Errorf("permissions.%s absent, want it present (null or an object)", c.key)
		case c.level == 0 && v != nil:
			t.Errorf("permissions.%s = %v, want null", c.key, v)
		case c.level != 0:
			a, ok := v.(obj)
			if !ok {
				t.Errorf("permissions.%s = %v, want {access_level: %d}", c.key, v, c.level)
				continue
			}
			wantField(t, a, "access_level", c.level)
			wantField(t, a, "notification_level", 3)
		}
	}
}

// wantRunnersToken wants runners_token present (a non-empty string) or absent.
func wantRunnersToken(t testing.TB, got obj, present bool) {
	t.Helper()
	v, ok := got["runners_token"]
	switch {
	case present && (!ok || v == "" || v == nil):
		t.Errorf("runners_token = %v, want a token", v)
	case !present && ok:
		t.Errorf("runners_token = %v present, want it absent", v)
	}
}

func TestCreateProject(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	grp := newGroup(t, u.Token)
	devGroup := newGroup(t, env.rootToken)
	addMember(t, "groups", devGroup.ID, u.ID, accessDeveloper)
	other := createUser(t)
	otherNS := namespaceID(t, other.Username)

	t.Run("minimal: the defaults", func(t *testing.T) {
		tag := strings.ReplaceAll(uniqueName(t), "_", "")
		name := "My Project " + tag
		r := do(t, http.MethodPost, "/projects", token(u.Token), formBody("name", name))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		path := "my-project-" + tag // name, parameterized
		pwn := u.Username + "/" + path
		wantField(t, got, "name", name)
		wantField(t, got, "path", path)
		wantField(t, got, "path_with_namespace", pwn)
		wantField(t, got, "name_with_namespace", u.Username+" / "+name)
		wantField(t, got, "visibility_level", visPrivate)
		wantField(t, got, "public", false)
		wantField(t, got, "archived", false)
		wantField(t, got, "description", nil)
		wantField(t, got, "default_branch", nil)
		wantField(t, got, "tag_list", []any{})
		wantField(t, got, "avatar_url", nil)
		wantField(t, got, "star_count", 0)
		wantField(t, got, "forks_count", 0)
		wantField(t, got, "open_issues_count", 0)
		wantField(t, got, "creator_id", u.ID)
		for _, f := range []string{"issues_enabled", "merge_requests_enabled", "wiki_enabled", "builds_enabled", "shared_runners_enabled", "public_builds"} {
			wantField(t, got, f, true)
		}
		wantField(t, got, "web_url", env.base+"/"+pwn)
		wantField(t, got, "http_url_to_repo", env.base+"/"+pwn+".git")
		wantField(t, got, "ssh_url_to_repo", "git@"+host(t)+":"+pwn+".git")
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "last_activity_at")
		wantRunnersToken(t, got, true)
		wantNoFields(t, got, "forked_from_project", "permissions")
		owner, ok := got["owner"].(obj)
		if !ok {
			t.Fatalf("owner = %v, want the creator (a personal project)", got["owner"])
		}
		wantField(t, owner, "id", u.ID)
		wantField(t, owner, "username", u.Username)
		wantField(t, owner, "web_url", env.base+"/u/"+u.Username)
		wantNoFields(t, owner, "email", "private_token")
		ns, ok := got["namespace"].(obj)
		if !ok {
			t.Fatalf("namespace = %v, want an object", got["namespace"])
		}
		wantField(t, ns, "path", u.Username)
		wantField(t, ns, "name", u.Username)
		wantField(t, ns, "owner_id", u.ID)
		wantField(t, ns, "type", nil)
		wantField(t, ns, "avatar", obj{"url": nil})
		wantField(t, ns, "share_with_group_lock", false)
		wantFields(t, ns, "id", "created_at", "updated_at", "description", "visibility_level")

		// It reads back the same, by id and by namespace/path.
		for _, id := range []string{itoa(num(got, "id")), url.PathEscape(pwn)} {
			r := do(t, http.MethodGet, "/projects/"+id, token(u.Token))
			if wantStatus(t, r, http.StatusOK) {
				back := decode[obj](t, r.body)
				wantField(t, back, "id", num(got, "id"))
				wantField(t, back, "path_with_namespace", pwn)
			}
		}
	})

	visibility := []struct {
		name   string
		form   []string
		level  int
		public bool
	}{
		{"public=true is 20", []string{"public", "true"}, visPublic, true},
		{"public=false is 0", []string{"public", "false"}, visPrivate, false},
		{"visibility_level wins over public", []string{"public", "true", "visibility_level", "10"}, visInternal, false},
		{"visibility_level=20", []string{"visibility_level", "20"}, visPublic, true},
	}
	for _, row := range visibility {
		t.Run(row.name, func(t *testing.T) {
			n := uniqueName(t)
			r := do(t, http.MethodPost, "/projects", token(u.Token), formBody(append([]string{"name", n}, row.form...)...))
			if wantStatus(t, r, http.StatusCreated) {
				got := decode[obj](t, r.body)
				wantField(t, got, "visibility_level", row.level)
				wantField(t, got, "public", row.public)
			}
		})
	}

	t.Run("JSON body with the flags", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/projects", token(u.Token), jsonBody(map[string]any{
			"name": n, "path": n + "-p", "description": "a description", "issues_enabled": false,
			"merge_requests_enabled": false, "wiki_enabled": false, "builds_enabled": false, "snippets_enabled": true,
			"shared_runners_enabled": false, "public_builds": false,
		}))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "path", n+"-p")
		wantField(t, got, "description", "a description")
		for f, v := range map[string]bool{"issues_enabled": false, "merge_requests_enabled": false, "wiki_enabled": false,
			"builds_enabled": false, "snippets_enabled": true, "shared_runners_enabled": false, "public_builds": false} {
			wantField(t, got, f, v)
		}
		// open_issues_count only when issues are enabled.
		wantNoFields(t, got, "open_issues_count")
	})

	t.Run("in a group the user owns: no owner", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/projects", token(u.Token), formBody("name", n, "namespace_id", grp.idPath()))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantNoFields(t, got, "owner")
		wantField(t, got, "path_with_namespace", grp.Path+"/"+n)
		wantField(t, got, "name_with_namespace", grp.Name+" / "+n)
		wantRunnersToken(t, got, true)
		ns, _ := got["namespace"].(obj)
		wantField(t, ns, "id", grp.ID)
		wantField(t, ns, "type", "Group")
		wantField(t, ns, "path", grp.Path)
	})

	t.Run("project limit", func(t *testing.T) {
		limited := newUser(t, "projects_limit", "1")
		newProject(t, limited.Token)
		r := do(t, http.MethodPost, "/projects", token(limited.Token), formBody("name", uniqueName(t)))
		wantError(t, r, http.StatusForbidden, `["Your project limit is 1 projects! Please contact your administrator to increase it"]`)

		none := newUser(t, "projects_limit", "0")
		r = do(t, http.MethodPost, "/projects", token(none.Token), formBody("name", uniqueName(t)))
		wantError(t, r, http.StatusForbidden, `["Personal project creation is not allowed. Please contact your administrator with questions"]`)
		if got := decode[[]obj](t, do(t, http.MethodGet, "/projects/owned", token(none.Token)).body); len(got) != 0 {
			t.Errorf("the refused user owns %d projects, want none", len(got))
		}

		// The limit does not apply in a group.
		g := newGroup(t, env.rootToken)
		addMember(t, "groups", g.ID, none.ID, accessMaster)
		r = do(t, http.MethodPost, "/projects", token(none.Token), formBody("name", uniqueName(t), "namespace_id", g.idPath()))
		wantStatus(t, r, http.StatusCreated)
	})

	taken := newProject(t, u.Token)
	rejects := []struct {
		name     string
		form     []string
		body     string // exact body, or
		field    string // a validation body naming this field
		fieldMsg string
	}{
		{name: "missing name", form: []string{"path", uniqueName(t)}, body: `{"message":"400 (Bad request) \"name\" not given"}`},
		{name: "path taken in the namespace", form: []string{"name", uniqueName(t), "path", taken.Path}, field: "path", fieldMsg: "has already been taken"},
		{name: "a group the user is only a developer of", form: []string{"name", uniqueName(t), "namespace_id", devGroup.idPath()}, field: "namespace", fieldMsg: "is not valid"},
		{name: "another user's namespace", form: []string{"name", uniqueName(t), "namespace_id", itoa(otherNS)}, field: "namespace", fieldMsg: "is not valid"},
		{name: "visibility_level outside 0, 10, 20", form: []string{"name", uniqueName(t), "visibility_level", "15"}, field: "visibility_level"},
		{name: "a flag that is not a boolean", form: []string{"name", uniqueName(t), "issues_enabled", "maybe"}, field: "issues_enabled"},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			before := len(decode[[]obj](t, do(t, http.MethodGet, "/projects/owned", token(u.Token), query("per_page", "100")).body))
			r := do(t, http.MethodPost, "/projects", token(u.Token), formBody(row.form...))
			if row.body != "" {
				wantError(t, r, http.StatusBadRequest, row.body)
			} else {
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			after := len(decode[[]obj](t, do(t, http.MethodGet, "/projects/owned", token(u.Token), query("per_page", "100")).body))
			if after != before {
				t.Errorf("the user owns %d projects after the rejected create, want %d", after, before)
			}
		})
	}
}

func TestCreateProjectForUser(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	nonAdmin := newUser(t)

	t.Run("as admin", func(t *testing.T) {
		tag := strings.ReplaceAll(uniqueName(t), "_", "")
		r := do(t, http.MethodPost, "/projects/user/"+u.idPath(), token(env.rootToken),
			formBody("name", "For User "+tag, "description", "made by root", "default_branch", "develop", "public", "true"))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "path", "for-user-"+tag)
		wantField(t, got, "path_with_namespace", u.Username+"/for-user-"+tag)
		wantField(t, got, "description", "made by root")
		wantField(t, got, "default_branch", "develop")
		wantField(t, got, "visibility_level", visPublic)
		wantRunnersToken(t, got, true)
		if owner, ok := got["owner"].(obj); !ok || num(owner, "id") != u.ID {
			t.Errorf("owner = %v, want user %d", got["owner"], u.ID)
		}
		// The user sees it among their own projects.
		owned := decode[[]obj](t, do(t, http.MethodGet, "/projects/owned", token(u.Token)).body)
		if !containsInt(ids(owned), num(got, "id")) {
			t.Errorf("GET /projects/owned of the user = %v, want it to hold %d", ids(owned), num(got, "id"))
		}
	})
	t.Run("without a name: the model's validation", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/user/"+u.idPath(), token(env.rootToken), formBody("description", "x"))
		wantValidation(t, r, "name", "can't be blank")
	})
	t.Run("limit reached: a validation body", func(t *testing.T) {
		none := createUser(t, "projects_limit", "0")
		r := do(t, http.MethodPost, "/projects/user/"+none.idPath(), token(env.rootToken), formBody("name", uniqueName(t)))
		wantError(t, r, http.StatusBadRequest,
			`{"message":{"limit_reached":["Personal project creation is not allowed. Please contact your administrator with questions"]}}`)
	})
	for _, row := range []struct {
		name, path, tok string
		status          int
		body            string
	}{
		{"non-admin", "/projects/user/" + u.idPath(), nonAdmin.Token, 403, forbidden403},
		{"non-admin for themselves", "/projects/user/" + nonAdmin.idPath(), nonAdmin.Token, 403, forbidden403},
		{"unknown user", "/projects/user/999999999", env.rootToken, 404, recordNotFound},
		{"non-numeric user", "/projects/user/" + u.Username, env.rootToken, 404, recordNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, row.path, token(row.tok), formBody("name", uniqueName(t))), row.status, row.body)
		})
	}
}

func TestGetProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	external := newUser(t, "external", "true")
	grpOwner := newUser(t)

	private := newProject(t, own.Token)
	internal := newProject(t, own.Token, "visibility_level", "10")
	public := newProject(t, own.Token, "visibility_level", "20")
	addMember(t, "projects", private.ID, master.ID, accessMaster)
	addMember(t, "projects", private.ID, dev.ID, accessDeveloper)
	grp := newGroup(t, grpOwner.Token)
	grpProject := newProject(t, grpOwner.Token, "namespace_id", grp.idPath())
	addMember(t, "projects", grpProject.ID, dev.ID, accessDeveloper)

	rows := []struct {
		name          string
		tok           string
		p             testProject
		projectLevel  int // permissions.project_access.access_level (0: null)
		groupLevel    int // permissions.group_access.access_level (0: null)
		runnersToken  bool
		personalOwner int // the owner's id for a personal project; 0 for a group project
	}{
		// 8.7's CreateService made the creator of a personal project its master.
		{"namespace owner", own.Token, private, accessMaster, 0, true, own.ID},
		{"master", master.Token, private, accessMaster, 0, true, own.ID},
		{"developer: no runners_token", dev.Token, private, accessDeveloper, 0, false, own.ID},
		{"admin, not a member", env.rootToken, private, 0, 0, true, own.ID},
		{"public project, non-member", outsider.Token, public, 0, 0, false, own.ID},
		{"public project, external user", external.Token, public, 0, 0, false, own.ID},
		{"internal project, non-member", outsider.Token, internal, 0, 0, false, own.ID},
		{"group project, group owner", grpOwner.Token, grpProject, 0, accessOwner, true, 0},
		{"group project, developer", dev.Token, grpProject, accessDeveloper, 0, false, 0},
	}
	for _, row := range rows {
		for _, id := range []string{row.p.idPath(), row.p.encoded()} {
			t.Run(row.name+" by "+id, func(t *testing.T) {
				r := do(t, http.MethodGet, "/projects/"+id, token(row.tok))
				if !wantStatus(t, r, http.StatusOK) {
					return
				}
				got := decode[obj](t, r.body)
				wantField(t, got, "id", row.p.ID)
				wantField(t, got, "path_with_namespace", row.p.PathWithNamespace)
				wantField(t, got, "public", row.p.Visibility == visPublic)
				wantPermissions(t, got, row.projectLevel, row.groupLevel)
				wantRunnersToken(t, got, row.runnersToken)
				if row.personalOwner != 0 {
					if owner, ok := got["owner"].(obj); !ok || num(owner, "id") != row.personalOwner {
						t.Errorf("owner = %v, want user %d", got["owner"], row.personalOwner)
					}
				} else {
					wantNoFields(t, got, "owner")
				}
			})
		}
	}
	for _, row := range []struct {
		name, id, tok string
	}{
		{"private project, non-member", private.idPath(), outsider.Token},
		{"private project by path, non-member", private.encoded(), outsider.Token},
		{"internal project, external user", internal.idPath(), external.Token},
		{"internal project by path, external user", internal.encoded(), external.Token},
		{"unknown id", "999999999", own.Token},
		{"unknown path", url.PathEscape(own.Username + "/no-such-project"), own.Token},
		{"unknown namespace", url.PathEscape("no-such-namespace-" + env.runID + "/" + private.Path), own.Token},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, "/projects/"+row.id, token(row.tok)), http.StatusNotFound, projectNotFound)
		})
	}
}

func TestUpdateProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	p := newProject(t, own.Token)
	other := newProject(t, own.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)

	t.Run("owner: every field", func(t *testing.T) {
		newName := uniqueName(t)
		newPath := uniqueName(t)
		r := do(t, http.MethodPut, "/projects/"+p.idPath(), token(own.Token), formBody(
			"name", newName, "path", newPath, "description", "described", "default_branch", "stable",
			"issues_enabled", "false", "wiki_enabled", "false", "snippets_enabled", "true", "public_builds", "false",
			"public", "true"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		want := map[string]any{"name": newName, "path": newPath, "path_with_namespace": own.Username + "/" + newPath,
			"description": "described", "default_branch": "stable", "issues_enabled": false, "wiki_enabled": false,
			"snippets_enabled": true, "public_builds": false, "visibility_level": visPublic, "public": true}
		back := getProject(t, own.Token, p.ID)
		for k, v := range want {
			wantField(t, got, k, v)
			wantField(t, back, k, v)
		}
		wantRunnersToken(t, got, true)
		wantNoFields(t, got, "permissions")
		p.PathWithNamespace = own.Username + "/" + newPath
	})
	t.Run("owner: public=false, by path", func(t *testing.T) {
		r := do(t, http.MethodPut, "/projects/"+p.encoded(), token(own.Token), jsonBody(map[string]any{"public": false}))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "visibility_level", visPrivate)
		}
	})
	t.Run("master: description", func(t *testing.T) {
		r := do(t, http.MethodPut, "/projects/"+p.idPath(), token(master.Token), formBody("description", "by the master"))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "description", "by the master")
			wantRunnersToken(t, got, true)
		}
	})
	t.Run("admin: name and visibility", func(t *testing.T) {
		r := do(t, http.MethodPut, "/projects/"+p.idPath(), token(env.rootToken), formBody("name", uniqueName(t), "visibility_level", "10"))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "visibility_level", visInternal)
		}
	})

	before := getProject(t, own.Token, p.ID)
	rejects := []struct {
		name     string
		tok      string
		id       string
		form     []string
		status   int
		body     string
		field    string
		fieldMsg string
	}{
		{name: "master renames", tok: master.Token, form: []string{"name", "Renamed"}, status: 403, body: forbidden403},
		{name: "master changes visibility_level", tok: master.Token, form: []string{"visibility_level", "20"}, status: 403, body: forbidden403},
		{name: "master sets public", tok: master.Token, form: []string{"public", "true"}, status: 403, body: forbidden403},
		{name: "master: description with a name", tok: master.Token, form: []string{"description", "x", "name", "Renamed"}, status: 403, body: forbidden403},
		{name: "developer", tok: dev.Token, form: []string{"description", "x"}, status: 403, body: forbidden403},
		{name: "developer, by path", tok: dev.Token, id: p.encoded(), form: []string{"description", "x"}, status: 403, body: forbidden403},
		{name: "non-member of an internal project", tok: outsider.Token, form: []string{"description", "x"}, status: 403, body: forbidden403},
		{name: "unknown project", tok: own.Token, id: "999999999", form: []string{"description", "x"}, status: 404, body: projectNotFound},
		{name: "path taken", tok: own.Token, form: []string{"path", other.Path}, status: 400, field: "path", fieldMsg: "has already been taken"},
		{name: "invalid path", tok: own.Token, form: []string{"path", "-bad path"}, status: 400, field: "path"},
		{name: "flag not a boolean", tok: own.Token, form: []string{"issues_enabled", "maybe"}, status: 400, field: "issues_enabled"},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			id := row.id
			if id == "" {
				id = p.idPath()
			}
			r := do(t, http.MethodPut, "/projects/"+id, token(row.tok), formBody(row.form...))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else {
				wantValidation(t, r, row.field, row.fieldMsg)
			}
			after := getProject(t, own.Token, p.ID)
			for _, k := range []string{"name", "path", "description", "visibility_level", "issues_enabled"} {
				if after[k] != before[k] {
					t.Errorf("after the rejected update %s = %v, want it unchanged (%v)", k, after[k], before[k])
				}
			}
		})
	}
	t.Run("private project, non-member", func(t *testing.T) {
		priv := newProject(t, own.Token)
		wantError(t, do(t, http.MethodPut, "/projects/"+priv.idPath(), token(outsider.Token), formBody("description", "x")),
			http.StatusNotFound, projectNotFound)
	})
}

func TestDeleteProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, outsider := newUser(t), newUser(t)
	grpOwner := newUser(t)
	grp := newGroup(t, grpOwner.Token)

	deleted := func(t *testing.T, p testProject) {
		t.Helper()
		// 8.7 deleted in the background: wait for the project to go.
		if !eventually(10*time.Second, func() bool {
			return do(t, http.MethodGet, "/projects/"+p.idPath(), token(env.rootToken)).status == http.StatusNotFound
		}) {
			t.Errorf("project %d still readable after DELETE", p.ID)
		}
	}
	for _, row := range []struct {
		name string
		make func(t *testing.T) testProject
		tok  string
		byID bool
	}{
		{"namespace owner, by id", func(t *testing.T) testProject { return newProject(t, own.Token) }, own.Token, true},
		{"namespace owner, by path", func(t *testing.T) testProject { return newProject(t, own.Token) }, own.Token, false},
		{"admin", func(t *testing.T) testProject { return newProject(t, own.Token) }, env.rootToken, true},
		{"group owner", func(t *testing.T) testProject { return newProject(t, grpOwner.Token, "namespace_id", grp.idPath()) }, grpOwner.Token, true},
	} {
		t.Run(row.name, func(t *testing.T) {
			p := row.make(t)
			id := p.encoded()
			if row.byID {
				id = p.idPath()
			}
			r := do(t, http.MethodDelete, "/projects/"+id, token(row.tok))
			if wantStatus(t, r, http.StatusOK) {
				wantJSON(t, r.body, `true`)
			}
			deleted(t, p)
			wantError(t, do(t, http.MethodDelete, "/projects/"+p.idPath(), token(row.tok)), http.StatusNotFound, projectNotFound)
		})
	}
	p := newProject(t, own.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	t.Run("master", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/projects/"+p.idPath(), token(master.Token)), http.StatusForbidden, forbidden403)
	})
	t.Run("non-member of a private project", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/projects/"+p.idPath(), token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})
	t.Run("non-member of a public project", func(t *testing.T) {
		pub := newProject(t, own.Token, "visibility_level", "20")
		wantError(t, do(t, http.MethodDelete, "/projects/"+pub.encoded(), token(outsider.Token)), http.StatusForbidden, forbidden403)
	})
	t.Run("the refused project is still there", func(t *testing.T) {
		getProject(t, own.Token, p.ID)
	})
}

// TestProjectLists covers GET /projects, /projects/owned, /projects/starred,
// /projects/all and /projects/search/:query over one set of projects.
func TestProjectLists(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	o := newUser(t)
	external := newUser(t, "external", "true")
	tag := strings.ReplaceAll(uniqueName(t), "_", "")
	grp := newGroup(t, u.Token)

	mk := func(tok, suffix string, extra ...string) testProject {
		return newProject(t, tok, fields([]string{"name", tag + suffix, "path", tag + suffix}, extra)...)
	}
	a := mk(u.Token, "a", "description", "zebra"+tag)                             // u's own, private
	b := mk(u.Token, "b", "namespace_id", grp.idPath(), "visibility_level", "10") // in u's group, internal
	c := mk(o.Token, "c", "path", "other-path-"+tag)                              // o's, u is a developer
	d := mk(o.Token, "d", "visibility_level", "20")                               // o's public
	e := mk(o.Token, "e", "visibility_level", "10")                               // o's internal
	f := mk(o.Token, "f")                                                         // o's private
	addMember(t, "projects", c.ID, u.ID, accessDeveloper)
	if r := do(t, http.MethodPost, "/projects/"+a.idPath()+"/archive", token(u.Token)); r.status != http.StatusCreated {
		t.Fatalf("archive: %s", r)
	}
	for _, s := range []testProject{c, d} {
		if r := do(t, http.MethodPost, "/projects/"+s.idPath()+"/star", token(u.Token)); r.status != http.StatusCreated {
			t.Fatalf("star: %s", r)
		}
	}

	type listRow struct {
		name   string
		path   string
		tok    string
		q      []string
		want   []int // ids, in order
		access bool  // items carry permissions
	}
	rows := []listRow{
		{name: "authorized, newest first", path: "/projects", tok: u.Token, want: []int{c.ID, b.ID, a.ID}, access: true},
		{name: "authorized, oldest first", path: "/projects", tok: u.Token, q: []string{"sort", "asc"}, want: []int{a.ID, b.ID, c.ID}, access: true},
		{name: "authorized, by name", path: "/projects", tok: u.Token, q: []string{"order_by", "name", "sort", "asc"}, want: []int{a.ID, b.ID, c.ID}, access: true},
		{name: "authorized, by id desc", path: "/projects", tok: u.Token, q: []string{"order_by", "id"}, want: []int{c.ID, b.ID, a.ID}, access: true},
		{name: "authorized, archived only", path: "/projects", tok: u.Token, q: []string{"archived", "true"}, want: []int{a.ID}, access: true},
		{name: "authorized, unarchived only", path: "/projects", tok: u.Token, q: []string{"archived", "false"}, want: []int{c.ID, b.ID}, access: true},
		{name: "authorized, internal only", path: "/projects", tok: u.Token, q: []string{"visibility", "internal"}, want: []int{b.ID}, access: true},
		{name: "authorized, private only", path: "/projects", tok: u.Token, q: []string{"visibility", "private"}, want: []int{c.ID, a.ID}, access: true},
		{name: "authorized, search by name", path: "/projects", tok: u.Token, q: []string{"search", strings.ToUpper(tag + "b")}, want: []int{b.ID}, access: true},
		// 8.7's Project.search: name, path, namespace name or description.
		{name: "authorized, search by path", path: "/projects", tok: u.Token, q: []string{"search", "other-path-" + tag}, want: []int{c.ID}, access: true},
		{name: "authorized, search by description", path: "/projects", tok: u.Token, q: []string{"search", "ZEBRA" + tag}, want: []int{a.ID}, access: true},
		{name: "authorized, search by namespace name", path: "/projects", tok: u.Token, q: []string{"search", grp.Name}, want: []int{b.ID}, access: true},
		{name: "owned: the personal namespace only", path: "/projects/owned", tok: u.Token, want: []int{a.ID}, access: true},
		{name: "starred: no permissions", path: "/projects/starred", tok: u.Token, want: []int{d.ID, c.ID}},
		{name: "starred, search", path: "/projects/starred", tok: u.Token, q: []string{"search", tag + "d"}, want: []int{d.ID}},
		{name: "all, as admin", path: "/projects/all", tok: env.rootToken, q: []string{"search", tag}, want: []int{f.ID, e.ID, d.ID, c.ID, b.ID, a.ID}, access: true},
		{name: "all, as admin, public only", path: "/projects/all", tok: env.rootToken, q: []string{"search", tag, "visibility", "public"}, want: []int{d.ID}, access: true},
		// /projects/search: authorized plus every internal and public project, id order by default.
		{name: "search", path: "/projects/search/" + tag, tok: u.Token, want: []int{a.ID, b.ID, c.ID, d.ID, e.ID}},
		{name: "search, desc", path: "/projects/search/" + tag, tok: u.Token, q: []string{"sort", "desc"}, want: []int{e.ID, d.ID, c.ID, b.ID, a.ID}},
		{name: "search, by name desc", path: "/projects/search/" + tag, tok: u.Token, q: []string{"order_by", "name", "sort", "desc"}, want: []int{e.ID, d.ID, c.ID, b.ID, a.ID}},
		{name: "search as another user", path: "/projects/search/" + tag, tok: o.Token, want: []int{b.ID, c.ID, d.ID, e.ID, f.ID}},
		// 8.7 included internal projects even for an external user here.
		{name: "search as an external user", path: "/projects/search/" + tag, tok: external.Token, want: []int{b.ID, d.ID, e.ID}},
		// name LIKE '%query%': case-sensitive, and _ matches any one character.
		{name: "search is case-sensitive", path: "/projects/search/" + strings.ToUpper(tag), tok: u.Token, want: nil},
		{name: "search: _ is a wildcard", path: "/projects/search/" + tag[:len(tag)-1] + "_d", tok: u.Token, want: []int{d.ID}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, row.path, token(row.tok), query(append(row.q, "per_page", "100")...))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			list := decode[[]obj](t, r.body)
			if got := ids(list); !sameInts(got, row.want) {
				t.Errorf("ids = %v, want %v", got, row.want)
			}
			for _, p := range list {
				if row.access {
					wantFields(t, p, "permissions")
				} else {
					wantNoFields(t, p, "permissions")
				}
				wantNoFields(t, p, "runners_token")
			}
		})
	}
	t.Run("authorized: the caller's permissions", func(t *testing.T) {
		list := decode[[]obj](t, do(t, http.MethodGet, "/projects", token(u.Token)).body)
		for _, p := range list {
			switch num(p, "id") {
			case a.ID:
				wantPermissions(t, p, accessMaster, 0)
			case b.ID:
				wantPermissions(t, p, 0, accessOwner)
			case c.ID:
				wantPermissions(t, p, accessDeveloper, 0)
			}
		}
	})
	t.Run("pagination", func(t *testing.T) {
		for _, pg := range []struct{ page, items int }{{1, 2}, {2, 1}} {
			r := do(t, http.MethodGet, "/projects", token(u.Token), query("per_page", "2", "page", itoa(pg.page)))
			if !wantStatus(t, r, http.StatusOK) {
				continue
			}
			if n := len(decode[[]obj](t, r.body)); n != pg.items {
				t.Errorf("page %d: %d items, want %d", pg.page, n, pg.items)
			}
			wantPage(t, r, page{path: "/projects", page: pg.page, perPage: 2, total: 3, pages: 2})
		}
	})
	t.Run("all, as non-admin", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/all", token(u.Token)), http.StatusForbidden, forbidden403)
		wantError(t, do(t, http.MethodGet, "/projects/all", token(u.Token), query("order_by", "bogus")), http.StatusForbidden, forbidden403)
	})
	for _, path := range []string{"/projects", "/projects/owned", "/projects/starred", "/projects/all", "/projects/search/" + tag} {
		for _, bad := range []struct{ param, value string }{{"order_by", "bogus"}, {"sort", "up"}, {"visibility", "secret"}, {"archived", "maybe"}} {
			if strings.HasPrefix(path, "/projects/search/") && (bad.param == "visibility" || bad.param == "archived") {
				continue // search takes neither
			}
			t.Run(path+" "+bad.param+"="+bad.value, func(t *testing.T) {
				r := do(t, http.MethodGet, path, token(env.rootToken), query(bad.param, bad.value))
				wantError(t, r, http.StatusBadRequest, `{"message":{"`+bad.param+`":["is invalid"]}}`)
			})
		}
	}
	t.Run("/projects/search order_by=path is not an option", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/search/"+tag, token(u.Token), query("order_by", "path")),
			http.StatusBadRequest, `{"message":{"order_by":["is invalid"]}}`)
	})
}

func TestStarProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	fan, fan2, outsider := newUser(t), newUser(t), newUser(t)
	p := newProject(t, own.Token, "visibility_level", "10")
	priv := newProject(t, own.Token)

	steps := []struct {
		name      string
		method    string
		tok       string
		id        string
		status    int
		starCount int // on success
	}{
		{"owner stars", http.MethodPost, own.Token, p.idPath(), 201, 1},
		{"owner stars again: 304", http.MethodPost, own.Token, p.idPath(), 304, 0},
		{"another user stars, by path", http.MethodPost, fan.Token, p.encoded(), 201, 2},
		{"a third user stars", http.MethodPost, fan2.Token, p.idPath(), 201, 3},
		{"owner unstars", http.MethodDelete, own.Token, p.idPath(), 200, 2},
		{"owner unstars again: 304", http.MethodDelete, own.Token, p.idPath(), 304, 0},
		{"a user who never starred unstars: 304", http.MethodDelete, outsider.Token, p.encoded(), 304, 0},
		{"another user unstars, by path", http.MethodDelete, fan.Token, p.encoded(), 200, 1},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := do(t, s.method, "/projects/"+s.id+"/star", token(s.tok))
			if !wantStatus(t, r, s.status) {
				return
			}
			if s.status == http.StatusNotModified {
				if len(r.body) != 0 {
					t.Errorf("304 body = %q, want none", r.body)
				}
				return
			}
			got := decode[obj](t, r.body)
			wantField(t, got, "id", p.ID)
			wantField(t, got, "star_count", s.starCount)
			wantNoFields(t, got, "runners_token", "permissions")
		})
	}
	t.Run("the count reads back", func(t *testing.T) {
		wantField(t, getProject(t, own.Token, p.ID), "star_count", 1)
	})
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		t.Run(method+" on a private project of another user", func(t *testing.T) {
			wantError(t, do(t, method, "/projects/"+priv.idPath()+"/star", token(outsider.Token)), http.StatusNotFound, projectNotFound)
		})
		t.Run(method+" on an unknown project", func(t *testing.T) {
			wantError(t, do(t, method, "/projects/999999999/star", token(outsider.Token)), http.StatusNotFound, projectNotFound)
		})
	}
}

func TestForkProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	forker, forker2, guest, reporter, outsider := newUser(t), newUser(t), newUser(t), newUser(t), newUser(t)
	none := newUser(t, "projects_limit", "0")
	pub := newProject(t, own.Token, "visibility_level", "20", "description", "the source")
	internal := newProject(t, own.Token, "visibility_level", "10")
	priv := newProject(t, own.Token)
	addMember(t, "projects", priv.ID, guest.ID, accessGuest)
	addMember(t, "projects", priv.ID, reporter.ID, accessReporter)

	wantFork := func(t *testing.T, r response, src testProject, by testUser) {
		t.Helper()
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "name", src.Name)
		wantField(t, got, "path", src.Path)
		wantField(t, got, "path_with_namespace", by.Username+"/"+src.Path)
		wantField(t, got, "visibility_level", src.Visibility)
		wantField(t, got, "creator_id", by.ID)
		wantRunnersToken(t, got, true)
		if owner, ok := got["owner"].(obj); !ok || num(owner, "id") != by.ID {
			t.Errorf("owner = %v, want the forker %d", got["owner"], by.ID)
		}
		from, ok := got["forked_from_project"].(obj)
		if !ok {
			t.Fatalf("forked_from_project = %v, want the source", got["forked_from_project"])
		}
		wantJSON(t, mustJSON(t, from), `{"id":`+src.idPath()+`,"name":"`+src.Name+`","name_with_namespace":"`+own.Username+` / `+src.Name+
			`","path":"`+src.Path+`","path_with_namespace":"`+src.PathWithNamespace+`"}`)
	}

	t.Run("a public project, by a non-member", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/fork/"+pub.idPath(), token(forker.Token))
		wantFork(t, r, pub, forker)
		if r.status == http.StatusCreated {
			wantField(t, decode[obj](t, r.body), "description", "the source")
		}
	})
	t.Run("by path", func(t *testing.T) {
		wantFork(t, do(t, http.MethodPost, "/projects/fork/"+pub.encoded(), token(forker2.Token)), pub, forker2)
	})
	t.Run("the source counts its forks", func(t *testing.T) {
		wantField(t, getProject(t, own.Token, pub.ID), "forks_count", 2)
	})
	t.Run("an internal project, by a non-member", func(t *testing.T) {
		wantFork(t, do(t, http.MethodPost, "/projects/fork/"+internal.idPath(), token(forker.Token)), internal, forker)
	})
	t.Run("a private project, by a reporter", func(t *testing.T) {
		wantFork(t, do(t, http.MethodPost, "/projects/fork/"+priv.idPath(), token(reporter.Token)), priv, reporter)
	})
	t.Run("twice: 409 with the model's errors", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/fork/"+pub.idPath(), token(forker.Token)), http.StatusConflict,
			`{"message":{"name":["has already been taken"],"path":["has already been taken"]}}`)
	})
	t.Run("project limit reached: 409", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/fork/"+pub.idPath(), token(none.Token)), http.StatusConflict,
			`{"message":{"limit_reached":["Personal project creation is not allowed. Please contact your administrator with questions"]}}`)
	})
	t.Run("a private project, by a guest", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/fork/"+priv.idPath(), token(guest.Token)), http.StatusForbidden, forbidden403)
	})
	t.Run("a private project, by a non-member", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/fork/"+priv.encoded(), token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})
	t.Run("an unknown project", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/fork/999999999", token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})
}

func TestForkRelation(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, outsider := newUser(t), newUser(t)
	src := newProject(t, own.Token)
	fork := newProject(t, own.Token)
	other := newProject(t, own.Token)
	addMember(t, "projects", fork.ID, master.ID, accessMaster)

	t.Run("admin links a fork", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+fork.idPath()+"/fork/"+src.idPath(), token(env.rootToken))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantFields(t, got, "id")
		wantField(t, got, "forked_to_project_id", fork.ID)
		wantField(t, got, "forked_from_project_id", src.ID)
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "updated_at")
		back := getProject(t, own.Token, fork.ID)
		if from, ok := back["forked_from_project"].(obj); !ok || num(from, "id") != src.ID {
			t.Errorf("forked_from_project = %v, want project %d", back["forked_from_project"], src.ID)
		}
	})
	for _, row := range []struct {
		name, path, tok string
		status          int
		body            string
	}{
		{"already a fork", "/projects/" + fork.idPath() + "/fork/" + other.idPath(), env.rootToken, 409, `{"message":"Project already forked"}`},
		{"already a fork, by path", "/projects/" + fork.encoded() + "/fork/" + other.idPath(), env.rootToken, 409, `{"message":"Project already forked"}`},
		{"unknown source", "/projects/" + other.idPath() + "/fork/999999999", env.rootToken, 404, `{"message":"404 Source Project Not Found"}`},
		{"unknown project", "/projects/999999999/fork/" + src.idPath(), env.rootToken, 404, projectNotFound},
		// 8.7 looked the source up first.
		{"unknown project and unknown source", "/projects/999999999/fork/999999998", env.rootToken, 404, `{"message":"404 Source Project Not Found"}`},
		{"non-numeric source", "/projects/" + other.idPath() + "/fork/" + src.Path, env.rootToken, 404, recordNotFound},
		{"the owner is not an admin", "/projects/" + other.idPath() + "/fork/" + src.idPath(), own.Token, 403, forbidden403},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, row.path, token(row.tok)), row.status, row.body)
		})
	}
	t.Run("the refused link was not made", func(t *testing.T) {
		wantNoFields(t, getProject(t, own.Token, other.ID), "forked_from_project")
	})

	for _, row := range []struct {
		name, tok string
		status    int
		body      string
	}{
		{"master", master.Token, 403, forbidden403},
		{"non-member", outsider.Token, 404, projectNotFound},
	} {
		t.Run("delete relation: "+row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodDelete, "/projects/"+fork.idPath()+"/fork", token(row.tok)), row.status, row.body)
		})
	}
	t.Run("delete relation: owner", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/projects/"+fork.encoded()+"/fork", token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "forked_to_project_id", fork.ID)
			wantField(t, got, "forked_from_project_id", src.ID)
		}
		wantNoFields(t, getProject(t, own.Token, fork.ID), "forked_from_project")
	})
	t.Run("delete relation again: null", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/projects/"+fork.idPath()+"/fork", token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
	})
	t.Run("delete relation: admin", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/projects/"+other.idPath()+"/fork", token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `null`)
		}
	})
}

func TestArchiveProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, outsider := newUser(t), newUser(t)
	grpOwner := newUser(t)
	grp := newGroup(t, grpOwner.Token)
	p := newProject(t, own.Token)
	gp := newProject(t, grpOwner.Token, "namespace_id", grp.idPath())
	addMember(t, "projects", p.ID, master.ID, accessMaster)

	for _, s := range []struct {
		name, action, tok, id string
		archived              bool
	}{
		{"owner archives", "archive", own.Token, p.idPath(), true},
		{"owner archives again", "archive", own.Token, p.encoded(), true},
		{"owner unarchives", "unarchive", own.Token, p.idPath(), false},
		{"owner unarchives again", "unarchive", own.Token, p.encoded(), false},
		{"admin archives", "archive", env.rootToken, p.idPath(), true},
		{"admin unarchives", "unarchive", env.rootToken, p.idPath(), false},
		{"group owner archives", "archive", grpOwner.Token, gp.idPath(), true},
		{"group owner unarchives", "unarchive", grpOwner.Token, gp.idPath(), false},
	} {
		t.Run(s.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/projects/"+s.id+"/"+s.action, token(s.tok))
			if !wantStatus(t, r, http.StatusCreated) {
				return
			}
			got := decode[obj](t, r.body)
			wantField(t, got, "archived", s.archived)
			wantRunnersToken(t, got, false)
			wantNoFields(t, got, "permissions")
		})
	}
	for _, action := range []string{"archive", "unarchive"} {
		t.Run(action+": master", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, "/projects/"+p.idPath()+"/"+action, token(master.Token)), http.StatusForbidden, forbidden403)
		})
		t.Run(action+": non-member", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, "/projects/"+p.idPath()+"/"+action, token(outsider.Token)), http.StatusNotFound, projectNotFound)
		})
	}
	t.Run("still unarchived", func(t *testing.T) {
		wantField(t, getProject(t, own.Token, p.ID), "archived", false)
	})
}

func TestShareProject(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider, reader := newUser(t), newUser(t), newUser(t), newUser(t)
	p := newProject(t, own.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	g1 := newGroup(t, env.rootToken)
	g2 := newGroup(t, env.rootToken)
	g3 := newGroup(t, env.rootToken)
	addMember(t, "groups", g1.ID, reader.ID, accessReporter)

	t.Run("before the share, a member of the group cannot see the project", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/"+p.idPath(), token(reader.Token)), http.StatusNotFound, projectNotFound)
	})
	t.Run("owner shares", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/share", token(own.Token), formBody("group_id", g1.idPath(), "group_access", "30"))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantFields(t, got, "id")
		wantField(t, got, "project_id", p.ID)
		wantField(t, got, "group_id", g1.ID)
		wantField(t, got, "group_access", 30)
	})
	t.Run("the group's members see the project", func(t *testing.T) {
		wantStatus(t, do(t, http.MethodGet, "/projects/"+p.idPath(), token(reader.Token)), http.StatusOK)
	})
	t.Run("master shares, by path, JSON", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+p.encoded()+"/share", token(master.Token), jsonBody(map[string]any{"group_id": g2.ID, "group_access": 10}))
		if wantStatus(t, r, http.StatusCreated) {
			wantField(t, decode[obj](t, r.body), "group_access", 10)
		}
	})
	for _, row := range []struct {
		name   string
		tok    string
		form   []string
		status int
		body   string
		field  string
	}{
		{name: "already shared", tok: own.Token, form: []string{"group_id", g1.idPath(), "group_access", "20"}, status: 409, body: `{"message":"Group already shared with this group"}`},
		{name: "a level outside 10..40", tok: own.Token, form: []string{"group_id", g3.idPath(), "group_access", "35"}, status: 409, body: `{"message":"Group access is not included in the list"}`},
		{name: "owner level is not shareable", tok: own.Token, form: []string{"group_id", g3.idPath(), "group_access", "50"}, status: 409, body: `{"message":"Group access is not included in the list"}`},
		{name: "group_id not a number", tok: own.Token, form: []string{"group_id", "abc", "group_access", "30"}, status: 400, field: "group_id"},
		{name: "developer", tok: dev.Token, form: []string{"group_id", g3.idPath(), "group_access", "30"}, status: 403, body: forbidden403},
		{name: "non-member", tok: outsider.Token, form: []string{"group_id", g3.idPath(), "group_access", "30"}, status: 404, body: projectNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/share", token(row.tok), formBody(row.form...))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else {
				wantValidation(t, r, row.field, "")
			}
		})
	}
}

// pngBytes is a 1x1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

var uploadURLRE = regexp.MustCompile(`^/uploads/[0-9a-f]{32}/`)

func TestUploadProjectFile(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	outsider := newUser(t)
	p := newProject(t, own.Token)
	pub := newProject(t, own.Token, "visibility_level", "20")

	var firstURL string
	for _, row := range []struct {
		name, tok, id, file string
		alt                 string
		image               bool
	}{
		{"an image", own.Token, p.idPath(), "dk.png", "dk", true},
		{"the same name again", own.Token, p.idPath(), "dk.png", "dk", true},
		{"a text file, by path", own.Token, p.encoded(), "notes.txt", "notes.txt", false},
		{"a public project, by a non-member", outsider.Token, pub.idPath(), "shot.png", "shot", true},
	} {
		t.Run(row.name, func(t *testing.T) {
			content := pngBytes
			if !row.image {
				content = []byte("some notes\n")
			}
			r := do(t, http.MethodPost, "/projects/"+row.id+"/uploads", token(row.tok), multipartFile(t, "file", row.file, content))
			if !wantStatus(t, r, http.StatusCreated) {
				return
			}
			got := decode[obj](t, r.body)
			u := str(got, "url")
			if !uploadURLRE.MatchString(u) || !strings.HasSuffix(u, "/"+row.file) {
				t.Errorf("url = %q, want /uploads/<32 hex>/%s", u, row.file)
			}
			wantField(t, got, "alt", row.alt)
			wantField(t, got, "is_image", row.image)
			md := "[" + row.alt + "](" + u + ")"
			if row.image {
				md = "!" + md
			}
			wantField(t, got, "markdown", md)
			if row.name == "an image" {
				firstURL = u
			} else if u == firstURL {
				t.Errorf("url = %q, the same as the first upload's; want a new secret", u)
			}
		})
	}
	for _, row := range []struct {
		name string
		opts []reqOpt
	}{
		{"no body", nil},
		{"a multipart body without a file", []reqOpt{multipartFile(t, "file", "", nil, "note", "no file here")}},
		{"the file under another field name", []reqOpt{multipartFile(t, "attachment", "dk.png", pngBytes)}},
	} {
		t.Run(row.name+": null", func(t *testing.T) {
			r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/uploads", append([]reqOpt{token(own.Token)}, row.opts...)...)
			if wantStatus(t, r, http.StatusCreated) {
				wantJSON(t, r.body, `null`)
			}
		})
	}
	t.Run("a private project, by a non-member", func(t *testing.T) {
		r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/uploads", token(outsider.Token), multipartFile(t, "file", "dk.png", pngBytes))
		wantError(t, r, http.StatusNotFound, projectNotFound)
	})
}

func TestProjectUsers(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	dev, rep, outsider := newUser(t), newUser(t), newUser(t)
	p := newProject(t, own.Token)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	addMember(t, "projects", p.ID, rep.ID, accessReporter)
	grpOwner, grpDev := newUser(t), newUser(t)
	grp := newGroup(t, grpOwner.Token)
	addMember(t, "groups", grp.ID, grpDev.ID, accessDeveloper)
	gp := newProject(t, grpOwner.Token, "namespace_id", grp.idPath(), "visibility_level", "10")
	addMember(t, "projects", gp.ID, dev.ID, accessReporter)

	list := func(t *testing.T, tok, id string, q ...string) ([]obj, response) {
		r := do(t, http.MethodGet, "/projects/"+id+"/users", token(tok), query(q...))
		if !wantStatus(t, r, http.StatusOK) {
			return nil, r
		}
		return decode[[]obj](t, r.body), r
	}
	t.Run("the team", func(t *testing.T) {
		got, r := list(t, dev.Token, p.idPath())
		if got == nil {
			return
		}
		want := []int{own.ID, dev.ID, rep.ID}
		if g := ids(got); len(g) != 3 || !containsInt(g, own.ID) || !containsInt(g, dev.ID) || !containsInt(g, rep.ID) {
			t.Errorf("ids = %v, want %v", g, want)
		}
		for _, u := range got {
			wantFields(t, u, "id", "username", "name", "state", "avatar_url", "web_url")
			wantNoFields(t, u, "email", "access_level", "private_token")
		}
		wantPage(t, r, page{path: "/projects/" + p.idPath() + "/users", page: 1, perPage: 20, total: 3, pages: 1})
	})
	t.Run("search", func(t *testing.T) {
		got, _ := list(t, own.Token, p.encoded(), "search", strings.ToUpper(rep.Username))
		if g := ids(got); len(g) != 1 || g[0] != rep.ID {
			t.Errorf("ids = %v, want [%d]", g, rep.ID)
		}
	})
	t.Run("pagination", func(t *testing.T) {
		got, r := list(t, own.Token, p.idPath(), "per_page", "2", "page", "2")
		if len(got) != 1 {
			t.Errorf("%d users on page 2, want 1", len(got))
		}
		wantPage(t, r, page{path: "/projects/" + p.idPath() + "/users", page: 2, perPage: 2, total: 3, pages: 2})
	})
	// The project team: its members and the members of its group.
	t.Run("a group project: group members too", func(t *testing.T) {
		got, _ := list(t, outsider.Token, gp.idPath())
		for _, id := range []int{grpOwner.ID, grpDev.ID, dev.ID} {
			if !containsInt(ids(got), id) {
				t.Errorf("ids = %v, want them to include %d", ids(got), id)
			}
		}
	})
	t.Run("a private project, by a non-member", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/"+p.idPath()+"/users", token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})
}

func TestProjectEvents(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	member, outsider := newUser(t), newUser(t)
	p := newProject(t, own.Token)
	addMember(t, "projects", p.ID, member.ID, accessDeveloper)
	if r := do(t, http.MethodDelete, "/projects/"+p.idPath()+"/members/"+member.idPath(), token(own.Token)); r.status != http.StatusOK {
		t.Fatalf("remove member: %s", r)
	}

	for _, id := range []string{p.idPath(), p.encoded()} {
		t.Run("created, joined, left: newest first, by "+id, func(t *testing.T) {
			r := do(t, http.MethodGet, "/projects/"+id+"/events", token(own.Token))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			got := decode[[]obj](t, r.body)
			want := []struct {
				action string
				author testUser
			}{{"left", member}, {"joined", member}, {"created", own}}
			if len(got) != len(want) {
				t.Fatalf("%d events, want %d: %s", len(got), len(want), r.body)
			}
			for i, w := range want {
				e := got[i]
				wantField(t, e, "action_name", w.action)
				wantField(t, e, "project_id", p.ID)
				wantField(t, e, "author_id", w.author.ID)
				wantField(t, e, "author_username", w.author.Username)
				for _, k := range []string{"title", "target_id", "target_type", "target_title", "data"} {
					wantField(t, e, k, nil)
				}
				wantTimestamp(t, e, "created_at")
				wantNoFields(t, e, "note")
				if a, ok := e["author"].(obj); !ok || num(a, "id") != w.author.ID || str(a, "username") != w.author.Username {
					t.Errorf("event %d author = %v, want user %s", i, e["author"], w.author.Username)
				}
			}
			wantPage(t, r, page{path: "/projects/" + id + "/events", page: 1, perPage: 20, total: 3, pages: 1})
		})
	}
	t.Run("pagination", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(own.Token), query("per_page", "1", "page", "3"))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[[]obj](t, r.body)
			if len(got) != 1 || str(got[0], "action_name") != "created" {
				t.Errorf("page 3 = %s, want the created event", r.body)
			}
			wantPage(t, r, page{path: "/projects/" + p.idPath() + "/events", page: 3, perPage: 1, total: 3, pages: 3})
		}
	})
	t.Run("a private project, by a non-member", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})
}
