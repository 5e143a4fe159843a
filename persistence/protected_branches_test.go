package persistence_test

import (
	"context"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"ProtectedBranches", testProtectedBranches})
}

func testProtectedBranches(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "guarded")
	q := newProject(t, s, u, userNamespace(t, s, u), "other")

	first, err := s.ProtectBranch(ctx, p.ID, "master")
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.ProjectID != p.ID || first.Name != "master" {
		t.Errorf("ProtectBranch = %+v, want a row for master of %d", first, p.ID)
	}
	// Protecting again is no error and keeps the row.
	again, err := s.ProtectBranch(ctx, p.ID, "master")
	if err != nil || again.ID != first.ID {
		t.Errorf("ProtectBranch again = %+v, %v; want row %d", again, err, first.ID)
	}
	if _, err := s.ProtectBranch(ctx, p.ID, "feature/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProtectBranch(ctx, q.ID, "stable"); err != nil {
		t.Fatal(err)
	}

	for _, row := range []struct {
		project int64
		name    string
		want    bool
	}{
		{p.ID, "master", true},
		{p.ID, "feature/x", true},
		{p.ID, "Master", false}, // names match exactly
		{p.ID, "stable", false}, // another project's
		{q.ID, "stable", true},
		{q.ID, "master", false},
	} {
		got, err := s.IsProtected(ctx, row.project, row.name)
		if err != nil || got != row.want {
			t.Errorf("IsProtected(%d, %q) = %v, %v; want %v", row.project, row.name, got, err, row.want)
		}
	}

	list, err := s.ListProtectedBranches(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pb := range list {
		names = append(names, pb.Name)
	}
	if len(names) != 2 || names[0] != "feature/x" || names[1] != "master" {
		t.Errorf("ListProtectedBranches = %v, want [feature/x master]", names)
	}

	if ok, err := s.UnprotectBranch(ctx, p.ID, "master"); err != nil || !ok {
		t.Errorf("UnprotectBranch(master) = %v, %v; want true", ok, err)
	}
	if ok, err := s.UnprotectBranch(ctx, p.ID, "master"); err != nil || ok {
		t.Errorf("UnprotectBranch(master) again = %v, %v; want false", ok, err)
	}
	if got, _ := s.IsProtected(ctx, p.ID, "master"); got {
		t.Errorf("master is still protected after UnprotectBranch")
	}

	// Deleting the project takes its rows, and only its.
	if _, err := s.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListProtectedBranches(ctx, p.ID); err != nil || len(list) != 0 {
		t.Errorf("after DeleteProject: %d protected branches, %v; want none", len(list), err)
	}
	if got, _ := s.IsProtected(ctx, q.ID, "stable"); !got {
		t.Errorf("the other project's stable lost its protection")
	}
}
