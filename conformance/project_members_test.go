package conformance

// Project team members (doc/api/projects.md "Team members"; endpoints.tsv
// rows for /projects/:id/members; entities.md "ProjectMember").

import (
	"net/http"
	"testing"
)

// memberLevel reads a user's direct membership of a project as root: its
// access level, or 0 when the user is not a member.
func memberLevel(t testing.TB, projectID, userID int) int {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+itoa(projectID)+"/members/"+itoa(userID), token(env.rootToken))
	switch r.status {
	case http.StatusOK:
		return num(decode[obj](t, r.body), "access_level")
	case http.StatusNotFound:
		return 0
	}
	t.Fatalf("GET member %d of project %d: %s", userID, projectID, r)
	return 0
}

// wantMember checks a ProjectMember or GroupMember entity.
func wantMember(t testing.TB, got obj, u testUser, level int) {
	t.Helper()
	wantField(t, got, "id", u.ID)
	wantField(t, got, "username", u.Username)
	wantField(t, got, "name", u.Name)
	wantField(t, got, "state", "active")
	wantField(t, got, "web_url", env.base+"/u/"+u.Username)
	wantField(t, got, "access_level", level)
	wantFields(t, got, "avatar_url")
	// The docs' example shows email and created_at; 8.7's entity had neither.
	wantNoFields(t, got, "email", "created_at", "private_token")
}

func TestProjectMembers(t *testing.T) {
	t.Parallel()
	own := newUser(t)
	master, dev, outsider := newUser(t), newUser(t), newUser(t)
	candidate, stranger, leaver := createUser(t), createUser(t), newUser(t)
	p := newProject(t, own.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	addMember(t, "projects", p.ID, leaver.ID, accessReporter)
	grpOwner := newUser(t)
	grp := newGroup(t, grpOwner.Token)
	gp := newProject(t, grpOwner.Token, "namespace_id", grp.idPath(), "visibility_level", "20")

	membersPath := "/projects/" + p.idPath() + "/members"

	t.Run("list, as a developer", func(t *testing.T) {
		r := do(t, http.MethodGet, membersPath, token(dev.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[[]obj](t, r.body)
		// The creator of a personal project is its master.
		want := map[int]struct {
			u     testUser
			level int
		}{own.ID: {own, accessMaster}, master.ID: {master, accessMaster}, dev.ID: {dev, accessDeveloper}, leaver.ID: {leaver, accessReporter}}
		if len(got) != len(want) {
			t.Errorf("%d members, want %d: %s", len(got), len(want), r.body)
		}
		for _, m := range got {
			w, ok := want[num(m, "id")]
			if !ok {
				t.Errorf("unexpected member %v", m["username"])
				continue
			}
			wantMember(t, m, w.u, w.level)
		}
		wantPage(t, r, page{path: membersPath, page: 1, perPage: 20, total: 4, pages: 1})
	})
	t.Run("list by path, paginated", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.encoded()+"/members", token(own.Token), query("per_page", "3", "page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if n := len(decode[[]obj](t, r.body)); n != 1 {
				t.Errorf("%d members on page 2, want 1", n)
			}
			wantPage(t, r, page{path: "/projects/" + p.encoded() + "/members", page: 2, perPage: 3, total: 4, pages: 2})
		}
	})
	// query: username LIKE '%query%' (endpoints.tsv), nothing else.
	for _, row := range []struct {
		name, q string
		want    []int
	}{
		{"query matches the username", dev.Username, []int{dev.ID}},
		{"query does not match the email", "example.com", nil},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, membersPath, token(own.Token), query("query", row.q))
			if wantStatus(t, r, http.StatusOK) {
				if got := ids(decode[[]obj](t, r.body)); !sameInts(got, row.want) {
					t.Errorf("ids = %v, want %v", got, row.want)
				}
			}
		})
	}
	t.Run("list of a group project: direct members only", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+gp.idPath()+"/members", token(outsider.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
	})
	t.Run("list, as a non-member of a private project", func(t *testing.T) {
		wantError(t, do(t, http.MethodGet, membersPath, token(outsider.Token)), http.StatusNotFound, projectNotFound)
	})

	t.Run("get", func(t *testing.T) {
		for _, id := range []string{p.idPath(), p.encoded()} {
			r := do(t, http.MethodGet, "/projects/"+id+"/members/"+dev.idPath(), token(dev.Token))
			if wantStatus(t, r, http.StatusOK) {
				wantMember(t, decode[obj](t, r.body), dev, accessDeveloper)
			}
		}
	})
	for _, row := range []struct {
		name, path, tok, body string
	}{
		{"get a non-member", membersPath + "/" + outsider.idPath(), own.Token, recordNotFound},
		{"get an unknown user", membersPath + "/999999999", own.Token, recordNotFound},
		{"get a non-numeric id", membersPath + "/" + dev.Username, own.Token, recordNotFound},
		{"get a group member of a group project", "/projects/" + gp.idPath() + "/members/" + grpOwner.idPath(), own.Token, recordNotFound},
		{"get, as a non-member of a private project", membersPath + "/" + dev.idPath(), outsider.Token, projectNotFound},
	} {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, row.path, token(row.tok)), http.StatusNotFound, row.body)
		})
	}

	// Adding is idempotent: an existing member comes back unchanged.
	adds := []struct {
		name   string
		tok    string
		id     string
		user   testUser
		level  string
		status int
		body   string // exact body, for errors
		after  int    // the user's level afterwards (0: not a member)
	}{
		{name: "master adds a reporter", tok: master.Token, id: p.idPath(), user: candidate, level: "20", status: 201, after: accessReporter},
		{name: "again with another level: unchanged", tok: master.Token, id: p.idPath(), user: candidate, level: "40", status: 201, after: accessReporter},
		{name: "again with an invalid level: unchanged", tok: own.Token, id: p.encoded(), user: candidate, level: "35", status: 201, after: accessReporter},
		{name: "a new member with an invalid level", tok: master.Token, id: p.idPath(), user: stranger, level: "35", status: 422,
			body: `["is not included in the list"]`},
		{name: "developer", tok: dev.Token, id: p.idPath(), user: stranger, level: "30", status: 403, body: forbidden403},
		{name: "non-member", tok: outsider.Token, id: p.idPath(), user: stranger, level: "30", status: 404, body: projectNotFound},
	}
	for _, row := range adds {
		t.Run("add: "+row.name, func(t *testing.T) {
			r := do(t, http.MethodPost, "/projects/"+row.id+"/members", token(row.tok), formBody("user_id", row.user.idPath(), "access_level", row.level))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else if wantStatus(t, r, row.status) {
				wantMember(t, decode[obj](t, r.body), row.user, row.after)
			}
			if got := memberLevel(t, p.ID, row.user.ID); got != row.after {
				t.Errorf("access level afterwards = %d, want %d", got, row.after)
			}
		})
	}
	t.Run("add: an unknown user", func(t *testing.T) {
		r := do(t, http.MethodPost, membersPath, token(own.Token), jsonBody(map[string]int{"user_id": 999999999, "access_level": 30}))
		wantError(t, r, http.StatusNotFound, `{"message":"404 User Not Found"}`)
	})
	t.Run("add: user_id not a number", func(t *testing.T) {
		r := do(t, http.MethodPost, membersPath, token(own.Token), formBody("user_id", "abc", "access_level", "30"))
		wantValidation(t, r, "user_id", "")
	})

	updates := []struct {
		name   string
		tok    string
		id     string
		user   testUser
		level  string
		status int
		body   string
		after  int
	}{
		{name: "master raises a member", tok: master.Token, id: p.idPath(), user: candidate, level: "30", status: 200, after: accessDeveloper},
		{name: "owner, by path", tok: own.Token, id: p.encoded(), user: candidate, level: "40", status: 200, after: accessMaster},
		{name: "an invalid level", tok: own.Token, id: p.idPath(), user: candidate, level: "35", status: 422, body: `["is not included in the list"]`, after: accessMaster},
		{name: "a non-member", tok: own.Token, id: p.idPath(), user: stranger, level: "30", status: 404,
			body: `{"message":"404 User can not be found Not Found"}`},
		{name: "developer", tok: dev.Token, id: p.idPath(), user: candidate, level: "10", status: 403, body: forbidden403, after: accessMaster},
		{name: "non-member caller", tok: outsider.Token, id: p.idPath(), user: candidate, level: "10", status: 404, body: projectNotFound, after: accessMaster},
	}
	for _, row := range updates {
		t.Run("update: "+row.name, func(t *testing.T) {
			r := do(t, http.MethodPut, "/projects/"+row.id+"/members/"+row.user.idPath(), token(row.tok), formBody("access_level", row.level))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else if wantStatus(t, r, row.status) {
				wantMember(t, decode[obj](t, r.body), row.user, row.after)
			}
			if got := memberLevel(t, p.ID, row.user.ID); got != row.after {
				t.Errorf("access level afterwards = %d, want %d", got, row.after)
			}
		})
	}
	t.Run("update: a non-numeric user id", func(t *testing.T) {
		wantError(t, do(t, http.MethodPut, membersPath+"/abc", token(own.Token), formBody("access_level", "30")), http.StatusNotFound, recordNotFound)
	})

	removals := []struct {
		name string
		tok  string
		id   string
		user testUser
		// exactly one of:
		body    string // an exact error or AccessRevoked body
		removed bool   // the deleted membership's record
		status  int
	}{
		{name: "developer removes another member", tok: dev.Token, id: p.idPath(), user: candidate, status: 403, body: forbidden403},
		{name: "developer removes a non-member", tok: dev.Token, id: p.idPath(), user: stranger, status: 403, body: forbidden403},
		{name: "non-member caller", tok: outsider.Token, id: p.idPath(), user: candidate, status: 404, body: projectNotFound},
		{name: "master removes a non-member: Access revoked", tok: master.Token, id: p.idPath(), user: stranger, status: 200,
			body: `{"message":"Access revoked","id":` + stranger.idPath() + `}`},
		{name: "master removes a member", tok: master.Token, id: p.idPath(), user: candidate, status: 200, removed: true},
		{name: "again: Access revoked", tok: master.Token, id: p.encoded(), user: candidate, status: 200,
			body: `{"message":"Access revoked","id":` + candidate.idPath() + `}`},
		{name: "a reporter removes itself", tok: leaver.Token, id: p.idPath(), user: leaver, status: 200, removed: true},
	}
	for _, row := range removals {
		t.Run("remove: "+row.name, func(t *testing.T) {
			before := memberLevel(t, p.ID, row.user.ID)
			r := do(t, http.MethodDelete, "/projects/"+row.id+"/members/"+row.user.idPath(), token(row.tok))
			if row.body != "" {
				wantError(t, r, row.status, row.body)
			} else if wantStatus(t, r, row.status) {
				got := decode[obj](t, r.body)
				wantFields(t, got, "id")
				wantField(t, got, "access_level", before)
				wantField(t, got, "source_id", p.ID)
				wantField(t, got, "source_type", "Project")
				wantField(t, got, "user_id", row.user.ID)
				wantField(t, got, "notification_level", 3)
				wantTimestamp(t, got, "created_at")
				wantTimestamp(t, got, "updated_at")
			}
			after := memberLevel(t, p.ID, row.user.ID)
			switch {
			case row.removed && after != 0:
				t.Errorf("still a member at %d after the removal", after)
			case !row.removed && after != before:
				t.Errorf("access level afterwards = %d, want it unchanged (%d)", after, before)
			}
		})
	}
	t.Run("remove: a non-numeric user id", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, membersPath+"/abc", token(own.Token)), http.StatusNotFound, recordNotFound)
	})
}
