package conformance

// Issues (doc/api/issues.md, GitLab CE 8.7): create with labels made on the
// fly, read, the list filters, update with state events, move, delete,
// subscriptions, the events and Issue Hook deliveries of each change, and
// gap-free iids under concurrent creation.

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
)

// newIssue opens an issue as tok's user; kv adds form fields.
func newIssue(t testing.TB, tok string, p testProject, title string, kv ...string) obj {
	t.Helper()
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/issues", token(tok), formBody(append([]string{"title", title}, kv...)...))
	if r.status != http.StatusCreated {
		t.Fatalf("create issue %q: %s", title, r)
	}
	return decode[obj](t, r.body)
}

func issuePath(p testProject, issue obj, suffix string) string {
	return "/projects/" + p.idPath() + "/issues/" + itoa(num(issue, "id")) + suffix
}

func labelsOf(o obj) []string {
	var out []string
	list, _ := o["labels"].([]any)
	for _, l := range list {
		s, _ := l.(string)
		out = append(out, s)
	}
	return out
}

func titles(list []obj) []string { return names(list, "title") }

func TestIssuesCreateAndRead(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token)
	base := "/projects/" + p.idPath() + "/issues"

	r := do(t, http.MethodPost, base, token(owner.Token), formBody("title", "First", "description", "Details", "labels", "bug, ui,bug"))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	first := decode[obj](t, r.body)
	for k, v := range map[string]any{"iid": 1, "project_id": p.ID, "title": "First", "description": "Details",
		"state": "opened", "milestone": nil, "assignee": nil, "subscribed": true} {
		wantField(t, first, k, v)
	}
	wantTimestamp(t, first, "created_at")
	if got := labelsOf(first); strings.Join(got, ",") != "bug,ui" {
		t.Errorf("labels = %v, want [bug ui] (stripped, deduplicated, by title)", got)
	}
	author, _ := first["author"].(obj)
	wantField(t, author, "username", owner.Username)

	// JSON works as well as a form, and iids count up.
	r = do(t, http.MethodPost, base, token(owner.Token), jsonBody(map[string]any{"title": "Second"}))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	second := decode[obj](t, r.body)
	wantField(t, second, "iid", 2)
	wantField(t, second, "description", nil)
	if l := labelsOf(second); len(l) != 0 {
		t.Errorf("labels = %v, want none", l)
	}

	// The labels made on the fly have the default color.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/labels", token(owner.Token))
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r.body, `[{"name":"bug","color":"#428BCA","description":null,"open_issues_count":1,"closed_issues_count":0,"open_merge_requests_count":0},
		{"name":"ui","color":"#428BCA","description":null,"open_issues_count":1,"closed_issues_count":0,"open_merge_requests_count":0}]`)

	t.Run("get", func(t *testing.T) {
		r := do(t, http.MethodGet, issuePath(p, first, ""), token(owner.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", num(first, "id"))
			wantField(t, got, "title", "First")
		}
		// Through the encoded path, too.
		r = do(t, http.MethodGet, "/projects/"+p.encoded()+"/issues/"+itoa(num(first, "id")), token(owner.Token))
		wantStatus(t, r, http.StatusOK)
	})

	errs := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
		body   string
	}{
		{"create without title", http.MethodPost, base, []reqOpt{formBody("description", "x")}, 400, `{"message":"400 (Bad request) \"title\" not given"}`},
		{"create with a blank title", http.MethodPost, base, []reqOpt{formBody("title", "  ")}, 400, `{"message":"400 (Bad request) \"title\" not given"}`},
		{"create with an invalid label", http.MethodPost, base, []reqOpt{formBody("title", "x", "labels", "ok,what?")}, 400,
			`{"message":{"labels":{"what?":{"title":["is invalid"]}}}}`},
		{"create in an unknown project", http.MethodPost, "/projects/0/issues", []reqOpt{formBody("title", "x")}, 404, `{"message":"404 Project Not Found"}`},
		{"list an unknown project", http.MethodGet, "/projects/0/issues", nil, 404, `{"message":"404 Project Not Found"}`},
		{"get an unknown issue", http.MethodGet, base + "/0", nil, 404, `{"message":"404 Not found"}`},
		{"get a non-numeric issue", http.MethodGet, base + "/abc", nil, 404, `{"message":"404 Not found"}`},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			wantError(t, do(t, e.method, e.path, append([]reqOpt{token(owner.Token)}, e.opts...)...), e.status, e.body)
		})
	}
	// Nothing of the invalid create was written: no issue, no "ok" label.
	r = do(t, http.MethodGet, base, token(owner.Token))
	if got := len(decode[[]obj](t, r.body)); got != 2 {
		t.Errorf("%d issues after the failed creates, want 2", got)
	}
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/labels", token(owner.Token))
	if got := names(decode[[]obj](t, r.body), "name"); strings.Join(got, ",") != "bug,ui" {
		t.Errorf("labels after the failed create: %v", got)
	}

	t.Run("another project's issue is not found", func(t *testing.T) {
		other := newProject(t, owner.Token)
		wantError(t, do(t, http.MethodGet, "/projects/"+other.idPath()+"/issues/"+itoa(num(first, "id")), token(owner.Token)),
			http.StatusNotFound, `{"message":"404 Not found"}`)
	})

	t.Run("a private project's issues are hidden from outsiders", func(t *testing.T) {
		outsider := newUser(t)
		wantError(t, do(t, http.MethodGet, issuePath(p, first, ""), token(outsider.Token)), http.StatusNotFound, `{"message":"404 Project Not Found"}`)
		wantError(t, do(t, http.MethodPost, base, token(outsider.Token), formBody("title", "x")), http.StatusNotFound, `{"message":"404 Project Not Found"}`)
	})

	t.Run("issue tracker off", func(t *testing.T) {
		q := newProject(t, owner.Token)
		is := newIssue(t, owner.Token, q, "before")
		r := do(t, http.MethodPut, "/projects/"+q.idPath(), token(owner.Token), formBody("issues_enabled", "false"))
		wantStatus(t, r, http.StatusOK)
		wantError(t, do(t, http.MethodGet, issuePath(q, is, ""), token(owner.Token)), http.StatusNotFound, `{"message":"404 Not Found"}`)
		wantError(t, do(t, http.MethodPost, "/projects/"+q.idPath()+"/issues", token(owner.Token), formBody("title", "x")),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
		wantError(t, do(t, http.MethodPut, issuePath(q, is, ""), token(owner.Token), formBody("title", "x")),
			http.StatusForbidden, `{"message":"403 Forbidden"}`)
	})

	t.Run("guests open issues but set no assignee, milestone", func(t *testing.T) {
		guest := newUser(t)
		addMember(t, "projects", p.ID, guest.ID, accessGuest)
		m := newMilestone(t, owner.Token, p, "g1")
		is := newIssue(t, guest.Token, p, "by a guest", "assignee_id", itoa(owner.ID), "milestone_id", itoa(num(m, "id")), "labels", "guestlabel")
		wantField(t, is, "assignee", nil)
		wantField(t, is, "milestone", nil)
		if l := labelsOf(is); strings.Join(l, ",") != "guestlabel" {
			t.Errorf("labels = %v: 8.7 added labels on create for anyone", l)
		}
		// A reporter's are honoured.
		rep := newUser(t)
		addMember(t, "projects", p.ID, rep.ID, accessReporter)
		is = newIssue(t, rep.Token, p, "by a reporter", "assignee_id", itoa(owner.ID), "milestone_id", itoa(num(m, "id")))
		a, _ := is["assignee"].(obj)
		wantField(t, a, "username", owner.Username)
		ms, _ := is["milestone"].(obj)
		wantField(t, ms, "title", "g1")
	})

	t.Run("created_at for the owner only", func(t *testing.T) {
		is := newIssue(t, owner.Token, p, "backdated", "created_at", "2016-03-11T03:45:40Z")
		wantField(t, is, "created_at", "2016-03-11T03:45:40.000Z")
		dev := newUser(t)
		addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
		is = newIssue(t, dev.Token, p, "not backdated", "created_at", "2016-03-11T03:45:40Z")
		if str(is, "created_at") == "2016-03-11T03:45:40.000Z" {
			t.Errorf("a developer's created_at was honoured")
		}
	})
}

func TestIssuesListFilters(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token)
	base := "/projects/" + p.idPath() + "/issues"
	m := newMilestone(t, owner.Token, p, "v1.0")
	a := newIssue(t, owner.Token, p, "a", "labels", "x")
	b := newIssue(t, owner.Token, p, "b", "labels", "x,y", "milestone_id", itoa(num(m, "id")))
	c := newIssue(t, owner.Token, p, "c", "labels", "y")
	d := newIssue(t, owner.Token, p, "d")
	r := do(t, http.MethodPut, issuePath(p, c, ""), token(owner.Token), formBody("state_event", "close"))
	wantStatus(t, r, http.StatusOK)
	r = do(t, http.MethodPut, issuePath(p, d, ""), token(owner.Token), formBody("state_event", "close"))
	wantStatus(t, r, http.StatusOK)
	r = do(t, http.MethodPut, issuePath(p, d, ""), token(owner.Token), formBody("state_event", "reopen"))
	wantStatus(t, r, http.StatusOK)
	wantField(t, decode[obj](t, r.body), "state", "reopened")

	rows := []struct {
		name  string
		query []string
		want  string // titles in order
	}{
		// Project#issues' order: state descending, then newest first.
		{"all", nil, "d,b,a,c"},
		{"opened counts reopened", []string{"state", "opened"}, "d,b,a"},
		{"closed", []string{"state", "closed"}, "c"},
		{"unknown state lists all", []string{"state", "whatever"}, "d,b,a,c"},
		{"one label", []string{"labels", "x"}, "b,a"},
		{"any of two labels", []string{"labels", "x,y"}, "b,a,c"},
		{"labels and state", []string{"labels", "x,y", "state", "opened"}, "b,a"},
		{"unknown label", []string{"labels", "nope"}, ""},
		{"milestone", []string{"milestone", "v1.0"}, "b"},
		{"unknown milestone", []string{"milestone", "v9"}, ""},
		{"iid", []string{"iid", itoa(num(a, "iid"))}, "a"},
		{"order_by and sort are not applied", []string{"order_by", "updated_at", "sort", "asc"}, "d,b,a,c"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, base, token(owner.Token), query(row.query...))
			if wantStatus(t, r, http.StatusOK) {
				if got := strings.Join(titles(decode[[]obj](t, r.body)), ","); got != row.want {
					t.Errorf("titles = %q, want %q", got, row.want)
				}
			}
		})
	}

	t.Run("pagination", func(t *testing.T) {
		r := do(t, http.MethodGet, base, token(owner.Token), query("per_page", "3", "page", "2"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		if got := strings.Join(titles(decode[[]obj](t, r.body)), ","); got != "c" {
			t.Errorf("page 2 = %q, want c", got)
		}
		for k, v := range map[string]string{"X-Total": "4", "X-Total-Pages": "2", "X-Page": "2", "X-Per-Page": "3", "X-Prev-Page": "1", "X-Next-Page": ""} {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	})

	t.Run("the user's own issues", func(t *testing.T) {
		other := newUser(t)
		q := newProject(t, other.Token, "visibility_level", "20")
		newIssue(t, other.Token, q, "not mine")
		mine := newIssue(t, owner.Token, q, "mine elsewhere", "labels", "y")
		rows := []struct {
			name  string
			query []string
			want  string
		}{
			{"all, oldest first", nil, "a,b,c,d,mine elsewhere"},
			{"opened", []string{"state", "opened"}, "a,b,d,mine elsewhere"},
			{"closed", []string{"state", "closed"}, "c"},
			{"labels", []string{"labels", "y"}, "b,c,mine elsewhere"},
		}
		for _, row := range rows {
			r := do(t, http.MethodGet, "/issues", token(owner.Token), query(row.query...))
			if wantStatus(t, r, http.StatusOK) {
				if got := strings.Join(titles(decode[[]obj](t, r.body)), ","); got != row.want {
					t.Errorf("%s: titles = %q, want %q", row.name, got, row.want)
				}
			}
		}
		wantField(t, mine, "project_id", q.ID)
	})
	_ = b
}

// TestIssueIIDsConcurrent: 32 concurrent creates in one project get iids
// 1..32, no gap and no duplicate.
func TestIssueIIDsConcurrent(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token)
	const n = 32
	var wg sync.WaitGroup
	iids := make([]int, n)
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/issues", token(owner.Token), formBody("title", fmt.Sprintf("concurrent %d", i)))
			statuses[i] = r.status
			if r.status == http.StatusCreated {
				iids[i] = num(decode[obj](t, r.body), "iid")
			}
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("create %d: status %d", i, s)
		}
	}
	sort.Ints(iids)
	for i, iid := range iids {
		if iid != i+1 {
			t.Fatalf("iids = %v, want 1..%d", iids, n)
		}
	}
}

func TestIssuesUpdate(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token)
	author, reporter, guest, assignee := newUser(t), newUser(t), newUser(t), newUser(t)
	addMember(t, "projects", p.ID, author.ID, accessGuest)
	addMember(t, "projects", p.ID, guest.ID, accessGuest)
	addMember(t, "projects", p.ID, reporter.ID, accessReporter)
	addMember(t, "projects", p.ID, assignee.ID, accessGuest)
	m := newMilestone(t, owner.Token, p, "m1")
	is := newIssue(t, author.Token, p, "Original", "labels", "a")

	put := func(tok string, kv ...string) response {
		return do(t, http.MethodPut, issuePath(p, is, ""), token(tok), formBody(kv...))
	}
	r := put(author.Token, "title", "Renamed", "description", "new text", "assignee_id", itoa(owner.ID), "labels", "z")
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		wantField(t, got, "title", "Renamed")
		wantField(t, got, "description", "new text")
		// The author is no reporter: assignee and labels stay.
		wantField(t, got, "assignee", nil)
		if l := labelsOf(got); strings.Join(l, ",") != "a" {
			t.Errorf("labels = %v, want [a]: only reporters replace them", l)
		}
	}
	wantError(t, put(guest.Token, "title", "x"), http.StatusForbidden, `{"message":"403 Forbidden"}`)

	r = put(reporter.Token, "assignee_id", itoa(assignee.ID), "milestone_id", itoa(num(m, "id")), "labels", "b,c")
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		a, _ := got["assignee"].(obj)
		wantField(t, a, "username", assignee.Username)
		ms, _ := got["milestone"].(obj)
		wantField(t, ms, "id", num(m, "id"))
		if l := labelsOf(got); strings.Join(l, ",") != "b,c" {
			t.Errorf("labels = %v, want [b c]", l)
		}
	}
	// The assignee may now update it too.
	wantStatus(t, put(assignee.Token, "description", "by the assignee"), http.StatusOK)

	r = put(reporter.Token, "state_event", "close")
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "state", "closed")
	}
	// Closing a closed issue changes nothing.
	r = put(reporter.Token, "state_event", "close")
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "state", "closed")
	}
	r = put(reporter.Token, "state_event", "reopen", "milestone_id", "0", "assignee_id", "0")
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		wantField(t, got, "state", "reopened")
		wantField(t, got, "milestone", nil)
		wantField(t, got, "assignee", nil)
	}

	// Blank values are ignored (attributes_for_keys took present ones).
	r = put(owner.Token, "title", " ", "description", "")
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "title", "Renamed")
		wantField(t, decode[obj](t, r.body), "description", "by the assignee")
	}
	wantError(t, put(owner.Token, "labels", "fine,&bad"), http.StatusBadRequest, `{"message":{"labels":{"&bad":{"title":["is invalid"]}}}}`)
	wantError(t, do(t, http.MethodPut, "/projects/"+p.idPath()+"/issues/0", token(owner.Token), formBody("title", "x")),
		http.StatusNotFound, `{"message":"404 Not found"}`)
	wantError(t, do(t, http.MethodPut, "/projects/0/issues/1", token(owner.Token), formBody("title", "x")),
		http.StatusNotFound, `{"message":"404 Project Not Found"}`)

	// The feed: opened, closed, reopened (newest first), target Issue.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		var got []string
		for _, e := range decode[[]obj](t, r.body) {
			if e["target_type"] == "Issue" && num(e, "target_id") == num(is, "id") {
				got = append(got, str(e, "action_name")+":"+str(e, "target_title"))
			}
		}
		if want := "reopened:Renamed,closed:Renamed,opened:Renamed"; strings.Join(got, ",") != want {
			t.Errorf("issue events = %v, want %s", got, want)
		}
	}
}

func TestIssuesDelete(t *testing.T) {
	t.Parallel()
	owner, master := newUser(t), newUser(t)
	p := newProject(t, owner.Token)
	addMember(t, "projects", p.ID, master.ID, accessMaster)
	is := newIssue(t, master.Token, p, "doomed", "labels", "gone")
	wantError(t, do(t, http.MethodDelete, issuePath(p, is, ""), token(master.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
	r := do(t, http.MethodDelete, issuePath(p, is, ""), token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		got := decode[obj](t, r.body)
		for k, v := range map[string]any{"id": num(is, "id"), "iid": 1, "title": "doomed", "state": "opened",
			"project_id": p.ID, "author_id": master.ID, "moved_to_id": nil, "confidential": false} {
			wantField(t, got, k, v)
		}
	}
	wantError(t, do(t, http.MethodGet, issuePath(p, is, ""), token(owner.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
	// An unknown issue is nothing to destroy: 403, as 8.7's authorize! on nil.
	wantError(t, do(t, http.MethodDelete, issuePath(p, is, ""), token(owner.Token)), http.StatusForbidden, `{"message":"403 Forbidden"}`)
	wantError(t, do(t, http.MethodDelete, "/projects/0/issues/1", token(owner.Token)), http.StatusNotFound, `{"message":"404 Project Not Found"}`)
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/labels", token(owner.Token))
	wantJSON(t, r.body, `[{"name":"gone","color":"#428BCA","description":null,"open_issues_count":0,"closed_issues_count":0,"open_merge_requests_count":0}]`)
}

func TestIssuesMove(t *testing.T) {
	t.Parallel()
	owner, reporter, guest := newUser(t), newUser(t), newUser(t)
	from := newProject(t, owner.Token)
	to := newProject(t, owner.Token)
	newIssue(t, owner.Token, to, "already there")
	addMember(t, "projects", from.ID, reporter.ID, accessReporter)
	addMember(t, "projects", from.ID, guest.ID, accessGuest)
	addMember(t, "projects", to.ID, guest.ID, accessReporter)
	is := newIssue(t, owner.Token, from, "Traveller", "description", "goes places", "labels", "l1", "assignee_id", itoa(reporter.ID))
	movePath := issuePath(from, is, "/move")

	errs := []struct {
		name   string
		tok    string
		path   string
		kv     []string
		status int
		body   string
	}{
		{"no target", owner.Token, movePath, nil, 400, `{"message":"400 (Bad request) \"to_project_id\" not given"}`},
		{"unknown project", owner.Token, "/projects/0/issues/1/move", []string{"to_project_id", itoa(to.ID)}, 404, `{"message":"404 Project Not Found"}`},
		{"unknown issue", owner.Token, "/projects/" + from.idPath() + "/issues/0/move", []string{"to_project_id", itoa(to.ID)}, 404, `{"message":"404 Not found"}`},
		{"unknown target", owner.Token, movePath, []string{"to_project_id", "0"}, 404, `{"message":"404 Not found"}`},
		{"reporter of the source only", reporter.Token, movePath, []string{"to_project_id", itoa(to.ID)}, 400, `{"message":"Cannot move issue due to insufficient permissions!"}`},
		{"guest of the source", guest.Token, movePath, []string{"to_project_id", itoa(to.ID)}, 400, `{"message":"Cannot move issue due to insufficient permissions!"}`},
		{"same project", owner.Token, movePath, []string{"to_project_id", itoa(from.ID)}, 400, `{"message":"Cannot move issue to project it originates from!"}`},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, e.path, token(e.tok), formBody(e.kv...)), e.status, e.body)
		})
	}

	r := do(t, http.MethodPost, movePath, token(owner.Token), formBody("to_project_id", itoa(to.ID)))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	moved := decode[obj](t, r.body)
	for k, v := range map[string]any{"project_id": to.ID, "iid": 2, "title": "Traveller", "description": "goes places",
		"state": "opened", "created_at": str(is, "created_at"), "milestone": nil} {
		wantField(t, moved, k, v)
	}
	if num(moved, "id") == num(is, "id") {
		t.Errorf("the moved issue kept its id")
	}
	a, _ := moved["assignee"].(obj)
	wantField(t, a, "username", reporter.Username)
	old := decode[obj](t, do(t, http.MethodGet, issuePath(from, is, ""), token(owner.Token)).body)
	wantField(t, old, "state", "closed")
	// A moved issue cannot move again.
	wantError(t, do(t, http.MethodPost, movePath, token(owner.Token), formBody("to_project_id", itoa(to.ID))),
		http.StatusBadRequest, `{"message":"Cannot move issue due to insufficient permissions!"}`)
	// The source's feed closes it, the target's opens the new one.
	r = do(t, http.MethodGet, "/projects/"+from.idPath()+"/events", token(owner.Token))
	if evs := decode[[]obj](t, r.body); len(evs) == 0 || str(evs[0], "action_name") != "closed" || num(evs[0], "target_id") != num(is, "id") {
		t.Errorf("source feed: %s", r.body)
	}
	r = do(t, http.MethodGet, "/projects/"+to.idPath()+"/events", token(owner.Token))
	if evs := decode[[]obj](t, r.body); len(evs) == 0 || str(evs[0], "action_name") != "opened" || num(evs[0], "target_id") != num(moved, "id") {
		t.Errorf("target feed: %s", r.body)
	}
}

func TestIssueSubscriptions(t *testing.T) {
	t.Parallel()
	owner, watcher := newUser(t), newUser(t)
	p := newProject(t, owner.Token, "visibility_level", "20")
	is := newIssue(t, owner.Token, p, "watch me")
	sub := issuePath(p, is, "/subscription")

	// The author takes part, so is subscribed: subscribing again is 304.
	r := do(t, http.MethodPost, sub, token(owner.Token))
	wantStatus(t, r, http.StatusNotModified)
	if len(r.body) != 0 {
		t.Errorf("304 with a body: %q", r.body)
	}
	r = do(t, http.MethodDelete, sub, token(owner.Token))
	if wantStatus(t, r, http.StatusOK) {
		wantField(t, decode[obj](t, r.body), "subscribed", false)
	}
	wantStatus(t, do(t, http.MethodDelete, sub, token(owner.Token)), http.StatusNotModified)
	r = do(t, http.MethodGet, issuePath(p, is, ""), token(owner.Token))
	wantField(t, decode[obj](t, r.body), "subscribed", false)

	// Anyone who reads the project may subscribe.
	r = do(t, http.MethodGet, issuePath(p, is, ""), token(watcher.Token))
	wantField(t, decode[obj](t, r.body), "subscribed", false)
	r = do(t, http.MethodPost, sub, token(watcher.Token))
	if wantStatus(t, r, http.StatusCreated) {
		wantField(t, decode[obj](t, r.body), "subscribed", true)
	}
	wantStatus(t, do(t, http.MethodPost, sub, token(watcher.Token)), http.StatusNotModified)
	// subscribed is the caller's own.
	r = do(t, http.MethodGet, "/projects/"+p.idPath()+"/issues", token(owner.Token))
	wantField(t, decode[[]obj](t, r.body)[0], "subscribed", false)

	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		wantError(t, do(t, method, "/projects/"+p.idPath()+"/issues/0/subscription", token(watcher.Token)), http.StatusNotFound, `{"message":"404 Not found"}`)
	}
}

func TestIssueHooks(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	owner := newUser(t)
	p := newProject(t, owner.Token, "description", "tracked")
	rc := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/issues", "push_events", "false", "issues_events", "true")
	addProjectHook(t, owner.Token, p, "url", rc.srv.URL+"/pushes", "push_events", "true")

	is := newIssue(t, owner.Token, p, "Hooked", "assignee_id", itoa(owner.ID))
	r := do(t, http.MethodPut, issuePath(p, is, ""), token(owner.Token), formBody("state_event", "close"))
	wantStatus(t, r, http.StatusOK)
	r = do(t, http.MethodPut, issuePath(p, is, ""), token(owner.Token), formBody("state_event", "reopen", "title", "Hooked again"))
	wantStatus(t, r, http.StatusOK)

	got := rc.waitFor(t, "/issues", 4, func(o obj) bool { return o != nil })
	if len(got) != 4 {
		t.Fatalf("issue hook deliveries: %d, want 4", len(got))
	}
	var actions []string
	for _, h := range got {
		if ev := h.header.Get("X-Gitlab-Event"); ev != "Issue Hook" {
			t.Errorf("X-Gitlab-Event = %q", ev)
		}
		d := h.payload()
		wantField(t, d, "object_kind", "issue")
		attrs, _ := d["object_attributes"].(obj)
		actions = append(actions, str(attrs, "action"))
	}
	sort.Strings(actions)
	if strings.Join(actions, ",") != "close,open,reopen,update" {
		t.Errorf("actions = %v", actions)
	}
	d := got[0].payload()
	attrs, _ := d["object_attributes"].(obj)
	for k, v := range map[string]any{"id": num(is, "id"), "iid": 1, "project_id": p.ID, "author_id": owner.ID, "assignee_id": owner.ID} {
		wantField(t, attrs, k, v)
	}
	web := str(getProject(t, owner.Token, p.ID), "web_url")
	wantField(t, attrs, "url", web+"/issues/1")
	user, _ := d["user"].(obj)
	wantField(t, user, "username", owner.Username)
	assignee, _ := d["assignee"].(obj)
	wantField(t, assignee, "username", owner.Username)
	repo, _ := d["repository"].(obj)
	wantField(t, repo, "homepage", web)
	wantField(t, repo, "description", "tracked")
	project, _ := d["project"].(obj)
	wantField(t, project, "path_with_namespace", p.PathWithNamespace)
	if n := len(rc.matching("/pushes", func(obj) bool { return true })); n != 0 {
		t.Errorf("a hook without issues_events got %d deliveries", n)
	}

	// A move opens the new issue in the target (its hooks hear "open")
	// and closes the old one (the source's hear "close").
	q := newProject(t, owner.Token)
	addProjectHook(t, owner.Token, q, "url", rc.srv.URL+"/target", "push_events", "false", "issues_events", "true")
	r = do(t, http.MethodPost, issuePath(p, is, "/move"), token(owner.Token), formBody("to_project_id", itoa(q.ID)))
	if !wantStatus(t, r, http.StatusCreated) {
		return
	}
	moved := decode[obj](t, r.body)
	opened := rc.waitFor(t, "/target", 1, func(o obj) bool { return o != nil })
	if len(opened) != 1 {
		t.Fatalf("target hook deliveries: %d, want 1", len(opened))
	}
	attrs, _ = opened[0].payload()["object_attributes"].(obj)
	for k, v := range map[string]any{"action": "open", "id": num(moved, "id"), "project_id": q.ID, "iid": 1} {
		wantField(t, attrs, k, v)
	}
	closed := rc.waitFor(t, "/issues", 5, func(o obj) bool { return o != nil })
	if len(closed) != 5 {
		t.Fatalf("source hook deliveries after the move: %d, want 5", len(closed))
	}
	var last obj
	for _, h := range closed {
		a, _ := h.payload()["object_attributes"].(obj)
		if str(a, "action") == "close" && a["moved_to_id"] != nil {
			last = a
		}
	}
	if last == nil {
		t.Fatalf("no close delivery for the moved issue")
	}
	wantField(t, last, "moved_to_id", num(moved, "id"))
	wantField(t, last, "state", "closed")
}
