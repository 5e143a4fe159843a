package conformance

// Groups and their members (doc/api/groups.md; endpoints.tsv rows for
// /groups; entities.md "Group", "GroupDetail", "GroupMember").

import (
	"net/http"
	"testing"
	"time"
)

const groupNotFound = `{"message":"404 Group Not Found"}`

// wantGroup checks a Group entity.
func wantGroup(t testing.TB, got obj, g testGroup, description string, visibility int) {
	t.Helper()
	wantField(t, got, "id", g.ID)
	wantField(t, got, "name", g.Name)
	wantField(t, got, "path", g.Path)
	wantField(t, got, "description", description)
	wantField(t, got, "visibility_level", visibility)
	wantField(t, got, "avatar_url", nil)
	wantField(t, got, "web_url", env.base+"/groups/"+g.Path)
}

// groupMemberLevel is a user's level in a group, as root (0: not a member).
func groupMemberLevel(t testing.TB, groupID, userID int) int {
	t.Helper()
	r := do(t, http.MethodGet, "/groups/"+itoa(groupID)+"/members", token(env.rootToken))
	if r.status != http.StatusOK {
		t.Fatalf("list group members: %s", r)
	}
	for _, m := range decode[[]obj](t, r.body) {
		if num(m, "id") == userID {
			return num(m, "access_level")
		}
	}
	return 0
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	noGroups := newUser(t, "can_create_group", "false")
	taken := newGroup(t, u.Token)

	t.Run("the creator becomes its owner", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/groups", token(u.Token), formBody("name", "Group "+n, "path", n, "description", "about", "visibility_level", "10"))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		g := testGroup{ID: num(got, "id"), Name: "Group " + n, Path: n}
		wantGroup(t, got, g, "about", visInternal)
		wantNoFields(t, got, "projects")
		if lvl := groupMemberLevel(t, g.ID, u.ID); lvl != accessOwner {
			t.Errorf("the creator's level = %d, want %d", lvl, accessOwner)
		}
	})
	t.Run("defaults, JSON, as admin", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPost, "/groups", token(env.rootToken), jsonBody(map[string]string{"name": n, "path": n}))
		if wantStatus(t, r, http.StatusCreated) {
			got := decode[obj](t, r.body)
			wantGroup(t, got, testGroup{ID: num(got, "id"), Name: n, Path: n}, "", visPrivate)
		}
	})
	t.Run("an admin may create groups without can_create_group", func(t *testing.T) {
		admin := newUser(t, "admin", "true", "can_create_group", "false")
		n := uniqueName(t)
		wantStatus(t, do(t, http.MethodPost, "/groups", token(admin.Token), formBody("name", n, "path", n)), http.StatusCreated)
	})

	other := createUser(t)
	for _, row := range []struct {
		name   string
		tok    string
		form   []string
		status int
		body   string
		field  string
	}{
		{name: "path taken by a group", form: []string{"name", uniqueName(t), "path", taken.Path}, status: 400,
			body: `{"message":"Failed to save group {:path=>[\"has already been taken\"]}"}`},
		{name: "path taken by a user", form: []string{"name", uniqueName(t), "path", other.Username}, status: 400,
			body: `{"message":"Failed to save group {:path=>[\"has already been taken\"]}"}`},
		{name: "name taken", form: []string{"name", taken.Name, "path", uniqueName(t)}, status: 400,
			body: `{"message":"Failed to save group {:name=>[\"has already been taken\"]}"}`},
		{name: "visibility_level not a number", form: []string{"name", uniqueName(t), "path", uniqueName(t), "visibility_level", "high"}, status: 400, field: "visibility_level"},
		{name: "a user who may not create groups", tok: noGroups.Token, form: []string{"name", uniqueName(t), "path", uniqueName(t)}, status: 403, body: forbidden403},
	} {
		t.Run(row.name, func(t *testing.T) {
			tok := row.tok
			if tok == "" {
				tok = u.Token
			}
			r := do(t, http.MethodPost, "/groups", token(tok), formBody(row.form...))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else {
				wantValidation(t, r, row.field, "")
			}
			for i := 0; i+1 < len(row.form); i += 2 {
				if row.form[i] == "path" && row.form[i+1] != taken.Path && row.form[i+1] != other.Username {
					if got := do(t, http.MethodGet, "/groups/"+row.form[i+1], token(env.rootToken)); got.status != http.StatusNotFound {
						t.Errorf("GET /groups/%s = %d after the rejected create, want 404", row.form[i+1], got.status)
					}
				}
			}
		})
	}
}

func TestListGroups(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	member := newUser(t)
	loner := newUser(t)
	g1 := newGroup(t, u.Token)
	g2 := newGroup(t, u.Token, "visibility_level", "20")
	addMember(t, "groups", g2.ID, member.ID, accessGuest)

	for _, row := range []struct {
		name string
		tok  string
		q    []string
		want []int
	}{
		{"the owner's groups", u.Token, nil, []int{g1.ID, g2.ID}},
		{"a member's groups", member.Token, nil, []int{g2.ID}},
		// Not the public groups one merely can see.
		{"a user in no group", loner.Token, nil, nil},
		{"search by path", u.Token, []string{"search", g2.Path}, []int{g2.ID}},
		{"admin sees every group", env.rootToken, []string{"search", g1.Path}, []int{g1.ID}},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, "/groups", token(row.tok), query(row.q...))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			list := decode[[]obj](t, r.body)
			if got := ids(list); !sameInts(got, row.want) {
				t.Errorf("ids = %v, want %v", got, row.want)
			}
			for _, g := range list {
				wantFields(t, g, "id", "name", "path", "description", "visibility_level", "avatar_url", "web_url")
				wantNoFields(t, g, "projects")
			}
			if len(row.want) > 0 {
				wantPage(t, r, page{path: "/groups", page: 1, perPage: 20, total: len(row.want), pages: 1, params: urlValues(row.q...)})
			}
		})
	}
	t.Run("pagination", func(t *testing.T) {
		r := do(t, http.MethodGet, "/groups", token(u.Token), query("per_page", "1", "page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if got := ids(decode[[]obj](t, r.body)); !sameInts(got, []int{g2.ID}) {
				t.Errorf("ids = %v, want [%d]", got, g2.ID)
			}
			wantPage(t, r, page{path: "/groups", page: 2, perPage: 1, total: 2, pages: 2})
		}
	})
}

func TestGetGroup(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	dev, outsider := newUser(t), newUser(t)
	external := newUser(t, "external", "true")
	priv := newGroup(t, own.Token, "description", "secret things")
	internal := newGroup(t, own.Token, "visibility_level", "10")
	public := newGroup(t, own.Token, "visibility_level", "20")
	withPublicProject := newGroup(t, own.Token)
	addMember(t, "groups", priv.ID, dev.ID, accessDeveloper)
	pp := newProject(t, own.Token, "namespace_id", priv.idPath())
	hidden := newProject(t, own.Token, "namespace_id", withPublicProject.idPath())
	shown := newProject(t, own.Token, "namespace_id", withPublicProject.idPath(), "visibility_level", "20")

	for _, row := range []struct {
		name, tok, id string
		g             testGroup
		desc          string
		vis           int
		projects      []int
	}{
		{"a member, by id", dev.Token, priv.idPath(), priv, "secret things", visPrivate, []int{pp.ID}},
		{"a member, by path", dev.Token, priv.Path, priv, "secret things", visPrivate, []int{pp.ID}},
		{"admin", env.rootToken, priv.idPath(), priv, "secret things", visPrivate, []int{pp.ID}},
		{"internal group, non-member", outsider.Token, internal.idPath(), internal, "", visInternal, nil},
		{"public group, external user", external.Token, public.Path, public, "", visPublic, nil},
		// Readable through a visible project; and every project is listed.
		{"private group with a public project, non-member", outsider.Token, withPublicProject.idPath(), withPublicProject, "", visPrivate, []int{hidden.ID, shown.ID}},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, "/groups/"+row.id, token(row.tok))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			got := decode[obj](t, r.body)
			wantGroup(t, got, row.g, row.desc, row.vis)
			projects, ok := got["projects"].([]any)
			if !ok {
				t.Fatalf("projects = %v, want a list", got["projects"])
			}
			var gotIDs []int
			for _, p := range projects {
				po, _ := p.(obj)
				gotIDs = append(gotIDs, num(po, "id"))
				wantNoFields(t, po, "owner", "permissions", "runners_token")
			}
			if len(gotIDs) != len(row.projects) {
				t.Errorf("project ids = %v, want %v", gotIDs, row.projects)
			}
			for _, id := range row.projects {
				if !containsInt(gotIDs, id) {
					t.Errorf("project ids = %v, want them to include %d", gotIDs, id)
				}
			}
		})
	}
	for _, row := range []struct {
		name, tok, id string
	}{
		{"private group, non-member", outsider.Token, priv.idPath()},
		{"private group by path, non-member", outsider.Token, priv.Path},
		{"internal group, external user", external.Token, internal.idPath()},
		{"unknown id", own.Token, "999999999"},
		{"unknown path", own.Token, "no-such-group-" + env.runID},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, "/groups/"+row.id, token(row.tok)), http.StatusNotFound, groupNotFound)
		})
	}
}

func TestUpdateGroup(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, outsider := newUser(t), newUser(t)
	g := newGroup(t, own.Token, "visibility_level", "10")
	other := newGroup(t, own.Token)
	addMember(t, "groups", g.ID, master.ID, accessMaster)
	p := newProject(t, own.Token, "namespace_id", g.idPath(), "visibility_level", "10")

	t.Run("owner: every field", func(t *testing.T) {
		n := uniqueName(t)
		r := do(t, http.MethodPut, "/groups/"+g.idPath(), token(own.Token), formBody("name", "New "+n, "path", n, "description", "changed", "visibility_level", "20"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		g.Name, g.Path = "New "+n, n
		wantGroup(t, got, g, "changed", visPublic)
		projects, _ := got["projects"].([]any)
		if len(projects) != 1 || num(projects[0].(obj), "id") != p.ID {
			t.Errorf("projects = %v, want [%d]", got["projects"], p.ID)
		}
	})
	t.Run("admin, by path, JSON", func(t *testing.T) {
		r := do(t, http.MethodPut, "/groups/"+g.Path, token(env.rootToken), jsonBody(map[string]any{"description": "by root"}))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "description", "by root")
		}
	})
	for _, row := range []struct {
		name   string
		tok    string
		id     string
		form   []string
		status int
		body   string
	}{
		{name: "path taken", tok: own.Token, form: []string{"path", other.Path}, status: 400, body: `{"message":{"path":["has already been taken"]}}`},
		{name: "less visible than a project", tok: own.Token, form: []string{"visibility_level", "0"}, status: 400,
			body: `{"message":{"visibility_level":["private is not allowed since there are projects with higher visibility."]}}`},
		{name: "a master of the group", tok: master.Token, form: []string{"description", "x"}, status: 403, body: forbidden403},
		{name: "non-member of a public group", tok: outsider.Token, form: []string{"description", "x"}, status: 403, body: forbidden403},
		{name: "non-member of a private group", tok: outsider.Token, id: other.idPath(), form: []string{"description", "x"}, status: 404, body: groupNotFound},
		{name: "unknown group", tok: own.Token, id: "999999999", form: []string{"description", "x"}, status: 404, body: groupNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			id := row.id
			if id == "" {
				id = g.idPath()
			}
			wantError(t, do(t, http.MethodPut, "/groups/"+id, token(row.tok), formBody(row.form...)), row.status, row.body)
			r := do(t, http.MethodGet, "/groups/"+g.idPath(), token(own.Token))
			if wantStatus(t, r, http.StatusOK) {
				wantGroup(t, decode[obj](t, r.body), g, "by root", visPublic)
			}
		})
	}
	t.Run("visibility_level not a number", func(t *testing.T) {
		wantValidation(t, do(t, http.MethodPut, "/groups/"+g.idPath(), token(own.Token), formBody("visibility_level", "high")), "visibility_level", "")
	})
}

func TestDeleteGroup(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, outsider := newUser(t), newUser(t)
	g := newGroup(t, own.Token, "visibility_level", "20", "description", "doomed")
	addMember(t, "groups", g.ID, master.ID, accessMaster)
	p := newProject(t, own.Token, "namespace_id", g.idPath())

	for _, row := range []struct {
		name, tok, id string
		status        int
		body          string
	}{
		{"a master of the group", master.Token, g.idPath(), 403, forbidden403},
		{"non-member of a public group", outsider.Token, g.Path, 403, forbidden403},
		{"unknown group", own.Token, "999999999", 404, groupNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodDelete, "/groups/"+row.id, token(row.tok)), row.status, row.body)
			wantStatus(t, do(t, http.MethodGet, "/groups/"+g.idPath(), token(own.Token)), http.StatusOK)
		})
	}
	t.Run("non-member of a private group", func(t *testing.T) {
		priv := newGroup(t, own.Token)
		wantError(t, do(t, http.MethodDelete, "/groups/"+priv.idPath(), token(outsider.Token)), http.StatusNotFound, groupNotFound)
	})
	t.Run("owner: the group's record", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/groups/"+g.idPath(), token(own.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "id", g.ID)
		wantField(t, got, "name", g.Name)
		wantField(t, got, "path", g.Path)
		wantField(t, got, "type", "Group")
		wantField(t, got, "description", "doomed")
		wantField(t, got, "visibility_level", visPublic)
		wantFields(t, got, "owner_id", "avatar", "share_with_group_lock")
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "updated_at")
		wantError(t, do(t, http.MethodGet, "/groups/"+g.idPath(), token(own.Token)), http.StatusNotFound, groupNotFound)
		if !eventually(10*time.Second, func() bool {
			return do(t, http.MethodGet, "/projects/"+p.idPath(), token(env.rootToken)).status == http.StatusNotFound
		}) {
			t.Errorf("the group's project %d is still there", p.ID)
		}
	})
	t.Run("admin, by path", func(t *testing.T) {
		g2 := newGroup(t, own.Token)
		wantStatus(t, do(t, http.MethodDelete, "/groups/"+g2.Path, token(env.rootToken)), http.StatusOK)
	})
}

func TestGroupProjects(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	dev, outsider := newUser(t), newUser(t)
	external := newUser(t, "external", "true")
	g := newGroup(t, own.Token, "visibility_level", "20")
	addMember(t, "groups", g.ID, dev.ID, accessDeveloper)
	mk := func(extra ...string) testProject {
		return newProject(t, own.Token, append([]string{"namespace_id", g.idPath()}, extra...)...)
	}
	priv := mk()
	internal := mk("visibility_level", "10")
	public := mk("visibility_level", "20", "description", "needle")
	archived := mk("visibility_level", "20")
	if r := do(t, http.MethodPost, "/projects/"+archived.idPath()+"/archive", token(own.Token)); r.status != http.StatusCreated {
		t.Fatalf("archive: %s", r)
	}
	projectMember := newUser(t)
	addMember(t, "projects", priv.ID, projectMember.ID, accessGuest)

	path := "/groups/" + g.idPath() + "/projects"
	for _, row := range []struct {
		name string
		tok  string
		id   string
		q    []string
		want []int
	}{
		{name: "a group member sees every project", tok: dev.Token, want: []int{archived.ID, public.ID, internal.ID, priv.ID}},
		{name: "by path", tok: dev.Token, id: g.Path, want: []int{archived.ID, public.ID, internal.ID, priv.ID}},
		{name: "a non-member: public and internal", tok: outsider.Token, want: []int{archived.ID, public.ID, internal.ID}},
		{name: "an external user: public", tok: external.Token, want: []int{archived.ID, public.ID}},
		{name: "a member of one private project", tok: projectMember.Token, want: []int{archived.ID, public.ID, internal.ID, priv.ID}},
		{name: "admin, not a member: the visible ones", tok: env.rootToken, want: []int{archived.ID, public.ID, internal.ID}},
		{name: "oldest first", tok: dev.Token, q: []string{"sort", "asc"}, want: []int{priv.ID, internal.ID, public.ID, archived.ID}},
		{name: "archived only", tok: dev.Token, q: []string{"archived", "true"}, want: []int{archived.ID}},
		{name: "private only", tok: dev.Token, q: []string{"visibility", "private"}, want: []int{priv.ID}},
		{name: "search the description", tok: dev.Token, q: []string{"search", "NEEDLE"}, want: []int{public.ID}},
		{name: "search the name", tok: dev.Token, q: []string{"search", internal.Name}, want: []int{internal.ID}},
	} {
		t.Run(row.name, func(t *testing.T) {
			p := path
			if row.id != "" {
				p = "/groups/" + row.id + "/projects"
			}
			r := do(t, http.MethodGet, p, token(row.tok), query(row.q...))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			list := decode[[]obj](t, r.body)
			if got := ids(list); !sameInts(got, row.want) {
				t.Errorf("ids = %v, want %v", got, row.want)
			}
			for _, pr := range list {
				wantNoFields(t, pr, "permissions", "owner", "runners_token")
			}
		})
	}
	t.Run("pagination", func(t *testing.T) {
		r := do(t, http.MethodGet, path, token(dev.Token), query("per_page", "3", "page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if got := ids(decode[[]obj](t, r.body)); !sameInts(got, []int{priv.ID}) {
				t.Errorf("ids = %v, want [%d]", got, priv.ID)
			}
			wantPage(t, r, page{path: path, page: 2, perPage: 3, total: 4, pages: 2})
		}
	})
	for _, bad := range []struct{ param, value string }{{"order_by", "bogus"}, {"sort", "up"}, {"visibility", "secret"}, {"archived", "maybe"}} {
		t.Run(bad.param+"="+bad.value, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, path, token(dev.Token), query(bad.param, bad.value)), http.StatusBadRequest,
				`{"message":{"`+bad.param+`":["is invalid"]}}`)
		})
	}
	t.Run("a private group, non-member", func(t *testing.T) {
		pg := newGroup(t, own.Token)
		wantError(t, do(t, http.MethodGet, "/groups/"+pg.idPath()+"/projects", token(outsider.Token)), http.StatusNotFound, groupNotFound)
	})
	// 8.7's GroupProjectsFinder: the group's projects and those shared with it.
	t.Run("projects shared with the group", func(t *testing.T) {
		sg := newGroup(t, own.Token)
		inGroup := newProject(t, own.Token, "namespace_id", sg.idPath())
		sharer := newUser(t)
		shared := newProject(t, sharer.Token)
		if r := do(t, http.MethodPost, "/projects/"+shared.idPath()+"/share", token(sharer.Token),
			formBody("group_id", sg.idPath(), "group_access", "30")); r.status != http.StatusCreated {
			t.Fatalf("share: %s", r)
		}
		r := do(t, http.MethodGet, "/groups/"+sg.idPath()+"/projects", token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			if got := ids(decode[[]obj](t, r.body)); !sameInts(got, []int{shared.ID, inGroup.ID}) {
				t.Errorf("ids = %v, want [%d %d]", got, shared.ID, inGroup.ID)
			}
		}
	})
}

func TestTransferProjectToGroup(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	g := newGroup(t, own.Token, "description", "target")
	g2 := newGroup(t, own.Token)
	p := newProject(t, own.Token)
	clash := newProject(t, own.Token, "path", p.Path+"x")
	inG2 := newProject(t, own.Token, "namespace_id", g2.idPath(), "name", uniqueName(t), "path", clash.Path)

	t.Run("admin transfers", func(t *testing.T) {
		r := do(t, http.MethodPost, "/groups/"+g.idPath()+"/projects/"+p.idPath(), token(env.rootToken))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "id", g.ID)
		wantField(t, got, "name", g.Name)
		wantField(t, got, "path", g.Path)
		wantField(t, got, "type", "Group")
		wantField(t, got, "description", "target")
		wantFields(t, got, "owner_id", "created_at", "updated_at", "avatar", "share_with_group_lock", "visibility_level")
		back := getProject(t, own.Token, p.ID)
		wantField(t, back, "path_with_namespace", g.Path+"/"+p.Path)
		wantNoFields(t, back, "owner")
	})
	const invalid = `{"message":"Failed to transfer project {:new_namespace=>[\"is invalid\"]}"}`
	for _, row := range []struct {
		name, path, tok string
		status          int
		body            string
	}{
		{"unknown group", "/groups/999999999/projects/" + clash.idPath(), env.rootToken, 400, invalid},
		{"a group given by path", "/groups/" + g.Path + "/projects/" + clash.idPath(), env.rootToken, 400, invalid},
		{"the project's own group", "/groups/" + g.idPath() + "/projects/" + p.idPath(), env.rootToken, 400, invalid},
		{"a project of the same path in the group", "/groups/" + g2.idPath() + "/projects/" + clash.idPath(), env.rootToken, 400,
			`{"message":"Failed to transfer project {:new_namespace=>[\"Project with same path in target namespace already exists\"]}"}`},
		{"unknown project", "/groups/" + g.idPath() + "/projects/999999999", env.rootToken, 404, recordNotFound},
		{"unknown project, unknown group", "/groups/999999999/projects/999999999", env.rootToken, 404, recordNotFound},
		{"non-numeric project", "/groups/" + g.idPath() + "/projects/" + clash.Path, env.rootToken, 404, recordNotFound},
		{"the group's owner is not an admin", "/groups/" + g.idPath() + "/projects/" + clash.idPath(), own.Token, 403, forbidden403},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, row.path, token(row.tok)), row.status, row.body)
			wantField(t, getProject(t, own.Token, clash.ID), "path_with_namespace", own.Username+"/"+clash.Path)
		})
	}
	t.Run("the project in the target group is unchanged", func(t *testing.T) {
		wantField(t, getProject(t, own.Token, inG2.ID), "path_with_namespace", g2.Path+"/"+clash.Path)
	})
}

func TestGroupMembers(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	dev, outsider := newUser(t), newUser(t)
	candidate, stranger := createUser(t), createUser(t)
	g := newGroup(t, own.Token, "visibility_level", "10")
	priv := newGroup(t, own.Token)
	addMember(t, "groups", g.ID, dev.ID, accessDeveloper)
	members := "/groups/" + g.idPath() + "/members"

	t.Run("list: not paginated", func(t *testing.T) {
		r := do(t, http.MethodGet, members, token(outsider.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[[]obj](t, r.body)
		want := map[int]struct {
			u     testUser
			level int
		}{own.ID: {own, accessOwner}, dev.ID: {dev, accessDeveloper}}
		if len(got) != len(want) {
			t.Errorf("%d members, want %d: %s", len(got), len(want), r.body)
		}
		for _, m := range got {
			if w, ok := want[num(m, "id")]; ok {
				wantMember(t, m, w.u, w.level)
			} else {
				t.Errorf("unexpected member %v", m["username"])
			}
		}
		if v := r.header.Get("X-Total"); v != "" {
			t.Errorf("X-Total = %q, want no pagination headers", v)
		}
	})
	t.Run("list by path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/groups/"+g.Path+"/members", token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			if n := len(decode[[]obj](t, r.body)); n != 2 {
				t.Errorf("%d members, want 2", n)
			}
		}
	})
	t.Run("list: a private group, non-member", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, "/groups/"+priv.idPath()+"/members", token(outsider.Token)), http.StatusNotFound, groupNotFound)
	})

	for _, row := range []struct {
		name   string
		tok    string
		id     string
		user   string
		level  string
		status int
		body   string
		member testUser
		after  int
	}{
		{name: "owner adds", tok: own.Token, user: candidate.idPath(), level: "20", status: 201, member: candidate, after: accessReporter},
		{name: "again: Already exists", tok: own.Token, user: candidate.idPath(), level: "30", status: 409, body: `{"message":"Already exists"}`, member: candidate, after: accessReporter},
		{name: "an invalid level", tok: own.Token, user: stranger.idPath(), level: "35", status: 422, body: `{"message":"Wrong access level"}`, member: stranger},
		{name: "an invalid level for a member: the level first", tok: own.Token, user: candidate.idPath(), level: "35", status: 422,
			body: `{"message":"Wrong access level"}`, member: candidate, after: accessReporter},
		{name: "an unknown user", tok: own.Token, user: "999999999", level: "30", status: 404, body: `{"message":"404 User Not Found"}`, member: stranger},
		{name: "a developer of the group", tok: dev.Token, user: stranger.idPath(), level: "30", status: 403, body: forbidden403, member: stranger},
		{name: "non-member of an internal group", tok: outsider.Token, user: stranger.idPath(), level: "30", status: 403, body: forbidden403, member: stranger},
		{name: "non-member of a private group", tok: outsider.Token, id: priv.idPath(), user: stranger.idPath(), level: "30", status: 404, body: groupNotFound, member: stranger},
		{name: "admin, by path", tok: env.rootToken, id: g.Path, user: stranger.idPath(), level: "50", status: 201, member: stranger, after: accessOwner},
	} {
		t.Run("add: "+row.name, func(t *testing.T) {
			id := row.id
			if id == "" {
				id = g.idPath()
			}
			r := do(t, http.MethodPost, "/groups/"+id+"/members", token(row.tok), formBody("user_id", row.user, "access_level", row.level))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else if wantStatus(t, r, row.status) {
				wantMember(t, decode[obj](t, r.body), row.member, row.after)
			}
			if got := groupMemberLevel(t, g.ID, row.member.ID); got != row.after {
				t.Errorf("level afterwards = %d, want %d", got, row.after)
			}
		})
	}

	for _, row := range []struct {
		name   string
		tok    string
		id     string
		user   testUser
		level  string
		status int
		body   string
		after  int
	}{
		{name: "owner changes a level", tok: own.Token, user: candidate, level: "40", status: 200, after: accessMaster},
		{name: "admin, by path, JSON", tok: env.rootToken, id: g.Path, user: candidate, level: "30", status: 200, after: accessDeveloper},
		{name: "an invalid level", tok: own.Token, user: candidate, level: "35", status: 422, body: `["is not included in the list"]`, after: accessDeveloper},
		{name: "a non-member", tok: own.Token, user: outsider, level: "30", status: 404, body: `{"message":"404 User can not be found Not Found"}`},
		{name: "a developer of the group", tok: dev.Token, user: candidate, level: "10", status: 403, body: forbidden403, after: accessDeveloper},
		{name: "non-member of a private group", tok: outsider.Token, id: priv.idPath(), user: own, level: "10", status: 404, body: groupNotFound, after: 0},
	} {
		t.Run("update: "+row.name, func(t *testing.T) {
			id := row.id
			if id == "" {
				id = g.idPath()
			}
			var body reqOpt = formBody("access_level", row.level)
			if row.id == g.Path {
				body = jsonBody(map[string]any{"access_level": atoi(t, row.level)})
			}
			r := do(t, http.MethodPut, "/groups/"+id+"/members/"+row.user.idPath(), token(row.tok), body)
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else if wantStatus(t, r, row.status) {
				wantMember(t, decode[obj](t, r.body), row.user, row.after)
			}
			if row.id == "" {
				if got := groupMemberLevel(t, g.ID, row.user.ID); got != row.after {
					t.Errorf("level afterwards = %d, want %d", got, row.after)
				}
			}
		})
	}
	t.Run("update: a non-numeric user id", func(t *testing.T) {
		wantError(t, do(t, http.MethodPut, members+"/abc", token(own.Token), formBody("access_level", "30")), http.StatusNotFound, recordNotFound)
	})

	for _, row := range []struct {
		name   string
		tok    string
		id     string
		user   testUser
		status int
		body   string
	}{
		{name: "a developer removes a member", tok: dev.Token, user: candidate, status: 403, body: forbidden403},
		{name: "a developer removes itself", tok: dev.Token, user: dev, status: 403, body: forbidden403},
		{name: "a non-member", tok: own.Token, user: outsider, status: 404,
			body: `{"message":"404 Not Found - user_id:` + outsider.idPath() + ` not a member of group ` + g.Name + `"}`},
		{name: "non-member of a private group", tok: outsider.Token, id: priv.idPath(), user: own, status: 404, body: groupNotFound},
		{name: "a non-numeric user id", tok: own.Token, status: 404, body: recordNotFound},
	} {
		t.Run("remove: "+row.name, func(t *testing.T) {
			id := row.id
			if id == "" {
				id = g.idPath()
			}
			user := row.user.idPath()
			if row.user.ID == 0 {
				user = "abc"
			}
			wantError(t, do(t, http.MethodDelete, "/groups/"+id+"/members/"+user, token(row.tok)), row.status, row.body)
		})
	}
	t.Run("remove: owner removes a member", func(t *testing.T) {
		r := do(t, http.MethodDelete, members+"/"+candidate.idPath(), token(own.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantFields(t, got, "id")
			wantField(t, got, "access_level", accessDeveloper)
			wantField(t, got, "source_id", g.ID)
			wantField(t, got, "source_type", "Namespace")
			wantField(t, got, "user_id", candidate.ID)
			wantField(t, got, "notification_level", 3)
			wantTimestamp(t, got, "created_at")
			wantTimestamp(t, got, "updated_at")
		}
		if got := groupMemberLevel(t, g.ID, candidate.ID); got != 0 {
			t.Errorf("still a member at %d", got)
		}
	})
	t.Run("remove: again, not idempotent", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/groups/"+g.Path+"/members/"+candidate.idPath(), token(own.Token)), http.StatusNotFound,
			`{"message":"404 Not Found - user_id:`+candidate.idPath()+` not a member of group `+g.Name+`"}`)
	})
	t.Run("a member reads the group's projects through membership", func(t *testing.T) {
		pp := newProject(t, own.Token, "namespace_id", priv.idPath())
		addMember(t, "groups", priv.ID, outsider.ID, accessGuest)
		r := do(t, http.MethodGet, "/projects/"+pp.idPath(), token(outsider.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantPermissions(t, decode[obj](t, r.body), 0, accessGuest)
		}
	})
}
