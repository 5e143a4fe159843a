package conformance

// Milestones (doc/api/milestones.md, GitLab CE 8.7): list with filters,
// get, create, update with state events, their issues, and their events.

import (
	"net/http"
	"strings"
	"testing"
)

// newMilestone creates a milestone as tok's user.
func newMilestone(t testing.TB, tok string, p testProject, title string, kv ...string) obj {
	t.Helper()
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/milestones", token(tok), formBody(append([]string{"title", title}, kv...)...))
	if r.status != http.StatusCreated {
		t.Fatalf("create milestone %q: %s", title, r)
	}
	return decode[obj](t, r.body)
}

func TestMilestones(t *testing.T) {
	t.Parallel()
	owner, developer := newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, developer.ID, accessDeveloper)
	base := "/projects/" + p.idPath() + "/milestones"

	m1 := newMilestone(t, owner.Token, p, "v1.0", "description", "First", "due_date", "2016-04-01")
	for k, v := range map[string]any{"iid": 1, "project_id": p.ID, "title": "v1.0", "description": "First", "state": "active", "due_date": "2016-04-01"} {
		wantField(t, m1, k, v)
	}
	m2 := newMilestone(t, owner.Token, p, "v2.0", "due_date", "not a date")
	wantField(t, m2, "iid", 2)
	wantField(t, m2, "due_date", nil)

	r := do(t, http.MethodGet, base+"/"+itoa(num(m1, "id")), token(developer.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "title", "v1.0")
	}

	r = do(t, http.MethodPut, base+"/"+itoa(num(m2, "id")), token(owner.Token), formBody("state_event", "close", "title", "v2.0-final", "due_date", "2017-01-31"))
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		wantField(t, got, "state", "closed")
		wantField(t, got, "title", "v2.0-final")
		wantField(t, got, "due_date", "2017-01-31")
	}

	lists := []struct {
		name  string
		query []string
		want  string
	}{
		{"all", nil, "v1.0,v2.0-final"},
		{"active", []string{"state", "active"}, "v1.0"},
		{"closed", []string{"state", "closed"}, "v2.0-final"},
		{"iid", []string{"iid", "2"}, "v2.0-final"},
	}
	for _, l := range lists {
		r := do(t, http.MethodGet, base, token(developer.Token), query(l.query...))
		if wantStatus(t, r, http.StatusOK) {
			if got := strings.Join(titles(decode[[]obj](t, r.body)), ","); got != l.want {
				t.Errorf("%s: %q, want %q", l.name, got, l.want)
			}
		}
	}

	a := newIssue(t, owner.Token, p, "in v1", "milestone_id", itoa(num(m1, "id")))
	b := newIssue(t, owner.Token, p, "also in v1", "milestone_id", itoa(num(m1, "id")))
	newIssue(t, owner.Token, p, "no milestone")
	wantStatus(t, do(t, http.MethodPut, issuePath(p, b, ""), token(owner.Token), formBody("state_event", "close")), http.StatusOK)
	r = do(t, http.MethodGet, base+"/"+itoa(num(m1, "id"))+"/issues", token(developer.Token))
	if wantStatus(t, r, http.StatusOK) {
		if got := strings.Join(titles(decode[[]obj](t, r.body)), ","); got != "in v1,also in v1" {
			t.Errorf("milestone issues = %q", got)
		}
		if r.header.Get("X-Total") != "2" {
			t.Errorf("X-Total = %q", r.header.Get("X-Total"))
		}
	}
	_ = a

	rows := []struct {
		name   string
		method string
		path   string
		tok    string
		kv     []string
		status int
		body   string
	}{
		{"developer may not create", http.MethodPost, base, developer.Token, []string{"title", "x"}, 403, `{"message":"403 Forbidden"}`},
		{"access before params", http.MethodPost, base, developer.Token, nil, 403, `{"message":"403 Forbidden"}`},
		{"no title", http.MethodPost, base, owner.Token, nil, 400, `{"message":"400 (Bad request) \"title\" not given"}`},
		{"blank title", http.MethodPost, base, owner.Token, []string{"title", ""}, 400, `{"message":"400 (Bad request) \"title\" not given"}`},
		{"taken title", http.MethodPost, base, owner.Token, []string{"title", "v1.0"}, 400, `{"message":"Failed to create milestone {:title=>[\"has already been taken\"]}"}`},
		{"developer may not update", http.MethodPut, base + "/" + itoa(num(m1, "id")), developer.Token, []string{"title", "x"}, 403, `{"message":"403 Forbidden"}`},
		{"update to a taken title", http.MethodPut, base + "/" + itoa(num(m1, "id")), owner.Token, []string{"title", "v2.0-final"}, 400, `{"message":"Failed to update milestone {:title=>[\"has already been taken\"]}"}`},
		{"update unknown", http.MethodPut, base + "/0", owner.Token, []string{"title", "x"}, 404, `{"message":"404 Not found"}`},
		{"get unknown", http.MethodGet, base + "/0", owner.Token, nil, 404, `{"message":"404 Not found"}`},
		{"issues of unknown", http.MethodGet, base + "/0/issues", owner.Token, nil, 404, `{"message":"404 Not found"}`},
		{"unknown project", http.MethodGet, "/projects/0/milestones", owner.Token, nil, 404, `{"message":"404 Project Not Found"}`},
		{"unknown project create", http.MethodPost, "/projects/0/milestones", owner.Token, []string{"title", "x"}, 404, `{"message":"404 Project Not Found"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, row.method, row.path, token(row.tok), formBody(row.kv...)), row.status, row.body)
		})
	}

	// Blank values are ignored: the due date stays.
	r = do(t, http.MethodPut, base+"/"+itoa(num(m2, "id")), token(owner.Token), formBody("state_event", "activate", "title", "", "due_date", ""))
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		wantField(t, got, "state", "active")
		wantField(t, got, "title", "v2.0-final")
		wantField(t, got, "due_date", "2017-01-31")
	}
	// The feed: the milestones' opened, closed and reopened events.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token), query("per_page", "100"))
	var got []string
	for _, e := range decode[[]obj](t, r.body) {
		if e["target_type"] == "Milestone" {
			got = append(got, str(e, "action_name")+":"+itoa(num(e, "target_id")))
		}
	}
	id1, id2 := itoa(num(m1, "id")), itoa(num(m2, "id"))
	if want := "reopened:" + id2 + ",closed:" + id2 + ",opened:" + id2 + ",opened:" + id1; strings.Join(got, ",") != want {
		t.Errorf("milestone events = %v, want %s", got, want)
	}
}
