package gitstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labrador-dev/labrador/persistence/gitstore"
)

func open(t *testing.T) *gitstore.Repos {
	t.Helper()
	r, err := gitstore.Open(filepath.Join(t.TempDir(), "repositories"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// git runs the git client in dir with a private HOME and configuration,
// and fails the test on error.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+home, "GIT_CONFIG_GLOBAL="+filepath.Join(home, ".gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// pushCommit commits one file in a fresh work tree and pushes it to the
// given branches of the bare repository at bare; it returns the commit.
func pushCommit(t *testing.T, bare string, branches ...string) string {
	t.Helper()
	work := t.TempDir()
	git(t, work, "init", "--quiet")
	if err := os.WriteFile(filepath.Join(work, "README"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", "README")
	git(t, work, "commit", "--quiet", "-m", "first")
	sha := git(t, work, "rev-parse", "HEAD")
	for _, b := range branches {
		git(t, work, "push", "--quiet", bare, "HEAD:refs/heads/"+b)
	}
	return sha
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	if err := r.Create(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if got, want := r.Path(7), filepath.Join(r.Root(), "7.git"); got != want {
		t.Errorf("Path(7) = %s, want %s", got, want)
	}
	if got := git(t, r.Path(7), "rev-parse", "--is-bare-repository"); got != "true" {
		t.Errorf("is-bare-repository = %s, want true", got)
	}
	if got := git(t, r.Path(7), "symbolic-ref", "HEAD"); got != "refs/heads/master" {
		t.Errorf("HEAD = %s, want refs/heads/master", got)
	}
	has, err := r.HasCommits(ctx, 7)
	if err != nil || has {
		t.Errorf("HasCommits of a new repository = %v, %v; want false", has, err)
	}
	branches, err := r.Branches(ctx, 7)
	if err != nil || len(branches) != 0 {
		t.Errorf("Branches of a new repository = %v, %v; want none", branches, err)
	}

	// Idempotent: a second Create keeps what the repository holds.
	sha := pushCommit(t, r.Path(7), "master")
	if err := r.Create(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if got := git(t, r.Path(7), "rev-parse", "master"); got != sha {
		t.Errorf("after a second Create master = %s, want %s", got, sha)
	}
	// Nothing is left beside the repository.
	entries := repoEntries(t, r)
	if len(entries) != 1 {
		t.Errorf("root holds %d entries, want only 7.git", len(entries))
	}
}

func TestBranchesAndHead(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	if err := r.Create(ctx, 1); err != nil {
		t.Fatal(err)
	}
	pushCommit(t, r.Path(1), "feature", "develop")
	has, err := r.HasCommits(ctx, 1)
	if err != nil || !has {
		t.Errorf("HasCommits = %v, %v; want true", has, err)
	}
	branches, err := r.Branches(ctx, 1)
	if err != nil || !reflect.DeepEqual(branches, []string{"develop", "feature"}) {
		t.Errorf("Branches = %v, %v; want [develop feature]", branches, err)
	}
	if err := r.SetHead(ctx, 1, "develop"); err != nil {
		t.Fatal(err)
	}
	if got := git(t, r.Path(1), "symbolic-ref", "HEAD"); got != "refs/heads/develop" {
		t.Errorf("HEAD = %s, want refs/heads/develop", got)
	}
	for _, bad := range []string{"a..b", "-x y", "", "x.lock"} {
		if err := r.SetHead(ctx, 1, bad); err == nil {
			t.Errorf("SetHead(%q) succeeded, want an error", bad)
		}
	}
	if got := git(t, r.Path(1), "symbolic-ref", "HEAD"); got != "refs/heads/develop" {
		t.Errorf("HEAD after refused names = %s, want refs/heads/develop", got)
	}
}

func TestMissingRepository(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	if _, err := r.HasCommits(ctx, 3); !errors.Is(err, gitstore.ErrNotExist) {
		t.Errorf("HasCommits of a missing repository: %v, want ErrNotExist", err)
	}
	if _, err := r.Branches(ctx, 3); !errors.Is(err, gitstore.ErrNotExist) {
		t.Errorf("Branches of a missing repository: %v, want ErrNotExist", err)
	}
	if err := r.SetHead(ctx, 3, "master"); !errors.Is(err, gitstore.ErrNotExist) {
		t.Errorf("SetHead of a missing repository: %v, want ErrNotExist", err)
	}
	if err := r.Delete(3); err != nil {
		t.Errorf("Delete of a missing repository: %v, want nil", err)
	}
}

func TestFork(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	if err := r.Create(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sha := pushCommit(t, r.Path(1), "master", "topic")
	git(t, r.Path(1), "tag", "v1", sha)
	if err := r.SetHead(ctx, 1, "topic"); err != nil {
		t.Fatal(err)
	}

	if err := r.Fork(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	want := git(t, r.Path(1), "for-each-ref", "--format=%(refname) %(objectname)")
	if got := git(t, r.Path(2), "for-each-ref", "--format=%(refname) %(objectname)"); got != want {
		t.Errorf("fork refs:\n%s\nwant the source's:\n%s", got, want)
	}
	if got := git(t, r.Path(2), "symbolic-ref", "HEAD"); got != "refs/heads/topic" {
		t.Errorf("fork HEAD = %s, want the source's refs/heads/topic", got)
	}
	if got := git(t, r.Path(2), "remote"); got != "" {
		t.Errorf("fork remotes = %q, want none", got)
	}
	// The fork keeps its objects when the source goes.
	if err := r.Delete(1); err != nil {
		t.Fatal(err)
	}
	git(t, r.Path(2), "fsck", "--no-progress")
	if got := git(t, r.Path(2), "rev-parse", "master"); got != sha {
		t.Errorf("fork master after the source was deleted = %s, want %s", got, sha)
	}

	// A source without commits, or without a repository, gives an empty fork.
	if err := r.Create(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to int64
	}{{"empty source", 3, 4}, {"missing source", 99, 5}} {
		if err := r.Fork(ctx, tc.from, tc.to); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		has, err := r.HasCommits(ctx, tc.to)
		if err != nil || has {
			t.Errorf("%s: HasCommits of the fork = %v, %v; want false", tc.name, has, err)
		}
	}
	// A fork never overwrites a repository.
	if err := r.Fork(ctx, 2, 3); err == nil {
		t.Error("Fork onto an existing repository succeeded, want an error")
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	if err := r.Create(ctx, 9); err != nil {
		t.Fatal(err)
	}
	pushCommit(t, r.Path(9), "master")
	if err := r.Delete(9); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.Path(9)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after Delete: %v, want not exist", err)
	}
	entries := repoEntries(t, r)
	if len(entries) != 0 {
		t.Errorf("root holds %d entries after Delete, want none", len(entries))
	}
	// The id can have a repository again.
	if err := r.Create(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if has, err := r.HasCommits(ctx, 9); err != nil || has {
		t.Errorf("HasCommits of the new repository = %v, %v; want false", has, err)
	}
}

// Without git the store refuses to open, and says why.
func TestOpenWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := gitstore.Open(filepath.Join(t.TempDir(), "repositories"))
	if err == nil || !strings.Contains(err.Error(), "git is not installed") {
		t.Fatalf("Open without git: %v, want an error saying git is not installed", err)
	}
}

// repoEntries lists what Root holds besides the server hooks.
func repoEntries(t *testing.T, r *gitstore.Repos) []string {
	t.Helper()
	entries, err := os.ReadDir(r.Root())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != ".hooks" {
			names = append(names, e.Name())
		}
	}
	return names
}
