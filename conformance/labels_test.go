package conformance

// Labels (doc/api/labels.md, GitLab CE 8.7): list with counts, create,
// rename and recolor, delete, and 8.7's validations and messages.

import (
	"net/http"
	"testing"
)

func TestLabels(t *testing.T) {
	t.Parallel()
	owner, reporter, guest := newUser(t), newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, reporter.ID, accessReporter)
	addMember(t, "projects", p.ID, guest.ID, accessGuest)
	base := "/projects/" + p.idPath() + "/labels"

	r := do(t, http.MethodPost, base, token(reporter.Token), formBody("name", "feature", "color", "#5843AD", "description", "New"))
	if wantStatus(t, r, http.StatusCreated) {
		wantJSON(t, r.body, `{"name":"feature","color":"#5843AD","description":"New","open_issues_count":0,"closed_issues_count":0,"open_merge_requests_count":0}`)
	}
	newIssue(t, owner.Token, p, "one", "labels", "feature")
	closed := newIssue(t, owner.Token, p, "two", "labels", "feature")
	wantStatus(t, do(t, http.MethodPut, issuePath(p, closed, ""), token(owner.Token), formBody("state_event", "close")), http.StatusOK)

	r = do(t, http.MethodGet, base, token(guest.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `[{"name":"feature","color":"#5843AD","description":"New","open_issues_count":1,"closed_issues_count":1,"open_merge_requests_count":0}]`)
	}

	rows := []struct {
		name   string
		method string
		tok    string
		kv     []string
		status int
		body   string
	}{
		{"guest may not create", http.MethodPost, guest.Token, []string{"name", "x", "color", "#000000"}, 403, `{"message":"403 Forbidden"}`},
		{"access before params", http.MethodPost, guest.Token, nil, 403, `{"message":"403 Forbidden"}`},
		{"no name", http.MethodPost, owner.Token, []string{"color", "#000000"}, 400, `{"message":"400 (Bad request) \"name\" not given"}`},
		{"no color", http.MethodPost, owner.Token, []string{"name", "x"}, 400, `{"message":"400 (Bad request) \"color\" not given"}`},
		{"exists", http.MethodPost, owner.Token, []string{"name", "feature", "color", "#000000"}, 409, `{"message":"Label already exists"}`},
		{"bad color", http.MethodPost, owner.Token, []string{"name", "x", "color", "red"}, 400, `{"message":{"color":["must be a valid color code"]}}`},
		{"bad name", http.MethodPost, owner.Token, []string{"name", "a?b", "color", "#fff"}, 400, `{"message":{"title":["is invalid"]}}`},
		{"update unknown", http.MethodPut, owner.Token, []string{"name", "nope", "color", "#000000"}, 404, `{"message":"404 Label not found Not Found"}`},
		{"update nothing", http.MethodPut, owner.Token, []string{"name", "feature"}, 400, `{"message":"Required parameters \"new_name\" or \"color\" missing"}`},
		{"update with blanks only", http.MethodPut, owner.Token, []string{"name", "feature", "new_name", "", "color", " "}, 400, `{"message":"Required parameters \"new_name\" or \"color\" missing"}`},
		{"update without name", http.MethodPut, owner.Token, []string{"color", "#000000"}, 400, `{"message":"400 (Bad request) \"name\" not given"}`},
		{"update bad color", http.MethodPut, owner.Token, []string{"name", "feature", "color", "#12"}, 400, `{"message":{"color":["must be a valid color code"]}}`},
		{"guest may not update", http.MethodPut, guest.Token, []string{"name", "feature", "color", "#000000"}, 403, `{"message":"403 Forbidden"}`},
		{"delete unknown", http.MethodDelete, owner.Token, []string{"name", "nope"}, 404, `{"message":"404 Label Not Found"}`},
		{"delete without name", http.MethodDelete, owner.Token, nil, 400, `{"message":"400 (Bad request) \"name\" not given"}`},
		{"guest may not delete", http.MethodDelete, guest.Token, []string{"name", "feature"}, 403, `{"message":"403 Forbidden"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			wantError(t, do(t, row.method, base, token(row.tok), formBody(row.kv...)), row.status, row.body)
		})
	}
	outsider := newUser(t)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		wantError(t, do(t, method, base, token(outsider.Token), formBody("name", "feature", "color", "#000000")),
			http.StatusNotFound, `{"message":"404 Project Not Found"}`)
	}

	r = do(t, http.MethodPost, base, token(owner.Token), formBody("name", "other", "color", "#111111"))
	wantStatus(t, r, http.StatusCreated)
	wantError(t, do(t, http.MethodPut, base, token(owner.Token), formBody("name", "feature", "new_name", "other")),
		http.StatusBadRequest, `{"message":{"title":["has already been taken"]}}`)

	r = do(t, http.MethodPut, base, token(reporter.Token), formBody("name", "feature", "new_name", "enhancement", "color", "#8E44AD"))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `{"name":"enhancement","color":"#8E44AD","description":"New","open_issues_count":1,"closed_issues_count":1,"open_merge_requests_count":0}`)
	}
	r = do(t, http.MethodGet, issuePath(p, closed, ""), token(owner.Token))
	if l := labelsOf(decode[obj](t, r.body)); len(l) != 1 || l[0] != "enhancement" {
		t.Errorf("issue labels after the rename: %v", l)
	}

	r = do(t, http.MethodDelete, base, token(reporter.Token), query("name", "enhancement"))
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		for k, v := range map[string]any{"title": "enhancement", "color": "#8E44AD", "project_id": p.ID, "template": false, "description": "New"} {
			wantField(t, got, k, v)
		}
	}
	r = do(t, http.MethodGet, issuePath(p, closed, ""), token(owner.Token))
	if l := labelsOf(decode[obj](t, r.body)); len(l) != 0 {
		t.Errorf("issue labels after the delete: %v", l)
	}
}
