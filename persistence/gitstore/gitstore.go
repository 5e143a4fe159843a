// Package gitstore keeps the projects' git repositories: one bare
// repository per project at <root>/<project id>.git, named by id so that
// renaming or transferring a project moves nothing. Every operation runs
// the real git binary, as Gitaly and Gitea do; nothing here re-implements
// git.
package gitstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotExist is an operation on a project that has no repository.
var ErrNotExist = errors.New("gitstore: no such repository")

// DefaultBranch is where HEAD of a new repository points, whatever the
// machine's init.defaultBranch says: GitLab 8.7's repositories began on
// master.
const DefaultBranch = "master"

// Repos is the repository store.
type Repos struct {
	root string // absolute
	git  string // absolute path of the git binary
	cats *catFiles
}

// Open checks that git (with its http-backend) is installed and that root
// can hold repositories, creating it when missing.
func Open(root string) (*Repos, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, errors.New("git is not installed (no `git` on PATH): Labrador keeps every project's repository with it; install git (e.g. apt-get install git) and start again")
	}
	if git, err = filepath.Abs(git); err != nil {
		return nil, err
	}
	r := &Repos{git: git}
	out, err := r.run(context.Background(), "", "--exec-path")
	if err != nil {
		return nil, fmt.Errorf("git does not run: %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("git is installed without git-http-backend (looked for %s): Labrador serves clones and pushes with it; install a complete git", backend)
	}
	if r.root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return nil, fmt.Errorf("repositories directory: %w", err)
	}
	if err := r.installHooks(); err != nil {
		return nil, fmt.Errorf("server hooks: %w", err)
	}
	r.cats = newCatFiles(r.git, DefaultBatchIdleTimeout)
	return r, nil
}

// Close ends the long-lived git processes reading the repositories; one
// still serving a read ends when that read is done.
func (r *Repos) Close() { r.cats.close() }

// Root is the directory holding the repositories (GIT_PROJECT_ROOT for
// git http-backend).
func (r *Repos) Root() string { return r.root }

// Git is the absolute path of the git binary.
func (r *Repos) Git() string { return r.git }

// Name is the repository's directory name under Root: "<id>.git".
func Name(projectID int64) string { return strconv.FormatInt(projectID, 10) + ".git" }

// Path is the project's repository directory (which may not exist).
func (r *Repos) Path(projectID int64) string { return filepath.Join(r.root, Name(projectID)) }

// Exists reports whether the project has a repository.
func (r *Repos) Exists(projectID int64) (bool, error) {
	_, err := os.Stat(filepath.Join(r.Path(projectID), "HEAD"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Create gives the project an empty bare repository whose HEAD points at
// master. A repository that exists already is left as it is. The
// repository is built aside and renamed into place, so that a reader never
// sees half of one.
func (r *Repos) Create(ctx context.Context, projectID int64) error {
	if ok, err := r.Exists(projectID); ok || err != nil {
		return err
	}
	tmp, err := r.tempPath(projectID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := r.run(ctx, "", "-c", "init.defaultBranch="+DefaultBranch, "init", "--quiet", "--bare", tmp); err != nil {
		return err
	}
	// Older gits ignore init.defaultBranch; say it once more.
	if _, err := r.run(ctx, tmp, "symbolic-ref", "HEAD", "refs/heads/"+DefaultBranch); err != nil {
		return err
	}
	return r.place(tmp, projectID)
}

// Fork gives project toID a bare clone of fromID's repository: every
// branch and tag, and the same HEAD. When the source has no commits (or no
// repository at all), the fork starts empty.
func (r *Repos) Fork(ctx context.Context, fromID, toID int64) error {
	has, err := r.HasCommits(ctx, fromID)
	if errors.Is(err, ErrNotExist) {
		has, err = false, nil
	}
	if err != nil {
		return err
	}
	if !has {
		return r.Create(ctx, toID)
	}
	if ok, err := r.Exists(toID); ok || err != nil {
		if ok {
			return fmt.Errorf("gitstore: fork target %s exists already", Name(toID))
		}
		return err
	}
	tmp, err := r.tempPath(toID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// A local clone hard-links the objects, which never change, so a fork
	// costs little disk and survives the deletion of its source.
	if _, err := r.run(ctx, "", "clone", "--quiet", "--bare", "--", r.Path(fromID), tmp); err != nil {
		return err
	}
	// The fork does not track its source.
	if _, err := r.run(ctx, tmp, "remote", "remove", "origin"); err != nil {
		return err
	}
	return r.place(tmp, toID)
}

// Delete removes the project's repository; a missing one is no error. It
// is renamed away first, so the id's path is free at once even if removing
// the files fails half-way.
func (r *Repos) Delete(projectID int64) error {
	r.cats.closeRepo(projectID)
	tmp, err := r.tempPath(projectID)
	if err != nil {
		return err
	}
	if err := os.Rename(r.Path(projectID), tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.RemoveAll(tmp)
}

// HasCommits reports whether the repository has any ref (so any commit).
func (r *Repos) HasCommits(ctx context.Context, projectID int64) (bool, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return false, err
	}
	out, err := r.run(ctx, dir, "for-each-ref", "--count=1", "--format=%(objectname)")
	if err != nil {
		return false, err
	}
	return len(bytes.TrimSpace(out)) > 0, nil
}

// Branches lists the branch names, sorted by name.
func (r *Repos) Branches(ctx context.Context, projectID int64) ([]string, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, dir, "for-each-ref", "--format=%(refname)", "refs/heads/")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "refs/heads/"); ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// SetHead points HEAD (the branch a clone checks out) at branch, which
// need not exist yet.
func (r *Repos) SetHead(ctx context.Context, projectID int64, branch string) error {
	dir, err := r.dir(projectID)
	if err != nil {
		return err
	}
	ref := "refs/heads/" + branch
	if _, err := r.run(ctx, dir, "check-ref-format", ref); err != nil {
		return fmt.Errorf("gitstore: %q is not a valid branch name", branch)
	}
	_, err = r.run(ctx, dir, "symbolic-ref", "HEAD", ref)
	return err
}

// dir is the project's repository directory, or ErrNotExist.
func (r *Repos) dir(projectID int64) (string, error) {
	ok, err := r.Exists(projectID)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNotExist, Name(projectID))
	}
	return r.Path(projectID), nil
}

// tempPath is a fresh name beside the repositories for building or
// discarding one; it never ends in .git, so it is never served.
func (r *Repos) tempPath(projectID int64) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return filepath.Join(r.root, fmt.Sprintf(".tmp-%d-%s", projectID, hex.EncodeToString(b))), nil
}

// place renames a repository built at tmp into the project's path. When a
// concurrent Create won, its repository stays.
func (r *Repos) place(tmp string, projectID int64) error {
	err := os.Rename(tmp, r.Path(projectID))
	if err != nil {
		if ok, _ := r.Exists(projectID); ok {
			return nil
		}
	}
	return err
}

// run runs git in dir ("" for the root) and returns its standard output;
// a failure carries git's standard error.
func (r *Repos) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return r.runInput(ctx, dir, "", args...)
}

// runInput is run with stdin as git's standard input.
func (r *Repos) runInput(ctx context.Context, dir, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.git, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if dir == "" {
		dir = r.root
	}
	cmd.Dir = dir
	cmd.Env = gitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// gitEnv is the environment git runs in: the server's, without any GIT_*
// variable (a GIT_DIR or GIT_CONFIG_* inherited from whoever started the
// server must not redirect it), and never prompting.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env, "GIT_TERMINAL_PROMPT=0")
}
