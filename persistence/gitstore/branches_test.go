package gitstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/labrador-dev/labrador/persistence/gitstore"
)

func TestBranches(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	const id = 8
	if got, err := r.ListBranches(ctx, id); err != nil || len(got) != 0 {
		t.Fatalf("ListBranches without a repository = %v, %v; want none", got, err)
	}
	if head, err := r.RootRef(ctx, id); err != nil || head != "" {
		t.Errorf("RootRef without a repository = %q, %v; want none", head, err)
	}
	if err := r.Create(ctx, id); err != nil {
		t.Fatal(err)
	}
	anyone := gitstore.PushPolicy{}
	if _, err := r.CreateBranch(ctx, id, "dev", "master", anyone); !errors.Is(err, gitstore.ErrInvalidRef) {
		t.Errorf("branch of an empty repository: %v, want ErrInvalidRef", err)
	}
	sha := pushCommit(t, r.Path(id), "master")

	b, err := r.CreateBranch(ctx, id, "feature/x", "master", anyone)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "feature/x" || b.Commit == nil || b.Commit.ID != sha || b.Commit.Message != "first\n" ||
		b.Commit.AuthorEmail != "t@example.com" || len(b.Commit.ParentIDs) != 0 {
		t.Errorf("new branch = %+v (commit %+v), want feature/x at %s", b, b.Commit, sha)
	}
	if _, err := r.CreateBranch(ctx, id, "-dash", sha, anyone); err != nil {
		t.Errorf("a name git takes in a full ref: %v", err)
	}
	guarded := gitstore.PushPolicy{ProtectedBranches: []string{"stable"}}
	for _, row := range []struct {
		name, ref string
		policy    gitstore.PushPolicy
		want      error
	}{
		{"bad..name", "master", anyone, gitstore.ErrInvalidBranchName},
		{"", "master", anyone, gitstore.ErrInvalidBranchName},
		{"ends.lock", "master", anyone, gitstore.ErrInvalidBranchName},
		{"master", "nope", anyone, gitstore.ErrBranchExists},
		{"v3", "nope", anyone, gitstore.ErrInvalidRef},
		{"v3", "--all", anyone, gitstore.ErrInvalidRef},
		{"feature", "master", anyone, gitstore.ErrInvalidBranchName},     // a directory of feature/x
		{"feature/x/y", "master", anyone, gitstore.ErrInvalidBranchName}, // below feature/x
		{"stable", "master", guarded, gitstore.ErrBranchRejected},
	} {
		if _, err := r.CreateBranch(ctx, id, row.name, row.ref, row.policy); !errors.Is(err, row.want) {
			t.Errorf("CreateBranch(%q, %q) = %v, want %v", row.name, row.ref, err, row.want)
		}
	}
	guarded.PushProtected = true
	if _, err := r.CreateBranch(ctx, id, "stable", "master", guarded); err != nil {
		t.Errorf("a protected name by one who may push to it: %v", err)
	}

	list, err := r.ListBranches(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
	}
	if want := []string{"-dash", "feature/x", "master", "stable"}; !equal(names, want) {
		t.Errorf("ListBranches = %v, want %v", names, want)
	}
	if _, err := r.Branch(ctx, id, "feature"); !errors.Is(err, gitstore.ErrBranchNotFound) {
		t.Errorf("Branch(feature) = %v, want ErrBranchNotFound", err)
	}
	if head, err := r.RootRef(ctx, id); err != nil || head != "master" {
		t.Errorf("RootRef = %q, %v; want master", head, err)
	}

	// A locked ref is not removed; one that moved is not either.
	lock := filepath.Join(r.Path(id), "refs", "heads", "stable.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteBranch(ctx, id, "stable", sha); !errors.Is(err, gitstore.ErrBranchNotDeleted) {
		t.Errorf("delete of a locked branch = %v, want ErrBranchNotDeleted", err)
	}
	os.Remove(lock)
	if err := r.DeleteBranch(ctx, id, "stable", "1111111111111111111111111111111111111111"); !errors.Is(err, gitstore.ErrBranchNotDeleted) {
		t.Errorf("delete of a branch that moved = %v, want ErrBranchNotDeleted", err)
	}
	for _, name := range []string{"stable", "-dash", "feature/x"} {
		if err := r.DeleteBranch(ctx, id, name, sha); err != nil {
			t.Fatalf("DeleteBranch(%s): %v", name, err)
		}
	}
	if err := r.DeleteBranch(ctx, id, "stable", sha); !errors.Is(err, gitstore.ErrBranchNotFound) {
		t.Errorf("second delete = %v, want ErrBranchNotFound", err)
	}

	// gitlab_git's discover_default_branch: the only branch, whatever HEAD says.
	git(t, r.Path(id), "update-ref", "refs/heads/zeta", sha)
	git(t, r.Path(id), "update-ref", "-d", "refs/heads/master")
	if head, err := r.RootRef(ctx, id); err != nil || head != "zeta" {
		t.Errorf("RootRef with one branch = %q, %v; want zeta", head, err)
	}
	git(t, r.Path(id), "update-ref", "refs/heads/alpha", sha)
	if head, err := r.RootRef(ctx, id); err != nil || head != "alpha" {
		t.Errorf("RootRef, HEAD on no branch and no master = %q, %v; want the first, alpha", head, err)
	}
	if err := r.SetHead(ctx, id, "zeta"); err != nil {
		t.Fatal(err)
	}
	if head, err := r.RootRef(ctx, id); err != nil || head != "zeta" {
		t.Errorf("RootRef = %q, %v; want HEAD's zeta", head, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
