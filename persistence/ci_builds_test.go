package persistence_test

// The runner queue: registration, the selection rule (shared vs specific,
// builds enabled, tags), the claim, runner updates, traces, timeouts. Run
// on SQLite and PostgreSQL.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/pgtest"
)

var runnerTests = []struct {
	name string
	fn   func(t *testing.T, s *persistence.Store)
}{
	{"Selection", testRunnerSelection},
	{"UpdateAndTrace", testRunnerUpdateAndTrace},
	{"Timeouts", testBuildTimeouts},
}

func TestRunnerQueueSQLite(t *testing.T) {
	for _, tt := range runnerTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, openStore(t, persistence.Config{DataDir: filepath.Join(t.TempDir(), "data")}))
		})
	}
}

func TestRunnerQueuePostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	for i, tt := range runnerTests {
		t.Run(tt.name, func(t *testing.T) {
			db := fmt.Sprintf("runner_%d", i)
			admin := openStore(t, persistence.Config{DatabaseURL: dsn})
			if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			tt.fn(t, openStore(t, persistence.Config{DatabaseURL: strings.Replace(dsn, "/postgres?", "/"+db+"?", 1)}))
		})
	}
}

// queueFixture is a bootstrapped store with two projects.
func queueFixture(t *testing.T, s *persistence.Store) (a, b *persistence.Project) {
	t.Helper()
	if _, err := s.Bootstrap(context.Background(), persistence.Bootstrap{RootPassword: "rootpassword", RunnersRegistrationToken: "shared-reg"}); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, s)
	ns := userNamespace(t, s, u)
	return newProject(t, s, u, ns, "alpha"), newProject(t, s, u, ns, "beta")
}

func seedBuild(t *testing.T, s *persistence.Store, p *persistence.Project, name, tags string) int64 {
	t.Helper()
	ref, stage := "master", "test"
	b := []persistence.CommitStatus{{ProjectID: p.ID, SHA: strings.Repeat("a", 40), PipelineRef: ref, Ref: &ref,
		Name: name, Stage: &stage, TagList: tags}}
	if err := s.InsertBuilds(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b[0].ID
}

func testRunnerSelection(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, b := queueFixture(t, s)
	desc := "specific"
	specific, err := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: b.RunnersToken, Description: &desc, TagList: str("ruby, mysql")})
	if err != nil || specific.IsShared || specific.TagList != "ruby,mysql" {
		t.Fatalf("specific runner: %+v %v", specific, err)
	}
	shared, err := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "shared-reg", TagList: str("docker")})
	if err != nil || !shared.IsShared {
		t.Fatalf("shared runner: %+v %v", shared, err)
	}
	if _, err := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "nope"}); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("unknown registration token: %v, want ErrNotFound", err)
	}

	tagged := seedBuild(t, s, a, "tagged", "docker")
	plain := seedBuild(t, s, a, "plain", "")
	needsMore := seedBuild(t, s, b, "needs-more", "ruby,postgres")
	forSpecific := seedBuild(t, s, b, "for-specific", "ruby")

	// The specific runner serves only b, and only builds whose tags it has.
	got, err := s.ClaimBuild(ctx, specific)
	if err != nil || got.ID != forSpecific || got.Status != persistence.StatusRunning || got.RunnerID == nil || *got.RunnerID != specific.ID || got.StartedAt == nil {
		t.Fatalf("specific claim: %+v %v, want build %d running on it", got, err, forSpecific)
	}
	if _, err := s.ClaimBuild(ctx, specific); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("specific runner again: %v, want ErrNotFound (build %d needs postgres)", err, needsMore)
	}
	// The shared runner takes the oldest it may: tagged, then plain; b's
	// builds need tags it lacks.
	for _, want := range []int64{tagged, plain} {
		if got, err := s.ClaimBuild(ctx, shared); err != nil || got.ID != want {
			t.Fatalf("shared claim: %+v %v, want %d", got, err, want)
		}
	}
	if _, err := s.ClaimBuild(ctx, shared); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("shared runner, queue holds only b's ruby build: %v, want ErrNotFound", err)
	}
	// Shared runners disabled on a project: its builds are not theirs.
	off := false
	if _, err := s.UpdateProject(ctx, a.ID, persistence.ProjectUpdate{SharedRunnersEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	seedBuild(t, s, a, "no-shared", "")
	if _, err := s.ClaimBuild(ctx, shared); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("shared runner on a project without shared runners: %v, want ErrNotFound", err)
	}
	runner, pending, err := s.PollRunner(ctx, shared.Token)
	if err != nil || runner.ID != shared.ID || !pending {
		t.Errorf("poll: %+v %v %v, want the shared runner and pending builds", runner, pending, err)
	}
	if _, _, err := s.PollRunner(ctx, "unknown"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("poll with an unknown token: %v", err)
	}
	if _, err := s.DeleteRunner(ctx, specific.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunnerByToken(ctx, specific.Token); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("deleted runner still found: %v", err)
	}
}

func testRunnerUpdateAndTrace(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, _ := queueFixture(t, s)
	r, err := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "shared-reg"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "shared-reg"})
	id := seedBuild(t, s, a, "job", "")
	if _, err := s.ClaimBuild(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Another runner's update does not find it.
	if _, err := s.UpdateRunningBuild(ctx, persistence.BuildUpdate{RunnerID: other.ID, BuildID: id, State: "success"}); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("other runner's update: %v, want ErrNotFound", err)
	}
	// Trace in chunks: a gap is refused with the stored length.
	if n, st, err := s.AppendTrace(ctx, id, 0, []byte("hello ")); err != nil || n != 6 || st != persistence.StatusRunning {
		t.Fatalf("append: %d %s %v", n, st, err)
	}
	var re *persistence.RangeError
	if _, _, err := s.AppendTrace(ctx, id, 10, []byte("x")); !errors.As(err, &re) || re.Length != 6 {
		t.Errorf("gap: %v, want RangeError{6}", err)
	}
	// Bytes PostgreSQL would refuse are stored as U+FFFD; the length
	// counts what the runner sent.
	if n, _, err := s.AppendTrace(ctx, id, 6, []byte("world\x00\xff")); err != nil || n != 13 {
		t.Fatalf("append: %d %v", n, err)
	}
	if tr, _ := s.BuildTraceOf(ctx, id); tr != "hello world\uFFFD\uFFFD" {
		t.Errorf("trace = %q", tr)
	}
	none, err := s.UpdateRunningBuild(ctx, persistence.BuildUpdate{RunnerID: r.ID, BuildID: id, State: "running", Trace: str("full trace")})
	if err != nil || none != nil {
		t.Errorf("running update: %v %v, want nil change", none, err)
	}
	if tr, _ := s.BuildTraceOf(ctx, id); tr != "full trace" {
		t.Errorf("trace after a full update = %q", tr)
	}
	changed, err := s.UpdateRunningBuild(ctx, persistence.BuildUpdate{RunnerID: r.ID, BuildID: id, State: "success"})
	if err != nil || changed == nil || !*changed {
		t.Fatalf("success: %v %v", changed, err)
	}
	b, _ := s.GetBuild(ctx, id)
	if b.Status != persistence.StatusSuccess || b.FinishedAt == nil {
		t.Errorf("after success: %s %v", b.Status, b.FinishedAt)
	}
	// Finished: the runner's next update finds nothing.
	if _, err := s.UpdateRunningBuild(ctx, persistence.BuildUpdate{RunnerID: r.ID, BuildID: id, State: "failed"}); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("update of a finished build: %v, want ErrNotFound", err)
	}
}

func testBuildTimeouts(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, b := queueFixture(t, s)
	r, _ := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "shared-reg"})
	late := seedBuild(t, s, a, "late", "")
	fresh := seedBuild(t, s, b, "fresh", "")
	for range 2 {
		if _, err := s.ClaimBuild(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// a's build started two hours ago; its timeout is the default hour.
	if err := s.Exec(ctx, "UPDATE commit_statuses SET started_at = ? WHERE id = ?", time.Now().UTC().Add(-2*time.Hour), late); err != nil {
		t.Fatal(err)
	}
	failed, err := s.FailTimedOutBuilds(ctx)
	if err != nil || len(failed) != 1 || failed[0] != late {
		t.Fatalf("sweep: %v %v, want [%d]", failed, err, late)
	}
	if again, err := s.FailTimedOutBuilds(ctx); err != nil || len(again) != 0 {
		t.Errorf("second sweep: %v %v, want nothing", again, err)
	}
	if _, err := s.UpdateRunningBuild(ctx, persistence.BuildUpdate{RunnerID: r.ID, BuildID: late, State: "success"}); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("runner's update of a timed-out build: %v, want ErrNotFound", err)
	}
	if bb, _ := s.GetBuild(ctx, fresh); bb.Status != persistence.StatusRunning {
		t.Errorf("fresh build: %s, want running", bb.Status)
	}
}

// TestClaimSpeed is a rough guide: sequential claims of one runner over a
// queue of 10,000.
func TestClaimSpeed(t *testing.T) {
	s := openStore(t, persistence.Config{DataDir: filepath.Join(t.TempDir(), "data")})
	ctx := context.Background()
	a, _ := queueFixture(t, s)
	r, _ := s.RegisterRunner(ctx, persistence.RunnerRegistration{Token: "shared-reg"})
	ref, stage := "master", "test"
	builds := make([]persistence.CommitStatus, 10000)
	for i := range builds {
		builds[i] = persistence.CommitStatus{ProjectID: a.ID, SHA: strings.Repeat("a", 40), PipelineRef: ref, Ref: &ref, Name: "x", Stage: &stage}
	}
	if err := s.InsertBuilds(ctx, builds); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Log(err)
	}
	start := time.Now()
	for i := 0; i < 2000; i++ {
		if _, err := s.ClaimBuild(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("2000 claims in %v", time.Since(start))
}
