package conformance

// Who may do what to a project (8.7's Ability, as endpoints.tsv states it
// per endpoint: read access, master+ (admin_project) or owner), as one
// table: roles × visibility × actions, for a personal and a group project;
// and 8.7's order of checks on operations marked x-params-after-access.

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// matrixRole is a caller of the permission matrix.
type matrixRole struct {
	name     string
	user     testUser // zero for admin
	tok      string
	level    int // access level in the project (through the group for a group project's owner)
	admin    bool
	external bool
	noLimit  bool // projects_limit is 0: a fork fails its validation
}

// cellIssues holds one issue per matrix project, opened by root on first use.
var cellIssues sync.Map

// cellIssue is the id of the matrix project's issue.
func cellIssue(t *testing.T, c matrixCell) string {
	t.Helper()
	if id, ok := cellIssues.Load(c.p.ID); ok {
		return id.(string)
	}
	id := itoa(num(newIssue(t, env.rootToken, c.p, "matrix"), "id"))
	cellIssues.Store(c.p.ID, id)
	return id
}

// matrixCell is one project of the matrix: a kind and a visibility.
type matrixCell struct {
	kind      string // "personal" or "group"
	vis       int
	p         testProject
	id        string   // how the rows address it: numeric for personal, namespace%2Fpath for group
	candidate testUser // added as a member by POST members
	newTwin   func(t *testing.T) testProject
	snippet   string // a public snippet of root's, with a note of root's
	note      string
}

func (r matrixRole) canRead(vis int) bool {
	return r.admin || r.level >= accessGuest || vis == visPublic || (vis == visInternal && !r.external)
}

// want* compute the expected status from the rules of endpoints.tsv.
func wantRead(ok int) func(matrixCell, matrixRole) int {
	return func(c matrixCell, r matrixRole) int {
		if !r.canRead(c.vis) {
			return http.StatusNotFound
		}
		return ok
	}
}

func wantMin(level, ok int) func(matrixCell, matrixRole) int {
	return func(c matrixCell, r matrixRole) int {
		switch {
		case !r.canRead(c.vis):
			return http.StatusNotFound
		case r.admin || r.level >= level:
			return ok
		}
		return http.StatusForbidden
	}
}

// wantFork: reporter and up, or anyone who can read a public or internal
// project; the fork itself then fails like a new project when the owner
// forks into the namespace that holds the source, or has no project left.
func wantFork(c matrixCell, r matrixRole) int {
	switch {
	case !r.canRead(c.vis):
		return http.StatusNotFound
	case !(r.admin || r.level >= accessReporter || c.vis != visPrivate):
		return http.StatusForbidden
	case c.kind == "personal" && r.name == "owner", r.noLimit:
		return http.StatusConflict
	}
	return http.StatusCreated
}

type matrixAction struct {
	name string
	want func(matrixCell, matrixRole) int
	do   func(t *testing.T, c matrixCell, r matrixRole, seq int) response
}

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	mk := func(extra ...string) testUser {
		return newUser(t, append([]string{"projects_limit", "100"}, extra...)...)
	}
	nsOwner, grpOwner := mk(), mk()
	master, developer, reporter, guest, outsider := mk(), mk(), mk(), mk(), mk()
	external := newUser(t, "external", "true")
	grp := newGroup(t, grpOwner.Token, "visibility_level", "20")
	// A user's fork fails when their project limit is 0 (external users' may be).
	externalNoLimit := num(getUserAsAdmin(t, external.ID), "projects_limit") == 0

	roles := func(kind string) []matrixRole {
		owner := matrixRole{name: "owner", user: nsOwner, tok: nsOwner.Token, level: accessOwner}
		if kind == "group" {
			owner = matrixRole{name: "owner", user: grpOwner, tok: grpOwner.Token, level: accessOwner}
		}
		return []matrixRole{
			{name: "admin", tok: env.rootToken, admin: true},
			owner,
			{name: "master", user: master, tok: master.Token, level: accessMaster},
			{name: "developer", user: developer, tok: developer.Token, level: accessDeveloper},
			{name: "reporter", user: reporter, tok: reporter.Token, level: accessReporter},
			{name: "guest", user: guest, tok: guest.Token, level: accessGuest},
			{name: "non-member", user: outsider, tok: outsider.Token},
			{name: "external", user: external, tok: external.Token, external: true, noLimit: externalNoLimit},
		}
	}
	// One group to share with per role, so that each share is new.
	shareWith := map[string]testGroup{}
	for _, r := range roles("personal") {
		shareWith[r.name] = newGroup(t, env.rootToken)
	}

	var cells []matrixCell
	for _, kind := range []string{"personal", "group"} {
		for _, vis := range []int{visPrivate, visInternal, visPublic} {
			c := matrixCell{kind: kind, vis: vis, candidate: createUser(t)}
			visField := []string{"visibility_level", itoa(vis), "snippets_enabled", "true"}
			if kind == "personal" {
				c.newTwin = func(t *testing.T) testProject { return newProject(t, nsOwner.Token, visField...) }
			} else {
				c.newTwin = func(t *testing.T) testProject {
					return newProject(t, grpOwner.Token, append([]string{"namespace_id", grp.idPath()}, visField...)...)
				}
			}
			c.p = c.newTwin(t)
			c.id = c.p.idPath()
			if kind == "group" {
				c.id = c.p.encoded()
			}
			for _, m := range []struct {
				u     testUser
				level int
			}{{master, accessMaster}, {developer, accessDeveloper}, {reporter, accessReporter}, {guest, accessGuest}} {
				addMember(t, "projects", c.p.ID, m.u.ID, m.level)
			}
			c.snippet = itoa(num(newSnippet(t, env.rootToken, c.p, visPublic), "id"))
			r := do(t, http.MethodPost, "/projects/"+c.p.idPath()+"/snippets/"+c.snippet+"/notes", token(env.rootToken), formBody("body", "root's"))
			if r.status != http.StatusCreated {
				t.Fatalf("root's note: %s", r)
			}
			c.note = itoa(num(decode[obj](t, r.body), "id"))
			cells = append(cells, c)
		}
	}

	path := func(c matrixCell, suffix string) string { return "/projects/" + c.id + suffix }
	actions := []matrixAction{
		{"GET", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			resp := do(t, http.MethodGet, path(c, ""), token(r.tok))
			if resp.status == http.StatusOK {
				// runners_token only for those who may administer the project.
				wantRunnersToken(t, decode[obj](t, resp.body), r.admin || r.level >= accessMaster)
			}
			return resp
		}},
		{"PUT desc", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPut, path(c, ""), token(r.tok), formBody("description", "by "+r.name))
		}},
		{"PUT name", wantMin(accessOwner, 200), func(t *testing.T, c matrixCell, r matrixRole, seq int) response {
			return do(t, http.MethodPut, path(c, ""), token(r.tok), formBody("name", fmt.Sprintf("%s renamed %d", c.p.Path, seq)))
		}},
		{"PUT vis", wantMin(accessOwner, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPut, path(c, ""), token(r.tok), formBody("visibility_level", itoa(c.vis)))
		}},
		{"archive", wantMin(accessOwner, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/archive"), token(r.tok))
		}},
		{"unarchive", wantMin(accessOwner, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/unarchive"), token(r.tok))
		}},
		{"DEL fork", wantMin(accessOwner, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodDelete, path(c, "/fork"), token(r.tok))
		}},
		{"GET members", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/members"), token(r.tok))
		}},
		{"POST members", wantMin(accessMaster, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/members"), token(r.tok), formBody("user_id", c.candidate.idPath(), "access_level", "10"))
		}},
		{"GET hooks", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/hooks"), token(r.tok))
		}},
		{"POST hooks", wantMin(accessMaster, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/hooks"), token(r.tok), formBody("url", "http://127.0.0.1:9/matrix"))
		}},
		{"GET keys", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/keys"), token(r.tok))
		}},
		{"GET runners", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/runners"), token(r.tok))
		}},
		// Masters get past the project to the missing runner_id.
		{"POST runners", wantMin(accessMaster, 400), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/runners"), token(r.tok))
		}},
		// Masters get past the project to the runner that is not enabled there.
		{"DEL runner", wantMin(accessMaster, 404), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodDelete, path(c, "/runners/999999999"), token(r.tok))
		}},
		{"GET triggers", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/triggers"), token(r.tok))
		}},
		{"GET variables", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/variables"), token(r.tok))
		}},
		{"POST star", wantRead(201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/star"), token(r.tok))
		}},
		{"POST fork", wantFork, func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, "/projects/fork/"+c.id, token(r.tok))
		}},
		{"GET events", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/events"), token(r.tok))
		}},
		{"GET users", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/users"), token(r.tok))
		}},
		{"POST share", wantMin(accessMaster, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/share"), token(r.tok), formBody("group_id", shareWith[r.name].idPath(), "group_access", "30"))
		}},
		// Snippets and their notes (issue 6): reading needs read access,
		// creating a snippet reporter, commenting read access; editing
		// root's snippet or note needs master (the author or admin_*).
		{"GET snippets", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/snippets"), token(r.tok))
		}},
		{"POST snippet", wantMin(accessReporter, 201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/snippets"), token(r.tok), formBody("title", "by "+r.name, "file_name", "m.rb", "code", "x", "visibility_level", "0"))
		}},
		{"PUT snippet", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPut, path(c, "/snippets/"+c.snippet), token(r.tok), formBody("title", "by "+r.name))
		}},
		{"GET notes", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/snippets/"+c.snippet+"/notes"), token(r.tok))
		}},
		{"POST note", wantRead(201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/snippets/"+c.snippet+"/notes"), token(r.tok), formBody("body", "by "+r.name))
		}},
		{"PUT note", wantMin(accessMaster, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPut, path(c, "/snippets/"+c.snippet+"/notes/"+c.note), token(r.tok), formBody("body", "by "+r.name))
		}},
		// The issue tracker: readers list and open issues; reporters
		// update them (admin_issue) and manage labels; masters manage
		// milestones; only owners delete issues.
		{"GET issues", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/issues"), token(r.tok))
		}},
		{"POST issue", wantRead(201), func(t *testing.T, c matrixCell, r matrixRole, seq int) response {
			return do(t, http.MethodPost, path(c, "/issues"), token(r.tok), formBody("title", fmt.Sprintf("by %s %d", r.name, seq)))
		}},
		{"GET issue", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/issues/"+cellIssue(t, c)), token(r.tok))
		}},
		{"PUT issue", wantMin(accessReporter, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPut, path(c, "/issues/"+cellIssue(t, c)), token(r.tok), formBody("description", "by "+r.name))
		}},
		{"DEL issue", wantMin(accessOwner, 200), func(t *testing.T, c matrixCell, r matrixRole, seq int) response {
			victim := newIssue(t, env.rootToken, c.p, fmt.Sprintf("victim %d", seq))
			return do(t, http.MethodDelete, path(c, "/issues/"+itoa(num(victim, "id"))), token(r.tok))
		}},
		// root opened the cell's issue, so is subscribed already: 304.
		{"subscribe", func(c matrixCell, r matrixRole) int {
			if r.admin {
				return http.StatusNotModified
			}
			return wantRead(201)(c, r)
		}, func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/issues/"+cellIssue(t, c)+"/subscription"), token(r.tok))
		}},
		// After subscribe: a comment makes its author a participant, and
		// so subscribed (8.7's participant rule).
		{"GET issue notes", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/issues/"+cellIssue(t, c)+"/notes"), token(r.tok))
		}},
		{"POST issue note", wantRead(201), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodPost, path(c, "/issues/"+cellIssue(t, c)+"/notes"), token(r.tok), formBody("body", "by "+r.name))
		}},
		{"GET labels", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/labels"), token(r.tok))
		}},
		{"POST label", wantMin(accessReporter, 201), func(t *testing.T, c matrixCell, r matrixRole, seq int) response {
			return do(t, http.MethodPost, path(c, "/labels"), token(r.tok), formBody("name", fmt.Sprintf("l%d", seq), "color", "#336699"))
		}},
		{"GET milestones", wantRead(200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			return do(t, http.MethodGet, path(c, "/milestones"), token(r.tok))
		}},
		{"POST milestone", wantMin(accessMaster, 201), func(t *testing.T, c matrixCell, r matrixRole, seq int) response {
			return do(t, http.MethodPost, path(c, "/milestones"), token(r.tok), formBody("title", fmt.Sprintf("m%d", seq)))
		}},
		// Last: a DELETE that should succeed gets a twin project of its own.
		{"DELETE", wantMin(accessOwner, 200), func(t *testing.T, c matrixCell, r matrixRole, _ int) response {
			if r.admin || r.level >= accessOwner {
				twin := c.newTwin(t)
				id := twin.idPath()
				if c.kind == "group" {
					id = twin.encoded()
				}
				return do(t, http.MethodDelete, "/projects/"+id, token(r.tok))
			}
			return do(t, http.MethodDelete, path(c, ""), token(r.tok))
		}},
	}

	type result struct{ got, want int }
	results := map[string]map[string]result{} // "kind vis role" -> action -> result
	var order []string
	failed := false
	seq := 0
	for _, c := range cells {
		for _, r := range roles(c.kind) {
			row := fmt.Sprintf("%-8s %-3d %-10s", c.kind, c.vis, r.name)
			order = append(order, row)
			results[row] = map[string]result{}
			for _, a := range actions {
				seq++
				want := a.want(c, r)
				got := a.do(t, c, r, seq).status
				results[row][a.name] = result{got, want}
				failed = failed || got != want
			}
		}
	}
	if failed {
		var b strings.Builder
		fmt.Fprintf(&b, "permission matrix: got≠want in these rows (kind, visibility, role | action=got or got≠want):\n")
		for _, row := range order {
			bad := false
			var parts []string
			for _, a := range actions {
				res := results[row][a.name]
				if res.got != res.want {
					bad = true
					parts = append(parts, fmt.Sprintf("%s=%d≠%d", a.name, res.got, res.want))
				} else {
					parts = append(parts, fmt.Sprintf("%s=%d", a.name, res.got))
				}
			}
			if bad {
				fmt.Fprintf(&b, "%s | %s\n", row, strings.Join(parts, " "))
			}
		}
		t.Error(b.String())
	}
}

// TestAccessBeforeParameters: on x-params-after-access operations 8.7 found
// the resource and checked the caller's right before it looked at the
// required parameters.
func TestAccessBeforeParameters(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	noGroups := newUser(t, "can_create_group", "false")
	p := newProject(t, own.Token)
	pub := newProject(t, own.Token, "visibility_level", "20")
	for _, pr := range []testProject{p, pub} {
		addMember(t, "projects", pr.ID, master.ID, accessMaster)
		addMember(t, "projects", pr.ID, dev.ID, accessDeveloper)
	}
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/hooks", token(own.Token), formBody("url", "http://example.com/hook"))
	if r.status != http.StatusCreated {
		t.Fatalf("add hook: %s", r)
	}
	hookID := itoa(num(decode[obj](t, r.body), "id"))
	grpOwner, grpDev := newUser(t), newUser(t)
	g := newGroup(t, grpOwner.Token)
	addMember(t, "groups", g.ID, grpDev.ID, accessDeveloper)

	notGiven := func(name string) string { return `{"message":"400 (Bad request) \"` + name + `\" not given"}` }
	snippets := "/projects/" + p.idPath() + "/snippets"
	snip := newProject(t, own.Token, "snippets_enabled", "true")
	addMember(t, "projects", snip.ID, dev.ID, accessDeveloper)
	snipGuest := newUser(t)
	addMember(t, "projects", snip.ID, snipGuest.ID, accessGuest)
	snipSnippets := "/projects/" + snip.idPath() + "/snippets"
	members := "/projects/" + p.idPath() + "/members"
	hooks := "/projects/" + p.idPath() + "/hooks"
	share := "/projects/" + p.idPath() + "/share"
	gMembers := "/groups/" + g.idPath() + "/members"
	rows := []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"add project member: cannot see", "POST", members, outsider.Token, nil, 404, projectNotFound},
		{"add project member: unknown project", "POST", "/projects/999999999/members", master.Token, nil, 404, projectNotFound},
		{"add project member: developer", "POST", members, dev.Token, nil, 403, forbidden403},
		{"add project member: reader of a public project", "POST", "/projects/" + pub.idPath() + "/members", outsider.Token, nil, 403, forbidden403},
		{"add project member: master, nothing", "POST", members, master.Token, nil, 400, notGiven("user_id")},
		{"add project member: master, no access_level", "POST", members, master.Token, []string{"user_id", outsider.idPath()}, 400, notGiven("access_level")},
		{"add project member: master, no user_id", "POST", members, master.Token, []string{"access_level", "30"}, 400, notGiven("user_id")},

		{"update project member: cannot see", "PUT", members + "/" + dev.idPath(), outsider.Token, nil, 404, projectNotFound},
		{"update project member: developer", "PUT", members + "/" + dev.idPath(), dev.Token, nil, 403, forbidden403},
		{"update project member: master", "PUT", members + "/" + dev.idPath(), master.Token, nil, 400, notGiven("access_level")},
		// The parameter before the membership.
		{"update project member: master, a non-member", "PUT", members + "/" + outsider.idPath(), master.Token, nil, 400, notGiven("access_level")},

		{"add project hook: cannot see", "POST", hooks, outsider.Token, nil, 404, projectNotFound},
		{"add project hook: developer", "POST", hooks, dev.Token, nil, 403, forbidden403},
		{"add project hook: reader of a public project", "POST", "/projects/" + pub.idPath() + "/hooks", outsider.Token, nil, 403, forbidden403},
		{"add project hook: master", "POST", hooks, master.Token, []string{"push_events", "true"}, 400, notGiven("url")},

		{"edit project hook: cannot see", "PUT", hooks + "/" + hookID, outsider.Token, nil, 404, projectNotFound},
		{"edit project hook: developer", "PUT", hooks + "/" + hookID, dev.Token, nil, 403, forbidden403},
		// 8.7 found the hook before it checked url.
		{"edit project hook: master, unknown hook", "PUT", hooks + "/999999999", master.Token, nil, 404, recordNotFound},
		{"edit project hook: master", "PUT", hooks + "/" + hookID, master.Token, []string{"issues_events", "true"}, 400, notGiven("url")},

		{"add variable: cannot see", "POST", "/projects/" + p.idPath() + "/variables", outsider.Token, nil, 404, projectNotFound},
		{"add variable: developer", "POST", "/projects/" + p.idPath() + "/variables", dev.Token, nil, 403, forbidden403},
		{"add variable: reader of a public project", "POST", "/projects/" + pub.idPath() + "/variables", outsider.Token, nil, 403, forbidden403},
		{"add variable: master, nothing", "POST", "/projects/" + p.idPath() + "/variables", master.Token, nil, 400, notGiven("key")},
		{"add variable: master, no value", "POST", "/projects/" + p.idPath() + "/variables", master.Token, []string{"key", "K"}, 400, notGiven("value")},

		{"share project: cannot see", "POST", share, outsider.Token, nil, 404, projectNotFound},
		{"share project: developer", "POST", share, dev.Token, nil, 403, forbidden403},
		{"share project: reader of a public project", "POST", "/projects/" + pub.encoded() + "/share", outsider.Token, nil, 403, forbidden403},
		{"share project: master, nothing", "POST", share, master.Token, nil, 400, notGiven("group_id")},
		{"share project: master, no group_access", "POST", "/projects/" + p.encoded() + "/share", master.Token, []string{"group_id", g.idPath()}, 400, notGiven("group_access")},

		{"create snippet: cannot see", "POST", snipSnippets, outsider.Token, nil, 404, projectNotFound},
		{"create snippet: guest", "POST", snipSnippets, snipGuest.Token, nil, 403, forbidden403},
		{"create snippet: owner, snippets disabled", "POST", snippets, own.Token, nil, 403, forbidden403},
		{"create snippet: developer, nothing", "POST", snipSnippets, dev.Token, nil, 400, notGiven("title")},
		{"create snippet: developer, no code", "POST", snipSnippets, dev.Token, []string{"title", "t", "file_name", "a.rb", "visibility_level", "0"}, 400, notGiven("code")},

		{"create group: may not create groups", "POST", "/groups", noGroups.Token, nil, 403, forbidden403},
		{"create group: nothing", "POST", "/groups", outsider.Token, nil, 400, notGiven("name")},
		{"create group: no path", "POST", "/groups", outsider.Token, []string{"name", uniqueName(t)}, 400, notGiven("path")},

		{"add group member: cannot see", "POST", gMembers, outsider.Token, nil, 404, groupNotFound},
		{"add group member: developer", "POST", gMembers, grpDev.Token, nil, 403, forbidden403},
		{"add group member: owner, nothing", "POST", gMembers, grpOwner.Token, nil, 400, notGiven("user_id")},
		{"add group member: owner, no access_level", "POST", "/groups/" + g.Path + "/members", grpOwner.Token, []string{"user_id", outsider.idPath()}, 400, notGiven("access_level")},

		{"update group member: cannot see", "PUT", gMembers + "/" + grpDev.idPath(), outsider.Token, nil, 404, groupNotFound},
		{"update group member: developer", "PUT", gMembers + "/" + grpDev.idPath(), grpDev.Token, nil, 403, forbidden403},
		{"update group member: owner", "PUT", gMembers + "/" + grpDev.idPath(), grpOwner.Token, nil, 400, notGiven("access_level")},
		{"update group member: owner, a non-member", "PUT", gMembers + "/" + outsider.idPath(), grpOwner.Token, nil, 400, notGiven("access_level")},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
		})
	}
}
