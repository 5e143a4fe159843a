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
	}{"Releases", testReleases})
}

func testReleases(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "tagged")
	q := newProject(t, s, u, userNamespace(t, s, u), "other")

	if _, err := s.GetRelease(ctx, p.ID, "v1"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("GetRelease before any = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateRelease(ctx, p.ID, "v1", "x"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("UpdateRelease before any = %v, want ErrNotFound", err)
	}
	r, err := s.CreateRelease(ctx, p.ID, "v1", "first notes")
	if err != nil {
		t.Fatal(err)
	}
	if r.Tag != "v1" || r.Description != "first notes" || r.ProjectID != p.ID {
		t.Errorf("created %+v", r)
	}
	if _, err := s.CreateRelease(ctx, p.ID, "v1", "again"); !errors.Is(err, persistence.ErrReleaseExists) {
		t.Errorf("second CreateRelease = %v, want ErrReleaseExists", err)
	}
	// The same tag name in another project is another release.
	if _, err := s.CreateRelease(ctx, q.ID, "v1", "q's notes"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.UpdateRelease(ctx, p.ID, "v1", "edited"); err != nil || r.Description != "edited" {
		t.Errorf("UpdateRelease = %+v, %v; want description edited", r, err)
	}
	if r, err := s.SetRelease(ctx, p.ID, "v2", "set"); err != nil || r.Description != "set" {
		t.Errorf("SetRelease (new) = %+v, %v", r, err)
	}
	if r, err := s.SetRelease(ctx, p.ID, "v2", "set again"); err != nil || r.Description != "set again" {
		t.Errorf("SetRelease (existing) = %+v, %v", r, err)
	}
	all, err := s.ListReleases(ctx, p.ID, []string{"v1", "v2", "v3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["v1"].Description != "edited" || all["v2"].Description != "set again" {
		t.Errorf("ListReleases = %v, want v1 and v2", all)
	}
	if err := s.DeleteRelease(ctx, p.ID, "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRelease(ctx, p.ID, "v1"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("GetRelease after delete = %v, want ErrNotFound", err)
	}
	if r, err := s.GetRelease(ctx, q.ID, "v1"); err != nil || r.Description != "q's notes" {
		t.Errorf("the other project's release = %+v, %v", r, err)
	}
	// Deleting a project takes its releases.
	if _, err := s.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRelease(ctx, p.ID, "v2"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("release of a deleted project = %v, want ErrNotFound", err)
	}
}
