package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// ciFixture is a server over a real store and repositories, with one
// project whose master holds content as .gitlab-ci.yml.
type ciFixture struct {
	s     *Server
	store *persistence.Store
	p     *persistence.Project
	root  *persistence.User
	sha   string
}

func newCIFixture(t *testing.T, content string) *ciFixture {
	t.Helper()
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	store, err := persistence.Open(ctx, persistence.Config{DataDir: dataDir, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Bootstrap(ctx, persistence.Bootstrap{RootPassword: "rootpassword", RunnersRegistrationToken: "x"}); err != nil {
		t.Fatal(err)
	}
	root, err := store.Authenticate(ctx, "root", "rootpassword")
	if err != nil {
		t.Fatal(err)
	}
	nss, _, err := store.ListNamespaces(ctx, persistence.NamespaceFilter{UserID: &root.ID, Search: "root"}, persistence.Page{Limit: 10})
	if err != nil || len(nss) == 0 {
		t.Fatalf("root's namespace: %v", err)
	}
	repos, err := gitstore.Open(filepath.Join(dataDir, "repositories"))
	if err != nil {
		t.Fatal(err)
	}
	name := "pipelines"
	p, err := store.CreateProject(ctx, persistence.NewProject{Name: &name, NamespaceID: nss[0].ID, CreatorID: root.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := repos.Create(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, ".gitlab-ci.yml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+work, "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com",
			"GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "--quiet", "-b", "master")
	git("add", ".gitlab-ci.yml")
	git("commit", "--quiet", "-m", "ci")
	git("push", "--quiet", repos.Path(p.ID), "master")
	s, err := New(Config{DataDir: dataDir, Repos: repos, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, store)
	if err != nil {
		t.Fatal(err)
	}
	return &ciFixture{s: s, store: store, p: p, root: root, sha: git("rev-parse", "HEAD")}
}

func (f *ciFixture) builds(t *testing.T, pipelineID int64) map[string]persistence.CommitStatus {
	t.Helper()
	list, err := f.store.ListPipelineBuilds(context.Background(), pipelineID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]persistence.CommitStatus{}
	for _, b := range list {
		out[b.Name] = b
	}
	return out
}

// finish sets a build's status and runs buildUpdated, as the runner
// protocol does.
func (f *ciFixture) finish(t *testing.T, id int64, status string) {
	t.Helper()
	if err := f.store.Exec(context.Background(), "UPDATE commit_statuses SET status = ? WHERE id = ?", status, id); err != nil {
		t.Fatal(err)
	}
	if err := f.s.buildUpdated(context.Background(), id); err != nil {
		t.Fatalf("buildUpdated: %v", err)
	}
}

func names(m map[string]persistence.CommitStatus) string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestPipelineLifecycle(t *testing.T) {
	f := newCIFixture(t, `stages: [build, test, deploy]
variables:
  G: "1"
before_script: [setup]
compile:
  stage: build
  script: [make]
  tags: [docker, linux]
  artifacts:
    paths: [out/]
  variables:
    J: "2"
rspec:
  stage: test
  script: rake
  before_script: []
cleanup:
  stage: deploy
  script: [c]
  when: always
notify:
  stage: deploy
  script: [n]
  when: on_failure
`)
	ctx := context.Background()
	pl, err := f.s.createPipeline(ctx, pipelineInput{Project: f.p, Ref: "master", SHA: f.sha, BeforeSHA: gitstore.ZeroSHA, UserID: &f.root.ID})
	if err != nil || pl == nil {
		t.Fatalf("createPipeline = %v, %v", pl, err)
	}
	bs := f.builds(t, pl.ID)
	if names(bs) != "compile" {
		t.Fatalf("first stage = %s, want compile", names(bs))
	}
	c := bs["compile"]
	if deref(c.Commands) != "setup\nmake" || c.TagList != "docker,linux" || c.StageIdx != 0 || deref(c.Stage) != "build" ||
		deref(c.AuthorID) != f.root.ID || c.Status != "pending" || c.Token == nil || c.RunnerID != nil {
		t.Errorf("compile = %+v", c)
	}
	if got := deref(c.Options); got != `{"artifacts":{"paths":["out/"]}}` {
		t.Errorf("options = %s", got)
	}
	if got := deref(c.YAMLVariables); got != `[{"key":"G","value":"1","public":true},{"key":"J","value":"2","public":true}]` {
		t.Errorf("yaml_variables = %s", got)
	}
	if pl.Status == nil || *pl.Status != "pending" || pl.BeforeSHA == nil || *pl.BeforeSHA != gitstore.ZeroSHA {
		t.Errorf("pipeline = %+v", pl)
	}

	f.finish(t, c.ID, "success")
	bs = f.builds(t, pl.ID)
	if names(bs) != "compile,rspec" || deref(bs["rspec"].Commands) != "rake" || bs["rspec"].Status != "pending" {
		t.Fatalf("after compile: %s %+v", names(bs), bs["rspec"])
	}
	f.finish(t, bs["rspec"].ID, "failed")
	bs = f.builds(t, pl.ID)
	if names(bs) != "cleanup,compile,notify,rspec" {
		t.Fatalf("after rspec failed: %s, want cleanup and notify", names(bs))
	}
	f.finish(t, bs["cleanup"].ID, "success")
	f.finish(t, bs["notify"].ID, "success")
	got, err := f.store.GetPipeline(ctx, pl.ID)
	if err != nil || deref(got.Status) != "failed" {
		t.Errorf("pipeline status = %v, %v; want failed", deref(got.Status), err)
	}
	if st, err := f.store.CommitState(ctx, f.p.ID, f.sha); err != nil || deref(st) != "failed" {
		t.Errorf("commit state = %v, %v", deref(st), err)
	}
	if err := f.s.buildUpdated(ctx, 999999); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("buildUpdated of an unknown build = %v, want ErrNotFound", err)
	}
}

func TestPipelineInvalidAndMissing(t *testing.T) {
	f := newCIFixture(t, "rspec:\n  script: x\n  when: manual\n")
	ctx := context.Background()
	pl, err := f.s.createPipeline(ctx, pipelineInput{Project: f.p, Ref: "master", SHA: f.sha, UserID: &f.root.ID})
	if err != nil || pl == nil {
		t.Fatalf("createPipeline = %v, %v", pl, err)
	}
	if deref(pl.YAMLErrors) != "rspec job: when parameter should be on_success, on_failure or always" || deref(pl.Status) != "failed" {
		t.Errorf("invalid pipeline = %+v (%q)", pl, deref(pl.YAMLErrors))
	}
	// A sha without the file: nothing for a push.
	none, err := f.s.createPipeline(ctx, pipelineInput{Project: f.p, Ref: "master", SHA: strings.Repeat("1", 40), UserID: &f.root.ID})
	if err != nil || none != nil {
		t.Errorf("without .gitlab-ci.yml = %+v, %v; want nothing", none, err)
	}
	// Builds disabled: nothing.
	off := *f.p
	off.BuildsEnabled = false
	if pl, err := f.s.createPipeline(ctx, pipelineInput{Project: &off, Ref: "other", SHA: f.sha}); err != nil || pl != nil {
		t.Errorf("builds disabled = %+v, %v", pl, err)
	}
}
