package persistence_test

import (
	"context"
	"errors"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"CommitStatuses", testCommitStatuses})
}

func testCommitStatuses(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "statuses")
	q := newProject(t, s, u, userNamespace(t, s, u), "other")
	const sha = "1234567890123456789012345678901234567890"
	str := func(v string) *string { return &v }
	report := func(r persistence.CommitStatusReport) *persistence.CommitStatus {
		t.Helper()
		if r.ProjectID == 0 {
			r.ProjectID = p.ID
		}
		r.SHA, r.AuthorID = sha, u.ID
		r.LookupName, r.LookupRef = r.Name, r.Ref
		if r.PipelineRef == "" {
			r.PipelineRef = "master"
		}
		cs, err := s.ReportCommitStatus(ctx, r)
		if err != nil {
			t.Fatalf("ReportCommitStatus(%+v) = %v", r, err)
		}
		return cs
	}

	if st, err := s.CommitState(ctx, p.ID, sha); err != nil || st != nil {
		t.Errorf("CommitState with no status = %v, %v; want nil", st, err)
	}
	// No name: a new "default" status each time (8.7 looked for a NULL name).
	a := report(persistence.CommitStatusReport{State: "success"})
	if a.Name != "default" || a.Status != "success" || a.FinishedAt == nil || a.StartedAt != nil ||
		a.Stage == nil || *a.Stage != "external" || a.Ref != nil || a.Author == nil || a.Author.ID != u.ID {
		t.Errorf("first status = %+v", a)
	}
	b := report(persistence.CommitStatusReport{State: "pending"})
	if b.ID == a.ID {
		t.Errorf("an unnamed status was reused")
	}
	// A named pending status is moved to running, then to failed.
	c := report(persistence.CommitStatusReport{State: "pending", Name: str("ci"), Ref: str("master"), TargetURL: str("http://ci/1")})
	c2 := report(persistence.CommitStatusReport{State: "running", Name: str("ci"), Ref: str("master"), Description: str("building")})
	if c2.ID != c.ID || c2.Status != "running" || c2.StartedAt == nil || deref(c2.TargetURL) != "http://ci/1" || deref(c2.Description) != "building" {
		t.Errorf("running = %+v, want the pending one started", c2)
	}
	c3 := report(persistence.CommitStatusReport{State: "failed", Name: str("ci"), Ref: str("master")})
	if c3.ID != c.ID || c3.Status != "failed" || c3.FinishedAt == nil {
		t.Errorf("failed = %+v", c3)
	}
	// A finished status is not reused.
	d := report(persistence.CommitStatusReport{State: "running", Name: str("ci"), Ref: str("master")})
	if d.ID == c.ID || d.Status != "running" {
		t.Errorf("after a finished status = %+v, want a new running one", d)
	}
	// An unknown state keeps the saved fields, pending, and fails.
	_, err := s.ReportCommitStatus(ctx, persistence.CommitStatusReport{ProjectID: p.ID, SHA: sha, PipelineRef: "master", AuthorID: u.ID, State: "bogus", Name: str("lint"), LookupName: str("lint")})
	var ve *persistence.ValidationError
	if !errors.As(err, &ve) || !ve.Has("status", "is invalid") {
		t.Errorf("unknown state = %v, want status is invalid", err)
	}
	report(persistence.CommitStatusReport{ProjectID: q.ID, State: "success"})

	latest, total, err := s.ListCommitStatuses(ctx, p.ID, sha, persistence.CommitStatusFilter{}, persistence.Page{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	// default (b), ci (d) and lint.
	if total != 3 || len(latest) != 3 || latest[0].ID != b.ID || latest[1].ID != d.ID || latest[2].Name != "lint" || latest[2].Status != "pending" {
		t.Errorf("latest = %d %+v", total, latest)
	}
	all, total, err := s.ListCommitStatuses(ctx, p.ID, sha, persistence.CommitStatusFilter{All: true}, persistence.Page{Offset: 1, Limit: 2})
	if err != nil || total != 5 || len(all) != 2 || all[0].ID != b.ID {
		t.Errorf("all, page 2 of 2 = %d %+v, %v", total, all, err)
	}
	for _, tt := range []struct {
		f    persistence.CommitStatusFilter
		want int64
	}{
		{persistence.CommitStatusFilter{Ref: "master", All: true}, 2},
		{persistence.CommitStatusFilter{Name: "ci"}, 1},
		{persistence.CommitStatusFilter{Stage: "external"}, 3},
		{persistence.CommitStatusFilter{Stage: "test"}, 0},
	} {
		if _, n, err := s.ListCommitStatuses(ctx, p.ID, sha, tt.f, persistence.Page{Limit: 20}); err != nil || n != tt.want {
			t.Errorf("filter %+v: %d, %v; want %d", tt.f, n, err, tt.want)
		}
	}
	if st, err := s.CommitState(ctx, p.ID, sha); err != nil || st == nil || *st != "running" {
		t.Errorf("CommitState = %v, %v; want running", st, err)
	}
	if st, err := s.CommitState(ctx, q.ID, sha); err != nil || st == nil || *st != "success" {
		t.Errorf("CommitState of the other project = %v, %v; want success", st, err)
	}

	// Deleting a project takes its statuses.
	if _, err := s.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, n, err := s.ListCommitStatuses(ctx, p.ID, sha, persistence.CommitStatusFilter{All: true}, persistence.Page{Limit: 20}); err != nil || n != 0 {
		t.Errorf("statuses of a deleted project: %d, %v", n, err)
	}
	if _, n, _ := s.ListCommitStatuses(ctx, q.ID, sha, persistence.CommitStatusFilter{All: true}, persistence.Page{Limit: 20}); n != 1 {
		t.Errorf("the other project's statuses: %d, want 1", n)
	}
}
