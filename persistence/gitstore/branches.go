package gitstore

// Branches: list, read, create and delete a repository's branches, each
// with its head commit, as GitLab 8.7's Repository did (through Rugged)
// for doc/api/branches.md, and the repository's HEAD branch as
// gitlab_git's Repository#root_ref found it.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

var (
	// ErrBranchNotFound is a branch the repository does not have.
	ErrBranchNotFound = errors.New("gitstore: no such branch")
	// ErrBranchExists is a new branch whose name is taken.
	ErrBranchExists = errors.New("gitstore: branch exists already")
	// ErrInvalidBranchName is a name git refuses for a branch, or one
	// whose path clashes with an existing branch ("a" beside "a/b").
	ErrInvalidBranchName = errors.New("gitstore: invalid branch name")
	// ErrBranchRejected is a new branch the push policy refuses: a
	// protected name, created by someone who may not push to it.
	ErrBranchRejected = errors.New("gitstore: branch creation rejected")
	// ErrBranchNotDeleted is git failing to remove an existing branch.
	ErrBranchNotDeleted = errors.New("gitstore: branch not removed")
)

// Branch is a branch with its head commit.
type Branch struct {
	Name   string
	Commit *Commit
}

// branchFields is one for-each-ref record: the ref, the type of the
// object it points at, then that commit's fields. Every field ends in NUL, which no name or message can hold.
var branchFields = []string{
	"refname", "objecttype", "objectname", "parent", "authorname", "authoremail:trim", "authordate:raw",
	"committername", "committeremail:trim", "committerdate:raw", "contents",
}

var branchFormat = func() string {
	var b strings.Builder
	for _, f := range branchFields {
		b.WriteString("%(" + f + ")%00")
	}
	return b.String()
}()

// ListBranches lists the repository's branches with their head commits,
// sorted by name, with one git call. A project without a repository has
// none.
func (r *Repos) ListBranches(ctx context.Context, projectID int64) ([]Branch, error) {
	branches, err := r.readBranches(ctx, projectID, "refs/heads/")
	if errors.Is(err, ErrNotExist) {
		return []Branch{}, nil
	}
	return branches, err
}

// Branch reads one branch, or ErrBranchNotFound.
func (r *Repos) Branch(ctx context.Context, projectID int64, name string) (*Branch, error) {
	branches, err := r.readBranches(ctx, projectID, "refs/heads/"+name)
	if errors.Is(err, ErrNotExist) {
		return nil, ErrBranchNotFound
	}
	if err != nil {
		return nil, err
	}
	// The pattern also matches branches below name ("name/…").
	for i := range branches {
		if branches[i].Name == name {
			return &branches[i], nil
		}
	}
	return nil, ErrBranchNotFound
}

// CreateBranch starts branch name at the commit ref names (a branch, a tag
// or a SHA). The checks run in 8.7's order: the name
// (ErrInvalidBranchName), an existing branch (ErrBranchExists), the ref
// (ErrInvalidRef), then the push policy, as the pre-receive hook that 8.7
// ran for the new ref would have (ErrBranchRejected).
func (r *Repos) CreateBranch(ctx context.Context, projectID int64, name, ref string, policy PushPolicy) (*Branch, error) {
	full := "refs/heads/" + name
	if name == "" {
		return nil, ErrInvalidBranchName
	}
	if _, err := r.run(ctx, "", "check-ref-format", full); err != nil {
		return nil, ErrInvalidBranchName
	}
	switch _, err := r.Branch(ctx, projectID, name); {
	case err == nil:
		return nil, ErrBranchExists
	case !errors.Is(err, ErrBranchNotFound):
		return nil, err
	}
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return nil, ErrInvalidRef
	}
	if err != nil {
		return nil, err
	}
	if ref == "" || strings.HasPrefix(ref, "-") {
		return nil, ErrInvalidRef
	}
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return nil, ErrInvalidRef
	}
	if slices.Contains(policy.ProtectedBranches, name) && !policy.PushProtected {
		return nil, ErrBranchRejected
	}
	sha := strings.TrimSpace(string(out))
	// The old value all zeros: the ref must not exist, so a branch made
	// meanwhile by another request is never overwritten.
	if _, err := r.run(ctx, dir, "update-ref", "-m", "branch: Created from API", full, sha, ZeroSHA); err != nil {
		if _, again := r.Branch(ctx, projectID, name); again == nil {
			return nil, ErrBranchExists
		}
		// A branch "a" beside "a/b" (or the reverse): git cannot hold both.
		if r.pathClash(ctx, dir, name) {
			return nil, ErrInvalidBranchName
		}
		return nil, err
	}
	return r.Branch(ctx, projectID, name)
}

// pathClash reports whether a branch is a directory of name, or name a
// directory of a branch.
func (r *Repos) pathClash(ctx context.Context, dir, name string) bool {
	out, err := r.run(ctx, dir, "for-each-ref", "--format=%(refname)", "refs/heads/")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(out), "\n") {
		other, ok := strings.CutPrefix(line, "refs/heads/")
		if ok && (strings.HasPrefix(name, other+"/") || strings.HasPrefix(other, name+"/")) {
			return true
		}
	}
	return false
}

// DeleteBranch removes the branch if it still points at sha (its head as
// the caller read it): ErrBranchNotFound when there is none,
// ErrBranchNotDeleted when git fails to remove it (a locked ref, or one
// that moved meanwhile).
func (r *Repos) DeleteBranch(ctx context.Context, projectID int64, name, sha string) error {
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return ErrBranchNotFound
	}
	if err != nil {
		return err
	}
	if _, err := r.run(ctx, dir, "update-ref", "-d", "refs/heads/"+name, sha); err != nil {
		if _, gone := r.Branch(ctx, projectID, name); errors.Is(gone, ErrBranchNotFound) {
			return ErrBranchNotFound
		}
		return fmt.Errorf("%w: %v", ErrBranchNotDeleted, err)
	}
	return nil
}

// RootRef is the repository's HEAD branch as gitlab_git's
// discover_default_branch found it: none without branches; the only
// branch; the branch HEAD names when it exists; master when it exists;
// else the first branch by name.
func (r *Repos) RootRef(ctx context.Context, projectID int64) (string, error) {
	names, err := r.Branches(ctx, projectID)
	if errors.Is(err, ErrNotExist) || (err == nil && len(names) == 0) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if len(names) == 1 {
		return names[0], nil
	}
	if out, err := r.run(ctx, r.Path(projectID), "symbolic-ref", "--quiet", "HEAD"); err == nil {
		if head, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "refs/heads/"); ok && slices.Contains(names, head) {
			return head, nil
		}
	}
	if slices.Contains(names, DefaultBranch) {
		return DefaultBranch, nil
	}
	return names[0], nil
}

// readBranches reads the branches under pattern with one git call, sorted
// by name.
func (r *Repos) readBranches(ctx context.Context, projectID int64, pattern string) ([]Branch, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, dir, "for-each-ref", "--sort=refname", "--format="+branchFormat, pattern)
	if err != nil {
		return nil, err
	}
	fields := strings.Split(string(out), "\x00")
	n := len(branchFields)
	branches := []Branch{}
	for i := 0; i+n <= len(fields); i += n {
		rec := fields[i : i+n]
		// Each record but the first starts after for-each-ref's newline.
		name, ok := strings.CutPrefix(strings.TrimPrefix(rec[0], "\n"), "refs/heads/")
		if !ok || rec[1] != "commit" {
			continue // git keeps commits in branches; anything else is no branch of GitLab's
		}
		commit, err := parseCommit(rec[2:10], rec[10])
		if err != nil {
			return nil, fmt.Errorf("branch %s: %w", name, err)
		}
		branches = append(branches, Branch{Name: name, Commit: commit})
	}
	return branches, nil
}
