package persistence_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, []struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{
		{"PipelineStages", testPipelineStages},
		{"PipelineStageRace", testPipelineStageRace},
		{"PipelineCreateRace", testPipelineCreateRace},
		{"AggregateStatus", testAggregateStatus},
	}...)
}

// job is a planned build of a stage.
func job(name string, stage int, when string, allowFailure bool) persistence.CommitStatus {
	st := fmt.Sprintf("stage%d", stage)
	cmd := "echo " + name
	return persistence.CommitStatus{Name: name, Stage: &st, StageIdx: stage, RunWhen: when, AllowFailure: allowFailure, Commands: &cmd}
}

func setBuildStatus(t *testing.T, s *persistence.Store, id int64, status string) {
	t.Helper()
	if err := s.Exec(context.Background(), "UPDATE commit_statuses SET status = ? WHERE id = ?", status, id); err != nil {
		t.Fatal(err)
	}
}

func buildNames(bs []persistence.CommitStatus) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Name
	}
	sort.Strings(out)
	return out
}

func pipelineBuilds(t *testing.T, s *persistence.Store, id int64) map[string]persistence.CommitStatus {
	t.Helper()
	list, err := s.ListPipelineBuilds(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]persistence.CommitStatus{}
	for _, b := range list {
		out[b.Name] = b
	}
	return out
}

func testPipelineStages(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "pipelines")
	const sha = "1234567890123456789012345678901234567890"
	jobs := []persistence.CommitStatus{
		job("a", 0, persistence.WhenOnSuccess, false),
		job("b", 0, persistence.WhenOnSuccess, true),
		job("late", 1, persistence.WhenOnFailure, false),
		job("c", 2, persistence.WhenOnSuccess, false),
		job("cleanup", 3, persistence.WhenAlways, false),
		job("notify", 3, persistence.WhenOnFailure, false),
	}
	for i := range jobs {
		jobs[i].AuthorID = &u.ID
	}
	in := persistence.NewPipeline{Pipeline: persistence.Pipeline{ProjectID: p.ID, Ref: "master", SHA: sha, UserID: &u.ID}, Jobs: jobs}
	pl, created, err := s.CreatePipeline(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := buildNames(created); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("first stage = %v, want [a b]", got)
	}
	for _, b := range created {
		if b.Status != "pending" || b.Type != persistence.StatusTypeBuild || b.Token == nil || len(*b.Token) < 20 ||
			deref(b.Ref) != "master" || b.PipelineRef != "master" || deref(b.AuthorID) != u.ID || deref(b.PipelineID) != pl.ID {
			t.Errorf("build %+v", b)
		}
	}
	if deref(pl.Status) != "pending" {
		t.Errorf("pipeline status = %v, want pending", deref(pl.Status))
	}
	// Creating again for the same sha and ref builds nothing twice.
	again, created2, err := s.CreatePipeline(ctx, in)
	if err != nil || again.ID != pl.ID || len(created2) != 0 {
		t.Fatalf("again: %v, %d created, %v", again.ID, len(created2), err)
	}

	bs := pipelineBuilds(t, s, pl.ID)
	// a succeeds: b is still pending, nothing more is due.
	setBuildStatus(t, s, bs["a"].ID, "success")
	pl, next, err := s.AdvancePipeline(ctx, bs["a"].ID, jobs)
	if err != nil || len(next) != 0 || deref(pl.Status) != "running" {
		t.Fatalf("after a: %v created, status %v, %v", buildNames(next), deref(pl.Status), err)
	}
	// b fails but may: the stages so far count as successful, so the
	// on_failure job of stage 1 is skipped and stage 2 is built.
	setBuildStatus(t, s, bs["b"].ID, "failed")
	_, next, err = s.AdvancePipeline(ctx, bs["b"].ID, jobs)
	if err != nil || fmt.Sprint(buildNames(next)) != "[c]" {
		t.Fatalf("after b: %v, %v; want [c]", buildNames(next), err)
	}
	// c fails: stage 3's always and on_failure jobs are built.
	setBuildStatus(t, s, next[0].ID, "failed")
	pl, next, err = s.AdvancePipeline(ctx, next[0].ID, jobs)
	if err != nil || fmt.Sprint(buildNames(next)) != "[cleanup notify]" {
		t.Fatalf("after c: %v, %v; want [cleanup notify]", buildNames(next), err)
	}
	if deref(pl.Status) != "running" {
		t.Errorf("status = %v, want running", deref(pl.Status))
	}
	for _, b := range next {
		setBuildStatus(t, s, b.ID, "success")
		if pl, _, err = s.AdvancePipeline(ctx, b.ID, jobs); err != nil {
			t.Fatal(err)
		}
	}
	if deref(pl.Status) != "failed" {
		t.Errorf("final status = %v, want failed (c failed)", deref(pl.Status))
	}
	if st, err := s.CommitState(ctx, p.ID, sha); err != nil || deref(st) != "failed" {
		t.Errorf("CommitState = %v, %v; want failed", deref(st), err)
	}
	if _, ok := pipelineBuilds(t, s, pl.ID)["late"]; ok {
		t.Errorf("the on_failure job of a successful stage was built")
	}

	// A tag pipeline of another ref with an invalid configuration: failed,
	// without builds.
	bad := "c job: stage parameter should be build, test, deploy"
	other := "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
	pl2, created, err := s.CreatePipeline(ctx, persistence.NewPipeline{Pipeline: persistence.Pipeline{
		ProjectID: p.ID, Ref: "v1", SHA: other, Tag: true, YAMLErrors: &bad}})
	if err != nil || len(created) != 0 || deref(pl2.Status) != "failed" {
		t.Fatalf("invalid: %+v, %d builds, %v", pl2, len(created), err)
	}
	if st, err := s.CommitState(ctx, p.ID, other); err != nil || deref(st) != "failed" {
		t.Errorf("CommitState of the invalid one = %v, %v; want failed", deref(st), err)
	}
	// A pipeline without any job matching: skipped.
	third := "9999999999999999999999999999999999999999"
	pl3, _, err := s.CreatePipeline(ctx, persistence.NewPipeline{Pipeline: persistence.Pipeline{ProjectID: p.ID, Ref: "x", SHA: third}})
	if err != nil || deref(pl3.Status) != "skipped" {
		t.Fatalf("empty: %+v, %v", pl3, err)
	}

	// All canceled: nothing more is built, not even always jobs.
	fourth := "8888888888888888888888888888888888888888"
	strict := append([]persistence.CommitStatus{job("a", 0, persistence.WhenOnSuccess, false), job("b", 0, persistence.WhenOnSuccess, false)}, jobs[2:]...)
	pl4, created, err := s.CreatePipeline(ctx, persistence.NewPipeline{Pipeline: persistence.Pipeline{ProjectID: p.ID, Ref: "master", SHA: fourth}, Jobs: strict})
	if err != nil || len(created) != 2 {
		t.Fatal(err)
	}
	for _, b := range created {
		setBuildStatus(t, s, b.ID, "canceled")
	}
	for _, b := range created {
		_, next, err := s.AdvancePipeline(ctx, b.ID, strict)
		if err != nil || len(next) != 0 {
			t.Errorf("after cancel: %v, %v", buildNames(next), err)
		}
	}
	if pl4, err = s.GetPipeline(ctx, pl4.ID); err != nil || deref(pl4.Status) != "canceled" {
		t.Errorf("canceled pipeline = %v, %v", deref(pl4.Status), err)
	}

	// A triggered run of the same sha and ref is a group of its own: its
	// first stage is built again, for the trigger request.
	trig, err := s.CreateTrigger(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.CreateTriggerRequest(ctx, trig.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.TriggerRequestID = &tr.ID
	pl5, created, err := s.CreatePipeline(ctx, in)
	if err != nil || pl5.ID != pl.ID || fmt.Sprint(buildNames(created)) != "[a b]" {
		t.Fatalf("triggered: %v, %v, %v", pl5.ID, buildNames(created), err)
	}
	for _, b := range created {
		if deref(b.TriggerRequestID) != tr.ID {
			t.Errorf("triggered build %s has trigger request %v", b.Name, b.TriggerRequestID)
		}
	}
}

// testPipelineStageRace finishes the last builds of a stage at once, from
// many goroutines: the next stage is created exactly once.
func testPipelineStageRace(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "race")
	var jobs []persistence.CommitStatus
	for i := 0; i < 4; i++ {
		jobs = append(jobs, job(fmt.Sprintf("first%d", i), 0, persistence.WhenOnSuccess, false))
	}
	jobs = append(jobs, job("second", 1, persistence.WhenOnSuccess, false), job("second2", 1, persistence.WhenAlways, false))
	for round := 0; round < 10; round++ {
		sha := fmt.Sprintf("%040d", round)
		pl, created, err := s.CreatePipeline(ctx, persistence.NewPipeline{Pipeline: persistence.Pipeline{ProjectID: p.ID, Ref: "master", SHA: sha}, Jobs: jobs})
		if err != nil || len(created) != 4 {
			t.Fatalf("round %d: %d builds, %v", round, len(created), err)
		}
		for _, b := range created {
			setBuildStatus(t, s, b.ID, "success")
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, b := range created {
			for k := 0; k < 2; k++ {
				wg.Add(1)
				go func(id int64) {
					defer wg.Done()
					_, next, err := s.AdvancePipeline(ctx, id, jobs)
					if err != nil {
						t.Errorf("advance: %v", err)
					}
					mu.Lock()
					total += len(next)
					mu.Unlock()
				}(b.ID)
			}
		}
		wg.Wait()
		builds, err := s.ListPipelineBuilds(ctx, pl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(builds) != 6 {
			t.Fatalf("round %d: %d created by the racers, %d builds; want 2 and 6", round, total, len(builds))
		}
	}
}

func testAggregateStatus(t *testing.T, _ *persistence.Store) {
	st := func(s string, allow bool) persistence.StatusOf {
		return persistence.StatusOf{Status: s, AllowFailure: allow}
	}
	for _, tt := range []struct {
		name string
		in   []persistence.StatusOf
		want string
	}{
		{"none", nil, "skipped"},
		{"all success", []persistence.StatusOf{st("success", false), st("success", false)}, "success"},
		{"allowed failure", []persistence.StatusOf{st("success", false), st("failed", true)}, "success"},
		{"allowed cancel", []persistence.StatusOf{st("canceled", true)}, "success"},
		{"all pending", []persistence.StatusOf{st("pending", false), st("pending", true)}, "pending"},
		{"pending and done", []persistence.StatusOf{st("pending", false), st("success", false)}, "running"},
		{"running", []persistence.StatusOf{st("running", true), st("failed", false)}, "running"},
		{"all canceled", []persistence.StatusOf{st("canceled", false)}, "canceled"},
		{"canceled and success", []persistence.StatusOf{st("canceled", false), st("success", false)}, "failed"},
		{"failed", []persistence.StatusOf{st("failed", false), st("success", false)}, "failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := persistence.AggregateStatus(tt.in); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// testPipelineCreateRace creates the pipeline of one sha and ref from many
// goroutines at once: one pipeline, its first stage built once.
func testPipelineCreateRace(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "create-race")
	jobs := []persistence.CommitStatus{job("a", 0, persistence.WhenOnSuccess, false), job("b", 0, persistence.WhenOnSuccess, false)}
	for round := 0; round < 5; round++ {
		sha := fmt.Sprintf("%040d", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[int64]bool{}
		created := 0
		for k := 0; k < 8; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pl, bs, err := s.CreatePipeline(ctx, persistence.NewPipeline{Pipeline: persistence.Pipeline{ProjectID: p.ID, Ref: "master", SHA: sha}, Jobs: jobs})
				if err != nil {
					t.Errorf("CreatePipeline: %v", err)
					return
				}
				mu.Lock()
				ids[pl.ID] = true
				created += len(bs)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(ids) != 1 || created != 2 {
			t.Fatalf("round %d: %d pipelines, %d builds created; want 1 and 2", round, len(ids), created)
		}
	}
}
