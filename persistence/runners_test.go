package persistence_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"RunnersManaged", testRunnersManaged}, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"LegacyCI", testLegacyCI})
}

// insertRunner writes a ci_runners row directly: registration belongs to
// the runner protocol, and these tests are about what happens after it.
func insertRunner(t *testing.T, s *persistence.Store, shared, active bool, contacted *time.Time) *persistence.Runner {
	t.Helper()
	ctx := context.Background()
	tok := persistence.NewToken(20)
	now := time.Now().UTC()
	if err := s.Exec(ctx, `INSERT INTO ci_runners (token, is_shared, active, contacted_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tok, shared, active, contacted, now, now); err != nil {
		t.Fatal(err)
	}
	rs, _, err := s.ListRunners(ctx, persistence.RunnerFilter{}, persistence.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if rs[i].Token == tok {
			return &rs[i]
		}
	}
	t.Fatalf("runner %s not listed", tok)
	return nil
}

func runnerIDs(rs []persistence.Runner) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func testRunnersManaged(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	owner, dev := newUser(t, s), newUser(t, s)
	p := newProject(t, s, owner, userNamespace(t, s, owner), "runners-a")
	q := newProject(t, s, owner, userNamespace(t, s, owner), "runners-b")
	if _, err := s.AddMember(ctx, persistence.SourceProject, p.ID, dev.ID, persistence.AccessDeveloper, owner.ID); err != nil {
		t.Fatal(err)
	}
	recent := time.Now().UTC().Add(-time.Minute)
	old := time.Now().UTC().Add(-2 * time.Hour)
	shared := insertRunner(t, s, true, true, &recent)
	specA := insertRunner(t, s, false, true, &old)
	specB := insertRunner(t, s, false, false, nil)
	orphan := insertRunner(t, s, false, true, nil)
	for _, link := range []struct{ r, p int64 }{{specA.ID, p.ID}, {specB.ID, p.ID}, {specB.ID, q.ID}} {
		if _, created, err := s.EnableRunner(ctx, link.r, link.p); err != nil || !created {
			t.Fatalf("EnableRunner(%d, %d) = %v, %v", link.r, link.p, created, err)
		}
	}
	if _, created, err := s.EnableRunner(ctx, specA.ID, p.ID); err != nil || created {
		t.Errorf("enabling twice: created %v, %v; want the existing link", created, err)
	}

	list := []struct {
		name string
		f    persistence.RunnerFilter
		want []int64
	}{
		{"all", persistence.RunnerFilter{}, []int64{shared.ID, specA.ID, specB.ID, orphan.ID}},
		{"shared", persistence.RunnerFilter{Scope: "shared"}, []int64{shared.ID}},
		{"specific", persistence.RunnerFilter{Scope: "specific"}, []int64{specA.ID, specB.ID, orphan.ID}},
		{"paused", persistence.RunnerFilter{Scope: "paused"}, []int64{specB.ID}},
		{"active", persistence.RunnerFilter{Scope: "active"}, []int64{shared.ID, specA.ID, orphan.ID}},
		{"online", persistence.RunnerFilter{Scope: "online"}, []int64{shared.ID}},
		{"master's", persistence.RunnerFilter{ManagedBy: owner.ID}, []int64{specA.ID, specB.ID}},
		{"master's active", persistence.RunnerFilter{ManagedBy: owner.ID, Scope: "active"}, []int64{specA.ID}},
		{"developer's", persistence.RunnerFilter{ManagedBy: dev.ID}, []int64{}},
		{"project's and shared", persistence.RunnerFilter{ProjectID: q.ID}, []int64{shared.ID, specB.ID}},
	}
	for _, tt := range list {
		t.Run(tt.name, func(t *testing.T) {
			rs, total, err := s.ListRunners(ctx, tt.f, persistence.Page{Limit: 20})
			if err != nil {
				t.Fatal(err)
			}
			if got := runnerIDs(rs); !slices.Equal(got, tt.want) || total != int64(len(tt.want)) {
				t.Errorf("got %v (total %d), want %v", got, total, tt.want)
			}
		})
	}
	if _, _, err := s.ListRunners(ctx, persistence.RunnerFilter{Scope: "bogus"}, persistence.Page{}); err == nil {
		t.Errorf("unknown scope accepted")
	}

	for _, tt := range []struct {
		runner, user int64
		want         bool
	}{{specA.ID, owner.ID, true}, {specA.ID, dev.ID, false}, {shared.ID, owner.ID, false}, {orphan.ID, owner.ID, false}} {
		if got, err := s.RunnerManagedBy(ctx, tt.runner, tt.user); err != nil || got != tt.want {
			t.Errorf("RunnerManagedBy(%d, %d) = %v, %v; want %v", tt.runner, tt.user, got, err, tt.want)
		}
	}
	if ids, err := s.RunnerProjectIDs(ctx, specB.ID); err != nil || !slices.Equal(ids, []int64{p.ID, q.ID}) {
		t.Errorf("RunnerProjectIDs = %v, %v", ids, err)
	}

	desc, paused, tags := "build box", false, "docker,linux"
	r, err := s.UpdateRunner(ctx, specA.ID, persistence.RunnerUpdate{Description: &desc, Active: &paused, TagList: &tags})
	if err != nil || deref(r.Description) != desc || r.Active || r.TagList != tags {
		t.Errorf("UpdateRunner = %+v, %v", r, err)
	}
	if r, err = s.GetRunner(ctx, specA.ID); err != nil || r.Active || r.TagList != tags {
		t.Errorf("GetRunner after update = %+v, %v", r, err)
	}
	if _, err := s.UpdateRunner(ctx, 999999, persistence.RunnerUpdate{}); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("UpdateRunner(unknown) = %v, want ErrNotFound", err)
	}

	// The last link stays when asked to; otherwise it goes.
	if _, err := s.DisableRunner(ctx, p.ID, specA.ID, true); !errors.Is(err, persistence.ErrLastRunnerProject) {
		t.Errorf("disabling the last project = %v, want ErrLastRunnerProject", err)
	}
	if rp, err := s.DisableRunner(ctx, p.ID, specB.ID, true); err != nil || rp.ProjectID != p.ID {
		t.Errorf("DisableRunner = %+v, %v", rp, err)
	}
	if _, err := s.GetRunnerProject(ctx, p.ID, specB.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("link still there: %v", err)
	}
	if _, err := s.DisableRunner(ctx, p.ID, specB.ID, false); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("disabling twice = %v, want ErrNotFound", err)
	}

	if r, err := s.DeleteRunner(ctx, specB.ID); err != nil || r.ID != specB.ID {
		t.Fatalf("DeleteRunner = %+v, %v", r, err)
	}
	if _, err := s.GetRunner(ctx, specB.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("removed runner still found: %v", err)
	}
	if ids, _ := s.RunnerProjectIDs(ctx, specB.ID); len(ids) != 0 {
		t.Errorf("removed runner keeps links to %v", ids)
	}
}

func testLegacyCI(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	off := false
	origin := newProject(t, s, u, userNamespace(t, s, u), "origin")
	fork := newProject(t, s, u, userNamespace(t, s, u), "fork", func(np *persistence.NewProject) { np.BuildsEnabled = &off })
	if err := s.Exec(ctx, `UPDATE projects SET build_timeout = 600, build_allow_git_fetch = ?, shared_runners_enabled = ? WHERE id = ?`, false, false, origin.ID); err != nil {
		t.Fatal(err)
	}
	p, wasOff, err := s.EnableCI(ctx, fork.ID, &origin.ID)
	if err != nil || !wasOff || !p.BuildsEnabled || p.BuildTimeout != 600 || p.BuildAllowGitFetch || p.SharedRunnersEnabled {
		t.Fatalf("EnableCI = %+v, %v, %v", p, wasOff, err)
	}
	if p.PathWithNamespace() != u.Username+"/fork" {
		t.Errorf("EnableCI answers %q without its namespace", p.PathWithNamespace())
	}
	if _, wasOff, err := s.EnableCI(ctx, fork.ID, nil); err != nil || wasOff {
		t.Errorf("EnableCI again: wasOff %v, %v", wasOff, err)
	}
	if _, _, err := s.EnableCI(ctx, 999999, nil); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("EnableCI(unknown) = %v", err)
	}

	const sha = "0123456789012345678901234567890123456789"
	now := time.Now().UTC()
	for i, ref := range []string{"master", "feature", "master"} {
		if err := s.Exec(ctx, `INSERT INTO ci_pipelines (project_id, ref, sha, tag, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			origin.ID, ref, fmt.Sprintf("%s%d", sha[:39], i), false, "pending", now, now); err != nil {
			t.Fatal(err)
		}
	}
	list, total, err := s.ListLegacyCommits(ctx, origin.ID, persistence.Page{Limit: 2})
	if err != nil || total != 3 || len(list) != 2 || list[0].ID < list[1].ID {
		t.Fatalf("ListLegacyCommits = %d items of %d, %v; want the newest 2 of 3", len(list), total, err)
	}
	if c, err := s.FindLegacyCommit(ctx, origin.ID, sha[:39]+"1", "feature"); err != nil || c.Ref != "feature" {
		t.Errorf("FindLegacyCommit = %+v, %v", c, err)
	}
	if _, err := s.FindLegacyCommit(ctx, origin.ID, sha[:39]+"1", "master"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("FindLegacyCommit(other ref) = %v, want ErrNotFound", err)
	}
	if err := s.Exec(ctx, `INSERT INTO commit_statuses (project_id, sha, pipeline_ref, name, status, type, pipeline_id, created_at, updated_at)
		VALUES (?, ?, 'master', 'rspec', 'pending', 'Ci::Build', ?, ?, ?)`, origin.ID, list[0].SHA, list[0].ID, now, now); err != nil {
		t.Fatal(err)
	}
	builds, err := s.LegacyCommitBuilds(ctx, []int64{list[0].ID, list[1].ID})
	if err != nil || len(builds[list[0].ID]) != 1 || builds[list[0].ID][0].Name != "rspec" || len(builds[list[1].ID]) != 0 {
		t.Errorf("LegacyCommitBuilds = %+v, %v", builds, err)
	}
}
