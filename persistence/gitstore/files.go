package gitstore

// One-file commits for doc/api/repository_files.md, as GitLab 8.7's
// Repository#commit_file and #remove_file made them (gitlab_git's
// Blob.commit over Rugged, then commit_with_hooks moving the branch only
// if it had not moved). Built with plumbing in a temporary index, never in
// a work tree; the branch moves with `git update-ref <ref> <new> <old>`,
// so of two writers that started from one head exactly one wins.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

var (
	// ErrFileExists is a file to create that the branch has already.
	ErrFileExists = errors.New("gitstore: file exists already")
	// ErrFileNotFound is a file to delete that the branch does not have.
	ErrFileNotFound = errors.New("gitstore: no such file")
	// ErrInvalidPath is a path git cannot hold: empty, with a ".."
	// component, or with a file or directory in its way.
	ErrInvalidPath = errors.New("gitstore: invalid path")
	// ErrBranchMoved is a branch that moved (another commit or push)
	// while the commit was being made; nothing changed.
	ErrBranchMoved = errors.New("gitstore: branch moved meanwhile")
)

// FileAction is what a FileCommit does to its path.
type FileAction int

const (
	// FileCreate adds a file that must not exist.
	FileCreate FileAction = iota
	// FileUpdate writes a file whether or not it exists (8.7's update
	// created a missing one), keeping an existing file's mode.
	FileUpdate
	// FileDelete removes a file that must exist.
	FileDelete
)

// FileCommit is one commit changing one file on a branch.
type FileCommit struct {
	Action  FileAction
	Branch  string
	Path    string // as the caller gave it; see NormalizePath
	Content []byte // FileCreate and FileUpdate
	Message string
	// Author is author and committer both, as 8.7 made them.
	Author Signature
}

// NormalizePath is 8.7's PathHelper.normalize_path: leading slashes
// dropped, "." and empty components removed. A path that is empty then,
// holds a ".." component, or holds what git never stores in a tree (NUL,
// newline) is ErrInvalidPath.
func NormalizePath(path string) (string, error) {
	var parts []string
	for _, p := range strings.Split(path, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", ErrInvalidPath
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 || strings.ContainsAny(path, "\x00\n") {
		return "", ErrInvalidPath
	}
	return strings.Join(parts, "/"), nil
}

// CommitFile makes c's commit on top of old, the branch head the caller
// read (ZeroSHA for a branch the commit creates: the first commit of an
// empty repository), and moves the branch from old to it. It answers the
// ref update, for the push that follows. Errors: ErrFileExists,
// ErrFileNotFound, ErrInvalidPath, ErrBranchMoved.
func (r *Repos) CommitFile(ctx context.Context, projectID int64, old string, c FileCommit) (RefUpdate, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return RefUpdate{}, err
	}
	ref := "refs/heads/" + c.Branch
	if _, err := r.run(ctx, "", "check-ref-format", ref); err != nil {
		return RefUpdate{}, ErrBranchNotFound
	}
	path, err := NormalizePath(c.Path)
	if err != nil {
		return RefUpdate{}, err
	}
	tmp, err := os.MkdirTemp("", "labrador-index-*")
	if err != nil {
		return RefUpdate{}, err
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}

	var parents []string
	mode := "100644"
	if old != ZeroSHA {
		parents = []string{"-p", old}
		if _, err := r.runWith(ctx, dir, env, nil, "read-tree", old+"^{tree}"); err != nil {
			return RefUpdate{}, err
		}
		kind, entryMode, err := r.entryAt(ctx, dir, old, path)
		if err != nil {
			return RefUpdate{}, err
		}
		switch {
		case kind == "blob" && c.Action == FileCreate:
			return RefUpdate{}, ErrFileExists
		case kind != "blob" && c.Action == FileDelete:
			return RefUpdate{}, ErrFileNotFound
		case kind != "" && kind != "blob":
			return RefUpdate{}, ErrInvalidPath // a directory (or submodule) is there
		case kind == "blob":
			mode = entryMode
		}
	} else if c.Action == FileDelete {
		return RefUpdate{}, ErrFileNotFound
	}

	if c.Action == FileDelete {
		// Mode 0 removes the entry; --force-remove would want a work tree.
		if _, err := r.runWith(ctx, dir, env, []byte("0 "+ZeroSHA+"\t"+path+"\n"), "update-index", "--index-info"); err != nil {
			return RefUpdate{}, err
		}
	} else {
		out, err := r.runWith(ctx, dir, nil, c.Content, "hash-object", "-w", "--stdin")
		if err != nil {
			return RefUpdate{}, err
		}
		blob := strings.TrimSpace(string(out))
		if _, err := r.runWith(ctx, dir, env, nil, "update-index", "--add", "--cacheinfo", mode+","+blob+","+path); err != nil {
			// A file where the path needs a directory ("a" when adding
			// "a/b"), or a name git refuses (".git").
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return RefUpdate{}, ErrInvalidPath
			}
			return RefUpdate{}, err
		}
	}
	out, err := r.runWith(ctx, dir, env, nil, "write-tree")
	if err != nil {
		return RefUpdate{}, err
	}
	tree := strings.TrimSpace(string(out))
	who := []string{
		"GIT_AUTHOR_NAME=" + c.Author.Name, "GIT_AUTHOR_EMAIL=" + c.Author.Email,
		"GIT_COMMITTER_NAME=" + c.Author.Name, "GIT_COMMITTER_EMAIL=" + c.Author.Email,
	}
	// The message goes in as given (-F -), without git's cleanup, as
	// Rugged wrote it.
	args := append([]string{"commit-tree", tree}, parents...)
	out, err = r.runWith(ctx, dir, who, []byte(c.Message), append(args, "-F", "-")...)
	if err != nil {
		return RefUpdate{}, err
	}
	commit := strings.TrimSpace(string(out))
	if err := r.moveRef(ctx, dir, ref, commit, old, "commit (API): "+firstLine(c.Message)); err != nil {
		return RefUpdate{}, err
	}
	return RefUpdate{Old: old, New: commit, Ref: ref}, nil
}

// moveRef points ref at new if it still points at old (does not exist,
// for ZeroSHA): ErrBranchMoved when it does not. git waits a moment for a
// ref another writer holds locked, then tells the loser by the value.
func (r *Repos) moveRef(ctx context.Context, dir, ref, new, old, reason string) error {
	_, err := r.run(ctx, dir, "-c", "core.filesRefLockTimeout=2000", "update-ref", "-m", reason, ref, new, old)
	if err == nil {
		return nil
	}
	now, rerr := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", ref)
	cur := strings.TrimSpace(string(now))
	if rerr != nil {
		cur = ZeroSHA
	}
	if cur != old {
		return ErrBranchMoved
	}
	return err
}

// entryAt is the type ("blob", "tree", "commit"; "" for none) and mode of
// path in commit.
func (r *Repos) entryAt(ctx context.Context, dir, commit, path string) (kind, mode string, err error) {
	out, err := r.run(ctx, dir, "ls-tree", "-z", "--end-of-options", commit, "--", path)
	if err != nil {
		return "", "", err
	}
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if ok && name == path && len(f) == 3 {
			return f[1], f[0], nil
		}
	}
	return "", "", nil
}

// LastCommitFor is the last commit, from commit back, that touched path:
// 8.7's Repository#last_commit_for_path.
func (r *Repos) LastCommitFor(ctx context.Context, projectID int64, commit, path string) (string, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return "", err
	}
	out, err := r.run(ctx, dir, "rev-list", "--max-count=1", commit, "--", path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// RefTarget is the object ref points at (a tag object for an annotated
// tag), or ErrInvalidRef.
func (r *Repos) RefTarget(ctx context.Context, projectID int64, ref string) (string, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return "", err
	}
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref)
	if err != nil {
		return "", ErrInvalidRef
	}
	return strings.TrimSpace(string(out)), nil
}

// runWith runs git in dir with extra environment and stdin.
func (r *Repos) runWith(ctx context.Context, dir string, env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// ForcePush reports whether moving a branch from old to new drops commits
// (some of old's history is not in new's), as 8.7's
// Gitlab::ForcePushCheck asked `git rev-list --max-count=1 old ^new`.
// Commits the repository does not have yet count as no force push.
func (r *Repos) ForcePush(ctx context.Context, projectID int64, old, new string) bool {
	if old == ZeroSHA || new == ZeroSHA || !isSHA(old) || !isSHA(new) {
		return false
	}
	dir, err := r.dir(projectID)
	if err != nil {
		return false
	}
	out, err := r.run(ctx, dir, "rev-list", "--max-count=1", old, "^"+new)
	return err == nil && len(bytes.TrimSpace(out)) > 0
}
