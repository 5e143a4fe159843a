package persistence_test

// The issue tracker's store, on SQLite and PostgreSQL: gap-free iids under
// concurrency, the system notes and events of an update, a move, labels
// and milestones.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, []struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{
		{"IssueIIDsConcurrent", testIssueIIDsConcurrent},
		{"IssueUpdateNotes", testIssueUpdateNotes},
		{"IssueMove", testIssueMove},
		{"IssueFilters", testIssueFilters},
		{"Labels", testLabels},
		{"Milestones", testMilestones},
	}...)
}

func issueProject(t *testing.T, s *persistence.Store) (*persistence.User, *persistence.Project) {
	t.Helper()
	u := newUser(t, s)
	return u, newProject(t, s, u, userNamespace(t, s, u), "tracker")
}

func mustIssue(t *testing.T, s *persistence.Store, n persistence.NewIssue) *persistence.Issue {
	t.Helper()
	is, err := s.CreateIssue(context.Background(), n)
	if err != nil {
		t.Fatalf("CreateIssue %q: %v", n.Title, err)
	}
	return is
}

func testIssueIIDsConcurrent(t *testing.T, s *persistence.Store) {
	u, p := issueProject(t, s)
	const n = 32
	var wg sync.WaitGroup
	iids := make([]int, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			is, err := s.CreateIssue(context.Background(), persistence.NewIssue{ProjectID: p.ID, AuthorID: u.ID, Title: fmt.Sprint("c", i), Labels: []string{"shared"}})
			errs[i] = err
			if err == nil {
				iids[i] = int(is.IID)
			}
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	sort.Ints(iids)
	for i, iid := range iids {
		if iid != i+1 {
			t.Fatalf("iids = %v, want 1..%d", iids, n)
		}
	}
	// A milestone's iids are its own sequence.
	m, err := s.CreateMilestone(context.Background(), p.ID, u.ID, persistence.MilestoneParams{Title: str("m")})
	if err != nil || m.IID != 1 {
		t.Fatalf("milestone: %+v, %v", m, err)
	}
}

func testIssueUpdateNotes(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, p := issueProject(t, s)
	other := newUser(t, s)
	m, err := s.CreateMilestone(ctx, p.ID, u.ID, persistence.MilestoneParams{Title: str("v1")})
	if err != nil {
		t.Fatal(err)
	}
	is := mustIssue(t, s, persistence.NewIssue{ProjectID: p.ID, AuthorID: u.ID, Title: "T", Labels: []string{"a"}})
	words := func(is *persistence.Issue, ch *persistence.IssueChanges) []string {
		var out []string
		if ch.State != "" {
			out = append(out, "state "+ch.State)
		}
		if ch.OldTitle != nil {
			out = append(out, "title "+*ch.OldTitle+">"+is.Title)
		}
		if len(ch.AddedLabels)+len(ch.RemovedLabels) > 0 {
			out = append(out, fmt.Sprintf("labels +%d -%d", len(ch.AddedLabels), len(ch.RemovedLabels)))
		}
		if ch.MilestoneChanged {
			out = append(out, "milestone")
		}
		if ch.AssigneeChanged {
			out = append(out, "assignee")
		}
		return out
	}
	zero := int64(0)
	steps := []struct {
		name  string
		u     persistence.IssueUpdate
		notes []string
		state string
	}{
		{"close and rename", persistence.IssueUpdate{StateEvent: "close", Title: str("T2")}, []string{"state closed", "title T>T2"}, "closed"},
		{"close again", persistence.IssueUpdate{StateEvent: "close"}, nil, "closed"},
		{"labels, milestone, assignee", persistence.IssueUpdate{Labels: []string{"b", "c"}, MilestoneID: &m.ID, AssigneeID: &other.ID},
			[]string{"labels +2 -1", "milestone", "assignee"}, "closed"},
		{"same again", persistence.IssueUpdate{Labels: []string{"c", "b"}, MilestoneID: &m.ID, AssigneeID: &other.ID}, nil, "closed"},
		{"reopen and clear", persistence.IssueUpdate{StateEvent: "reopen", MilestoneID: &zero, AssigneeID: &zero},
			[]string{"state reopened", "milestone", "assignee"}, "reopened"},
	}
	var want []string
	for _, st := range steps {
		st.u.EditorID = u.ID
		got, _, err := s.UpdateIssue(ctx, is, st.u, words)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.State != st.state {
			t.Errorf("%s: state %s, want %s", st.name, got.State, st.state)
		}
		want = append(want, st.notes...)
	}
	notes, _, err := s.ListNotes(ctx, persistence.NoteableIssue, is.ID, persistence.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range notes {
		if !n.System || n.AuthorID == nil || *n.AuthorID != u.ID {
			t.Errorf("note %q: system %v, author %v", n.Note, n.System, n.AuthorID)
		}
		got = append(got, n.Note)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("system notes = %q, want %q", got, want)
	}
	events, _, err := s.ListProjectEvents(ctx, p.ID, persistence.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []int
	for _, e := range events {
		if e.TargetType != nil && *e.TargetType == persistence.NoteableIssue {
			actions = append(actions, e.Action)
		}
	}
	// Newest first: reopened, closed, created (one close only).
	if fmt.Sprint(actions) != fmt.Sprint([]int{persistence.EventReopened, persistence.EventClosed, persistence.EventCreated}) {
		t.Errorf("event actions = %v", actions)
	}
}

func testIssueMove(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, p := issueProject(t, s)
	q := newProject(t, s, u, userNamespace(t, s, u), "elsewhere")
	mustIssue(t, s, persistence.NewIssue{ProjectID: q.ID, AuthorID: u.ID, Title: "first there"})
	is := mustIssue(t, s, persistence.NewIssue{ProjectID: p.ID, AuthorID: u.ID, Title: "mover", Labels: []string{"x"}})
	if err := s.CreateNote(ctx, &persistence.Note{ProjectID: &p.ID, NoteableType: persistence.NoteableIssue, NoteableID: &is.ID, Note: "a comment", AuthorID: &u.ID}); err != nil {
		t.Fatal(err)
	}
	moved, old, err := s.MoveIssue(ctx, is, q.ID, u.ID, func(old, moved *persistence.Issue) (string, string) {
		return fmt.Sprint("from #", old.IID), fmt.Sprint("to #", moved.IID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if moved.ProjectID != q.ID || moved.IID != 2 || moved.Title != "mover" || len(moved.Labels) != 0 || !moved.CreatedAt.Equal(is.CreatedAt) {
		t.Errorf("moved = %+v", moved)
	}
	if old.State != persistence.IssueClosed || old.MovedToID == nil || *old.MovedToID != moved.ID {
		t.Errorf("old = %+v", old)
	}
	if _, n, err := s.ListIssues(ctx, persistence.IssueFilter{ProjectID: &p.ID, Labels: []string{"x"}, State: "closed"}, persistence.Page{Limit: 20}); err != nil || n != 1 {
		t.Errorf("closed issues labelled x after the move: %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		id   int64
		want string
	}{{moved.ID, "a comment|from #1"}, {is.ID, "a comment|to #2"}} {
		notes, _, err := s.ListNotes(ctx, persistence.NoteableIssue, c.id, persistence.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range notes {
			got = append(got, n.Note)
		}
		if strings.Join(got, "|") != c.want {
			t.Errorf("notes of %d = %q, want %q", c.id, got, c.want)
		}
	}
}

func testIssueFilters(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, p := issueProject(t, s)
	mk := func(title string, labels ...string) *persistence.Issue {
		return mustIssue(t, s, persistence.NewIssue{ProjectID: p.ID, AuthorID: u.ID, Title: title, Labels: labels})
	}
	mk("ab", "a", "b")
	aIID := mk("a", "a").IID
	c := mk("c", "c")
	mk("none")
	if _, _, err := s.UpdateIssue(ctx, c, persistence.IssueUpdate{StateEvent: "close", EditorID: u.ID}, nil); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name string
		f    persistence.IssueFilter
		want string
	}{
		{"any label", persistence.IssueFilter{Labels: []string{"a", "c"}}, "ab,a,c"},
		{"any label, opened", persistence.IssueFilter{Labels: []string{"a", "c"}, State: "opened"}, "ab,a"},
		{"closed", persistence.IssueFilter{State: "closed"}, "c"},
		// The count reads the links' copy of the state: it must follow.
		{"label of a closed issue, opened", persistence.IssueFilter{Labels: []string{"c"}, State: "opened"}, ""},
		{"label of a closed issue, closed", persistence.IssueFilter{Labels: []string{"c"}, State: "closed"}, "c"},
		{"labels and an iid", persistence.IssueFilter{Labels: []string{"a"}, IID: &aIID}, "a"},
		{"by state", persistence.IssueFilter{ByState: true}, "none,a,ab,c"},
	}
	for _, r := range rows {
		r.f.ProjectID = &p.ID
		list, total, err := s.ListIssues(ctx, r.f, persistence.Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, is := range list {
			got = append(got, is.Title)
		}
		if strings.Join(got, ",") != r.want || int(total) != len(got) {
			t.Errorf("%s: %v (total %d), want %s", r.name, got, total, r.want)
		}
	}
}

func testLabels(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	_, p := issueProject(t, s)
	l, err := s.CreateLabel(ctx, p.ID, "bug", "#fff", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLabel(ctx, p.ID, "bug", "#000000", nil); !errors.Is(err, persistence.ErrLabelExists) {
		t.Errorf("duplicate: %v", err)
	}
	_, err = s.CreateLabel(ctx, p.ID, "a,b", "blue", nil)
	wantValidation(t, err, "color", "must be a valid color code")
	wantValidation(t, err, "title", "is invalid")
	if _, err := s.CreateLabel(ctx, p.ID, "other", "#123456", nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateLabel(ctx, l, persistence.LabelUpdate{Title: str("other")})
	wantValidation(t, err, "title", "has already been taken")
	bad, err := s.InvalidLabelTitles(ctx, p.ID, []string{"bug", " ok ", "x&y", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 || bad["x&y"]["title"][0] != "is invalid" || bad[""]["title"][0] != "can't be blank" {
		t.Errorf("invalid titles = %v", bad)
	}
}

func testMilestones(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u, p := issueProject(t, s)
	m, err := s.CreateMilestone(ctx, p.ID, u.ID, persistence.MilestoneParams{Title: str("v1"), DueDate: str("2016-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateMilestone(ctx, p.ID, u.ID, persistence.MilestoneParams{Title: str("v1")})
	wantValidation(t, err, "title", "has already been taken")
	m, err = s.UpdateMilestone(ctx, m, u.ID, persistence.MilestoneParams{StateEvent: "close", DueDate: str("")})
	if err != nil || m.State != persistence.MilestoneClosed || m.DueDate != nil {
		t.Fatalf("close: %+v, %v", m, err)
	}
	list, total, err := s.ListMilestones(ctx, p.ID, persistence.MilestoneFilter{State: "active"}, persistence.Page{Limit: 10})
	if err != nil || total != 0 || len(list) != 0 {
		t.Errorf("active milestones: %v %d %v", list, total, err)
	}
}
