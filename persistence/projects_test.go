package persistence_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, []struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{
		{"CreateProject", testCreateProject},
		{"ProjectValidation", testProjectValidation},
		{"ProjectLimit", testProjectLimit},
		{"ProjectAccess", testProjectAccess},
		{"ProjectLists", testProjectLists},
		{"StarsAndForks", testStarsAndForks},
		{"Groups", testGroups},
		{"Members", testMembers},
		{"Hooks", testHooks},
		{"DeployKeys", testDeployKeys},
		{"DeleteCascades", testDeleteCascades},
	}...)
}

func userNamespace(t *testing.T, s *persistence.Store, u *persistence.User) int64 {
	t.Helper()
	nss, _, err := s.ListNamespaces(context.Background(), persistence.NamespaceFilter{UserID: &u.ID, Search: u.Username}, persistence.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nss {
		if !n.IsGroup() && n.Path == u.Username {
			return n.ID
		}
	}
	t.Fatalf("no namespace for %s", u.Username)
	return 0
}

func newProject(t *testing.T, s *persistence.Store, owner *persistence.User, nsID int64, name string, mod ...func(*persistence.NewProject)) *persistence.Project {
	t.Helper()
	np := persistence.NewProject{Name: &name, NamespaceID: nsID, CreatorID: owner.ID}
	for _, m := range mod {
		m(&np)
	}
	p, err := s.CreateProject(context.Background(), np)
	if err != nil {
		t.Fatalf("CreateProject %s: %v", name, err)
	}
	return p
}

func level(v int) *int { return &v }

func testCreateProject(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "My Project")
	if p.Path != "my-project" || p.PathWithNamespace() != u.Username+"/my-project" || p.NameWithNamespace() != u.Username+" / My Project" {
		t.Errorf("got path %q, with namespace %q, %q", p.Path, p.PathWithNamespace(), p.NameWithNamespace())
	}
	if p.VisibilityLevel != persistence.VisibilityPrivate || !p.IssuesEnabled || p.SnippetsEnabled || len(p.RunnersToken) != 20 {
		t.Errorf("defaults: %+v", p)
	}
	got, err := s.FindProject(ctx, u.Username+"/MY-PROJECT")
	if err != nil || got.ID != p.ID {
		t.Fatalf("by path: %v %v", got, err)
	}
	if got, err := s.FindProject(ctx, fmt.Sprint(p.ID)); err != nil || got.ID != p.ID {
		t.Fatalf("by id: %v %v", got, err)
	}
	for _, ref := range []string{"nope/nope", "999999", "abc"} {
		if _, err := s.FindProject(ctx, ref); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", ref, err)
		}
	}
	// The creator of a personal project is its master; the namespace owner is its owner.
	a, err := s.ProjectAccess(ctx, u.ID, p)
	if err != nil || a.Level != persistence.AccessOwner || a.ProjectMember == nil || a.ProjectMember.AccessLevel != persistence.AccessMaster {
		t.Errorf("creator access: %+v %v", a, err)
	}
	events, total, err := s.ListProjectEvents(ctx, p.ID, persistence.Page{Limit: 10})
	if err != nil || total != 1 || events[0].Action != persistence.EventCreated || events[0].AuthorID != u.ID {
		t.Errorf("events: %+v %d %v", events, total, err)
	}
}

func testProjectValidation(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	ns := userNamespace(t, s, u)
	newProject(t, s, u, ns, "taken")
	for _, tc := range []struct {
		name, path, field, msg string
	}{
		{"taken", "other", "name", "has already been taken"},
		{"Other", "taken", "path", "has already been taken"},
		{"-bad", "ok", "name", "can contain only letters, digits, '_', '.', dash and space. It must start with letter, digit or '_'."},
		{"ok2", "bad.git", "path", "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.git'"},
	} {
		name, path := tc.name, tc.path
		_, err := s.CreateProject(ctx, persistence.NewProject{Name: &name, Path: &path, NamespaceID: ns, CreatorID: u.ID})
		wantValidation(t, err, tc.field, tc.msg)
	}
	_, err := s.CreateProject(ctx, persistence.NewProject{Name: str("vis"), NamespaceID: ns, CreatorID: u.ID, VisibilityLevel: level(5)})
	wantValidation(t, err, "visibility_level", "is not included in the list")
	if n, _ := s.PersonalProjectCount(ctx, u.ID); n != 1 {
		t.Errorf("got %d projects after rejected creates, want 1", n)
	}
}

func testProjectLimit(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	zero, one := 0, 1
	u := newUser(t, s, func(p *persistence.UserParams) { p.ProjectsLimit = &one })
	ns := userNamespace(t, s, u)
	newProject(t, s, u, ns, "first")
	_, err := s.CreateProject(ctx, persistence.NewProject{Name: str("second"), NamespaceID: ns, CreatorID: u.ID})
	var limit *persistence.ErrProjectLimit
	if !errors.As(err, &limit) || limit.Message != "Your project limit is 1 projects! Please contact your administrator to increase it" {
		t.Errorf("got %v", err)
	}
	v := newUser(t, s, func(p *persistence.UserParams) { p.ProjectsLimit = &zero })
	_, err = s.CreateProject(ctx, persistence.NewProject{Name: str("none"), NamespaceID: userNamespace(t, s, v), CreatorID: v.ID})
	if !errors.As(err, &limit) || limit.Message != "Personal project creation is not allowed. Please contact your administrator with questions" {
		t.Errorf("got %v", err)
	}
	// The limit does not apply in a group.
	g, err := s.CreateGroup(ctx, v.ID, persistence.GroupParams{Name: str("Limitless"), Path: str("limitless")})
	if err != nil {
		t.Fatal(err)
	}
	newProject(t, s, v, g.ID, "in-group")
}

func testProjectAccess(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	owner, member, groupie, sharee, stranger := newUser(t, s), newUser(t, s), newUser(t, s), newUser(t, s), newUser(t, s)
	g, err := s.CreateGroup(ctx, owner.ID, persistence.GroupParams{Name: str("Team"), Path: str("team")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateGroup(ctx, owner.ID, persistence.GroupParams{Name: str("Partners"), Path: str("partners")})
	if err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s, owner, g.ID, "app")
	mustAdd := func(typ string, src, user int64, lvl int) {
		if _, err := s.AddMember(ctx, typ, src, user, lvl, owner.ID); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(persistence.SourceProject, p.ID, member.ID, persistence.AccessDeveloper)
	mustAdd(persistence.SourceNamespace, g.ID, groupie.ID, persistence.AccessReporter)
	mustAdd(persistence.SourceNamespace, other.ID, sharee.ID, persistence.AccessMaster)
	if _, err := s.ShareProject(ctx, p.ID, other.ID, persistence.AccessDeveloper); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		user *persistence.User
		want int
	}{
		{"group owner", owner, persistence.AccessOwner},
		{"project member", member, persistence.AccessDeveloper},
		{"group member", groupie, persistence.AccessReporter},
		{"shared group's master, capped at the share", sharee, persistence.AccessDeveloper},
		{"stranger", stranger, persistence.AccessNone},
	} {
		a, err := s.ProjectAccess(ctx, tc.user.ID, p)
		if err != nil || a.Level != tc.want {
			t.Errorf("%s: got %d %v, want %d", tc.name, a.Level, err, tc.want)
		}
	}
	if _, err := s.ShareProject(ctx, p.ID, other.ID, persistence.AccessDeveloper); err == nil {
		t.Error("sharing twice: got nil error")
	}
	_, err = s.ShareProject(ctx, p.ID, g.ID, persistence.AccessOwner)
	wantValidation(t, err, "group_access", "is not included in the list")
}

func testProjectLists(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, other := newUser(t, s), newUser(t, s)
	mine := newProject(t, s, u, userNamespace(t, s, u), "mine")
	public := newProject(t, s, other, userNamespace(t, s, other), "public-one", func(np *persistence.NewProject) { np.VisibilityLevel = level(persistence.VisibilityPublic) })
	internal := newProject(t, s, other, userNamespace(t, s, other), "internal-one", func(np *persistence.NewProject) { np.VisibilityLevel = level(persistence.VisibilityInternal) })
	private := newProject(t, s, other, userNamespace(t, s, other), "private-one")
	if _, err := s.AddMember(ctx, persistence.SourceProject, private.ID, u.ID, persistence.AccessGuest, other.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(f persistence.ProjectFilter) map[int64]bool {
		t.Helper()
		ps, total, err := s.ListProjects(ctx, f, persistence.Page{Limit: 100})
		if err != nil || int(total) != len(ps) {
			t.Fatalf("%+v: %d/%d %v", f, len(ps), total, err)
		}
		m := map[int64]bool{}
		for _, p := range ps {
			m[p.ID] = true
		}
		return m
	}
	want := func(name string, got map[int64]bool, in []int64, out []int64) {
		t.Helper()
		for _, id := range in {
			if !got[id] {
				t.Errorf("%s: missing project %d", name, id)
			}
		}
		for _, id := range out {
			if got[id] {
				t.Errorf("%s: has project %d", name, id)
			}
		}
	}
	want("authorized", ids(persistence.ProjectFilter{Scope: "authorized", UserID: u.ID}), []int64{mine.ID, private.ID}, []int64{public.ID, internal.ID})
	want("owned", ids(persistence.ProjectFilter{Scope: "owned", UserID: u.ID}), []int64{mine.ID}, []int64{private.ID})
	want("visible", ids(persistence.ProjectFilter{Scope: "visible", UserID: u.ID}), []int64{mine.ID, private.ID, public.ID, internal.ID}, nil)
	want("visible, external", ids(persistence.ProjectFilter{Scope: "visible", UserID: u.ID, External: true}), []int64{public.ID}, []int64{internal.ID})
	want("all", ids(persistence.ProjectFilter{Scope: "all"}), []int64{mine.ID, public.ID, internal.ID, private.ID}, nil)
	want("search", ids(persistence.ProjectFilter{Scope: "all", Search: "ONE"}), []int64{public.ID, internal.ID}, []int64{mine.ID})
	want("visibility", ids(persistence.ProjectFilter{Scope: "all", Visibility: level(persistence.VisibilityInternal)}), []int64{internal.ID}, []int64{public.ID})
	if _, err := s.SetArchived(ctx, mine.ID, true); err != nil {
		t.Fatal(err)
	}
	yes := true
	want("archived", ids(persistence.ProjectFilter{Scope: "authorized", UserID: u.ID, Archived: &yes}), []int64{mine.ID}, []int64{private.ID})
	ps, _, _ := s.ListProjects(ctx, persistence.ProjectFilter{Scope: "all", Order: persistence.ProjectOrder{By: "name", Asc: true}}, persistence.Page{Limit: 2})
	if len(ps) != 2 || ps[0].Name != "internal-one" || ps[1].Name != "mine" {
		t.Errorf("order by name: got %v", ps)
	}
}

func testStarsAndForks(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "starry")
	for i, want := range []bool{true, false} {
		if got, err := s.Star(ctx, u.ID, p.ID); err != nil || got != want {
			t.Errorf("star %d: got %v %v, want %v", i, got, err, want)
		}
	}
	if got, _ := s.GetProject(ctx, p.ID); got.StarCount != 1 {
		t.Errorf("star_count %d, want 1", got.StarCount)
	}
	if ps, _, _ := s.ListProjects(ctx, persistence.ProjectFilter{Scope: "starred", UserID: u.ID}, persistence.Page{Limit: 5}); len(ps) != 1 {
		t.Errorf("starred: %d", len(ps))
	}
	for i, want := range []bool{true, false} {
		if got, err := s.Unstar(ctx, u.ID, p.ID); err != nil || got != want {
			t.Errorf("unstar %d: got %v %v, want %v", i, got, err, want)
		}
	}
	if got, _ := s.GetProject(ctx, p.ID); got.StarCount != 0 {
		t.Errorf("star_count %d, want 0", got.StarCount)
	}

	v := newUser(t, s)
	fork := newProject(t, s, v, userNamespace(t, s, v), "starry", func(np *persistence.NewProject) { np.ForkedFromID = &p.ID })
	rel, err := s.ProjectRelations(ctx, v.ID, []persistence.Project{*fork, *p})
	if err != nil || rel.ForkedFrom[fork.ID] == nil || rel.ForkedFrom[fork.ID].ID != p.ID || rel.Forks[p.ID] != 1 {
		t.Fatalf("relations: %+v %v", rel, err)
	}
	if rel.Owners[v.ID] == nil || rel.Owners[u.ID] == nil || rel.ProjectMembers[fork.ID] == nil {
		t.Errorf("owners/members: %+v", rel)
	}
	if _, err := s.CreateForkRelation(ctx, fork.ID, p.ID); !errors.Is(err, persistence.ErrAlreadyForked) {
		t.Errorf("second fork relation: %v", err)
	}
	if link, err := s.DeleteForkRelation(ctx, fork.ID); err != nil || link == nil || link.ForkedFromProjectID != p.ID {
		t.Errorf("delete relation: %+v %v", link, err)
	}
	if link, err := s.DeleteForkRelation(ctx, fork.ID); err != nil || link != nil {
		t.Errorf("delete again: %+v %v, want nil nil", link, err)
	}
	if link, err := s.CreateForkRelation(ctx, fork.ID, p.ID); err != nil || link.ForkedToProjectID != fork.ID {
		t.Errorf("relation again: %+v %v", link, err)
	}
}

func testGroups(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, other := newUser(t, s), newUser(t, s)
	g, err := s.CreateGroup(ctx, u.ID, persistence.GroupParams{Name: str("Group One"), Path: str("group-one")})
	if err != nil {
		t.Fatal(err)
	}
	if lvl, _ := s.GroupAccess(ctx, u.ID, g.ID); lvl != persistence.AccessOwner {
		t.Errorf("creator level %d, want owner", lvl)
	}
	_, err = s.CreateGroup(ctx, u.ID, persistence.GroupParams{Name: str("Group Two"), Path: str("GROUP-ONE")})
	wantValidation(t, err, "path", "has already been taken")
	_, err = s.CreateGroup(ctx, u.ID, persistence.GroupParams{Name: str("Other"), Path: &other.Username})
	wantValidation(t, err, "path", "has already been taken")
	_, err = s.CreateGroup(ctx, u.ID, persistence.GroupParams{Name: str("Group One"), Path: str("x")})
	wantValidation(t, err, "name", "has already been taken")
	for _, ref := range []string{"group-one", fmt.Sprint(g.ID)} {
		if got, err := s.FindGroup(ctx, ref); err != nil || got.ID != g.ID {
			t.Errorf("find %s: %v %v", ref, got, err)
		}
	}
	list, total, _ := s.ListGroups(ctx, persistence.GroupFilter{MemberID: &other.ID}, persistence.Page{Limit: 10})
	if total != 0 || len(list) != 0 {
		t.Errorf("other's groups: %d", total)
	}
	p := newProject(t, s, u, g.ID, "public-app", func(np *persistence.NewProject) { np.VisibilityLevel = level(persistence.VisibilityPublic) })
	if ok, _ := s.GroupHasVisibleProjects(ctx, g.ID, other.ID, false); !ok {
		t.Error("a public project should make the group readable")
	}
	_, err = s.UpdateGroup(ctx, g.ID, persistence.GroupParams{VisibilityLevel: level(persistence.VisibilityPrivate)})
	wantValidation(t, err, "visibility_level", "private is not allowed since there are projects with higher visibility.")
	// Transfer a personal project into the group.
	mine := newProject(t, s, u, userNamespace(t, s, u), "moving")
	if err := s.TransferProject(ctx, mine.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetProject(ctx, mine.ID); got.PathWithNamespace() != "group-one/moving" {
		t.Errorf("after transfer: %s", got.PathWithNamespace())
	}
	deleted, projects, err := s.DeleteGroup(ctx, g.ID)
	if err != nil || deleted.ID != g.ID || len(projects) != 2 {
		t.Fatalf("delete group: %v %d %v", deleted, len(projects), err)
	}
	if _, err := s.GetProject(ctx, p.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("group project after delete: %v", err)
	}
}

func testMembers(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, m := newUser(t, s), newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "team")
	added, err := s.AddMember(ctx, persistence.SourceProject, p.ID, m.ID, persistence.AccessDeveloper, u.ID)
	if err != nil || added.User.ID != m.ID || added.AccessLevel != persistence.AccessDeveloper {
		t.Fatalf("add: %+v %v", added, err)
	}
	if _, err := s.AddMember(ctx, persistence.SourceProject, p.ID, m.ID, persistence.AccessGuest, u.ID); !errors.Is(err, persistence.ErrMemberExists) {
		t.Errorf("add again: %v", err)
	}
	_, err = s.AddMember(ctx, persistence.SourceProject, p.ID, newUser(t, s).ID, 35, u.ID)
	wantValidation(t, err, "access_level", "is not included in the list")
	if _, err := s.AddMember(ctx, persistence.SourceProject, p.ID, 999999, persistence.AccessGuest, u.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	list, total, err := s.ListMembers(ctx, persistence.SourceProject, p.ID, m.Username, persistence.Page{Limit: 10})
	if err != nil || total != 1 || list[0].User.Username != m.Username {
		t.Errorf("search: %+v %d %v", list, total, err)
	}
	if up, err := s.UpdateMember(ctx, persistence.SourceProject, p.ID, m.ID, persistence.AccessMaster); err != nil || up.AccessLevel != persistence.AccessMaster {
		t.Errorf("update: %+v %v", up, err)
	}
	if _, err := s.RemoveMember(ctx, persistence.SourceProject, p.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMember(ctx, persistence.SourceProject, p.ID, m.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("after remove: %v", err)
	}
	events, _, _ := s.ListProjectEvents(ctx, p.ID, persistence.Page{Limit: 10})
	if len(events) != 3 || events[0].Action != persistence.EventLeft || events[1].Action != persistence.EventJoined {
		t.Errorf("events: %+v", events)
	}
}

func testHooks(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "hooked")
	yes, no := true, false
	ph, err := s.CreateHook(ctx, &p.ID, persistence.HookParams{URL: str("http://127.0.0.1/p"), IssuesEvents: &yes, EnableSSLVerification: &no})
	if err != nil || ph.Type != persistence.ProjectHookType || !ph.PushEvents || !ph.IssuesEvents || ph.EnableSSLVerification {
		t.Fatalf("project hook: %+v %v", ph, err)
	}
	sh, err := s.CreateHook(ctx, nil, persistence.HookParams{URL: str("http://127.0.0.1/s")})
	if err != nil || sh.Type != persistence.SystemHookType {
		t.Fatalf("system hook: %+v %v", sh, err)
	}
	if hs, _ := s.HooksFor(ctx, &p.ID, "issues_events"); len(hs) != 1 || hs[0].ID != ph.ID {
		t.Errorf("issues hooks: %+v", hs)
	}
	if hs, _ := s.HooksFor(ctx, &p.ID, "note_events"); len(hs) != 0 {
		t.Errorf("note hooks: %+v", hs)
	}
	if hs, _ := s.HooksFor(ctx, nil, ""); len(hs) != 1 || hs[0].ID != sh.ID {
		t.Errorf("system hooks: %+v", hs)
	}
	if _, err := s.GetHook(ctx, nil, ph.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("a project hook is no system hook: %v", err)
	}
	up, err := s.UpdateProjectHook(ctx, p.ID, ph.ID, persistence.HookParams{URL: str("http://127.0.0.1/q"), PushEvents: &no})
	if err != nil || up.URL != "http://127.0.0.1/q" || up.PushEvents || !up.IssuesEvents {
		t.Errorf("update: %+v %v", up, err)
	}
	if _, err := s.DeleteHook(ctx, &p.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	if list, total, _ := s.ListHooks(ctx, &p.ID, persistence.Page{Limit: 10}); total != 0 || len(list) != 0 {
		t.Errorf("after delete: %d", total)
	}
}

func testDeployKeys(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	ns := userNamespace(t, s, u)
	a, b, c := newProject(t, s, u, ns, "a"), newProject(t, s, u, ns, "b"), newProject(t, s, u, ns, "c")
	text := sshKey(t)
	k, err := s.AddDeployKey(ctx, a.ID, "deploy", text, nil)
	if err != nil || k.Type == nil || *k.Type != persistence.DeployKeyType {
		t.Fatalf("add: %+v %v", k, err)
	}
	if again, err := s.AddDeployKey(ctx, a.ID, "deploy", text, nil); err != nil || again.ID != k.ID {
		t.Errorf("same key on the same project: %+v %v", again, err)
	}
	// The same key on another project the user can reach is linked, not copied.
	if linked, err := s.AddDeployKey(ctx, b.ID, "deploy", text, []int64{a.ID}); err != nil || linked.ID != k.ID {
		t.Errorf("link: %+v %v", linked, err)
	}
	_, err = s.AddDeployKey(ctx, c.ID, "deploy", text, nil)
	wantValidation(t, err, "fingerprint", "has already been taken")
	if keys, _ := s.ListDeployKeys(ctx, b.ID); len(keys) != 1 || keys[0].ID != k.ID {
		t.Errorf("b's keys: %+v", keys)
	}
	if userKeys, _ := s.ListUserKeys(ctx, u.ID); len(userKeys) != 0 {
		t.Errorf("a deploy key is not a user key: %+v", userKeys)
	}
	// 8.7 destroyed the key itself: it leaves b too.
	if _, err := s.RemoveDeployKey(ctx, a.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx, k.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("the key must be gone: %v", err)
	}
	if keys, _ := s.ListDeployKeys(ctx, b.ID); len(keys) != 0 {
		t.Errorf("b still has %d deploy keys", len(keys))
	}
}

func testDeleteCascades(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, m := newUser(t, s), newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "doomed")
	s.AddMember(ctx, persistence.SourceProject, p.ID, m.ID, persistence.AccessGuest, u.ID)
	s.Star(ctx, m.ID, p.ID)
	s.CreateHook(ctx, &p.ID, persistence.HookParams{URL: str("http://127.0.0.1/")})
	s.AddDeployKey(ctx, p.ID, "k", sshKey(t), nil)
	if _, err := s.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProject(ctx, p.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("project: %v", err)
	}
	if ps, _, _ := s.ListProjects(ctx, persistence.ProjectFilter{Scope: "starred", UserID: m.ID}, persistence.Page{Limit: 5}); len(ps) != 0 {
		t.Errorf("stars left: %d", len(ps))
	}
	// Deleting a user takes their personal projects.
	q := newProject(t, s, m, userNamespace(t, s, m), "personal")
	if _, _, err := s.DeleteUser(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProject(ctx, q.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("personal project after user delete: %v", err)
	}
}

func init() {
	storeTests = append(storeTests, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"AuthorizationsFollowChanges", testAuthorizationsFollowChanges})
}

// project_authorizations is derived data: after every kind of change, the
// "authorized" list must agree with ProjectAccess.
func testAuthorizationsFollowChanges(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	owner, groupie, sharee, loner := newUser(t, s), newUser(t, s), newUser(t, s), newUser(t, s)
	g, err := s.CreateGroup(ctx, owner.ID, persistence.GroupParams{Name: str("Core"), Path: str("core")})
	if err != nil {
		t.Fatal(err)
	}
	partners, err := s.CreateGroup(ctx, owner.ID, persistence.GroupParams{Name: str("Partners"), Path: str("partners")})
	if err != nil {
		t.Fatal(err)
	}
	inGroup := newProject(t, s, owner, g.ID, "in-group")
	personal := newProject(t, s, loner, userNamespace(t, s, loner), "personal")

	check := func(step string, u *persistence.User, want ...*persistence.Project) {
		t.Helper()
		got, _, err := s.ListProjects(ctx, persistence.ProjectFilter{Scope: "authorized", UserID: u.ID}, persistence.Page{})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int64]bool{}
		for _, p := range got {
			ids[p.ID] = true
		}
		for _, stale := range []*persistence.Project{inGroup, personal} {
			p, err := s.GetProject(ctx, stale.ID)
			if errors.Is(err, persistence.ErrNotFound) {
				if ids[stale.ID] {
					t.Errorf("%s: %s still lists deleted project %d", step, u.Username, stale.ID)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.ProjectAccess(ctx, u.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			if ids[p.ID] != (a.Level > 0) {
				t.Errorf("%s: %s listed=%v but access level %d", step, u.Username, ids[p.ID], a.Level)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %s sees %d projects, want %d", step, u.Username, len(got), len(want))
		}
	}
	check("start", owner, inGroup)
	check("start", loner, personal)
	check("start", groupie)

	s.AddMember(ctx, persistence.SourceNamespace, g.ID, groupie.ID, persistence.AccessDeveloper, owner.ID)
	check("group member added", groupie, inGroup)
	s.AddMember(ctx, persistence.SourceNamespace, partners.ID, sharee.ID, persistence.AccessMaster, owner.ID)
	check("member of an unrelated group", sharee)
	if _, err := s.ShareProject(ctx, inGroup.ID, partners.ID, persistence.AccessReporter); err != nil {
		t.Fatal(err)
	}
	check("shared with their group", sharee, inGroup)
	if err := s.TransferProject(ctx, personal.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	check("transferred into the group", groupie, inGroup, personal)
	// The creator stays a direct member (master) of the project.
	check("transferred out of their namespace", loner, personal)
	s.RemoveMember(ctx, persistence.SourceNamespace, g.ID, groupie.ID)
	check("group member removed", groupie)
	if _, _, err := s.DeleteGroup(ctx, partners.ID); err != nil {
		t.Fatal(err)
	}
	check("shared group deleted", sharee)
	s.RemoveMember(ctx, persistence.SourceProject, personal.ID, loner.ID)
	check("direct membership removed", loner)
	s.AddMember(ctx, persistence.SourceProject, personal.ID, loner.ID, persistence.AccessGuest, owner.ID)
	check("direct member again", loner, personal)
	if _, err := s.DeleteProject(ctx, personal.ID); err != nil {
		t.Fatal(err)
	}
	check("project deleted", loner)
	check("project deleted", owner, inGroup)
}
