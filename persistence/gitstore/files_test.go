package gitstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/labrador-dev/labrador/persistence/gitstore"
)

func TestNormalizePath(t *testing.T) {
	for _, row := range []struct {
		name, in, want string
		err            error
	}{
		{"plain", "lib/a.rb", "lib/a.rb", nil},
		{"leading slashes and dots dropped", "//lib/./a.rb", "lib/a.rb", nil},
		{"doubled slashes", "lib//a.rb", "lib/a.rb", nil},
		{"dot-dot refused", "lib/../a.rb", "", gitstore.ErrInvalidPath},
		{"empty refused", "/", "", gitstore.ErrInvalidPath},
		{"newline refused", "a\nb", "", gitstore.ErrInvalidPath},
		{"dots in names kept", "a..b/.c", "a..b/.c", nil},
	} {
		t.Run(row.name, func(t *testing.T) {
			got, err := gitstore.NormalizePath(row.in)
			if got != row.want || !errors.Is(err, row.err) {
				t.Errorf("NormalizePath(%q) = %q, %v; want %q, %v", row.in, got, err, row.want, row.err)
			}
		})
	}
}

// CommitFile builds its commit without a work tree and moves the branch
// only from the head its caller read: a stale head is ErrBranchMoved, and
// the branch stays where the winner put it.
func TestCommitFile(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	const id = 31
	if err := r.Create(ctx, id); err != nil {
		t.Fatal(err)
	}
	who := gitstore.Signature{Name: "Jane", Email: "jane@example.com"}
	first, err := r.CommitFile(ctx, id, gitstore.ZeroSHA, gitstore.FileCommit{
		Action: gitstore.FileCreate, Branch: "master", Path: "/a/b.txt", Content: []byte("one"), Message: "first", Author: who})
	if err != nil {
		t.Fatal(err)
	}
	if first.Old != gitstore.ZeroSHA || first.Ref != "refs/heads/master" {
		t.Errorf("first update = %+v", first)
	}
	if _, err := os.Stat(filepath.Join(r.Path(id), "index")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the bare repository got an index: %v", err)
	}
	c, err := r.Commit(ctx, id, first.New)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthorName != "Jane" || c.CommitterEmail != "jane@example.com" || c.Message != "first" || len(c.Added) != 1 || c.Added[0] != "a/b.txt" {
		t.Errorf("commit = %+v", c)
	}

	second, err := r.CommitFile(ctx, id, first.New, gitstore.FileCommit{
		Action: gitstore.FileUpdate, Branch: "master", Path: "a/b.txt", Content: []byte("two"), Message: "second", Author: who})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []struct {
		name string
		old  string
		c    gitstore.FileCommit
		want error
	}{
		{"stale head", first.New, gitstore.FileCommit{Action: gitstore.FileUpdate, Path: "a/b.txt"}, gitstore.ErrBranchMoved},
		{"stale creation", gitstore.ZeroSHA, gitstore.FileCommit{Action: gitstore.FileCreate, Path: "c.txt"}, gitstore.ErrBranchMoved},
		{"create an existing file", second.New, gitstore.FileCommit{Action: gitstore.FileCreate, Path: "a/b.txt"}, gitstore.ErrFileExists},
		{"delete a missing file", second.New, gitstore.FileCommit{Action: gitstore.FileDelete, Path: "nope"}, gitstore.ErrFileNotFound},
		{"delete a directory", second.New, gitstore.FileCommit{Action: gitstore.FileDelete, Path: "a"}, gitstore.ErrFileNotFound},
		{"write over a directory", second.New, gitstore.FileCommit{Action: gitstore.FileUpdate, Path: "a"}, gitstore.ErrInvalidPath},
		{"a file in the way", second.New, gitstore.FileCommit{Action: gitstore.FileCreate, Path: "a/b.txt/c"}, gitstore.ErrInvalidPath},
		{"traversal", second.New, gitstore.FileCommit{Action: gitstore.FileUpdate, Path: "../x"}, gitstore.ErrInvalidPath},
	} {
		t.Run(row.name, func(t *testing.T) {
			row.c.Branch, row.c.Message, row.c.Author = "master", row.name, who
			if _, err := r.CommitFile(ctx, id, row.old, row.c); !errors.Is(err, row.want) {
				t.Errorf("CommitFile = %v, want %v", err, row.want)
			}
			b, err := r.Branch(ctx, id, "master")
			if err != nil || b.Commit.ID != second.New {
				t.Errorf("master = %+v, %v; want it left at %s", b, err, second.New)
			}
		})
	}

	gone, err := r.CommitFile(ctx, id, second.New, gitstore.FileCommit{
		Action: gitstore.FileDelete, Branch: "master", Path: "a/b.txt", Message: "gone", Author: who})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.Commit(ctx, id, gone.New); err != nil || len(c.Removed) != 1 || c.Removed[0] != "a/b.txt" {
		t.Errorf("deletion commit = %+v, %v", c, err)
	}
	if got, err := r.PushedCommits(ctx, id, gitstore.RefUpdate{Old: first.New, New: gone.New, Ref: "refs/heads/master"}, "master"); err != nil || len(got) != 2 {
		t.Errorf("pushed commits of the update = %v, %v; want 2", got, err)
	}
	// A new branch brings what is not on the default branch, or its whole
	// history when it is the default branch (8.7's GitPushService).
	if _, err := r.CreateBranch(ctx, id, "side", "master", gitstore.PushPolicy{}); err != nil {
		t.Fatal(err)
	}
	side, err := r.CommitFile(ctx, id, gone.New, gitstore.FileCommit{
		Action: gitstore.FileCreate, Branch: "side", Path: "s.txt", Content: []byte("s"), Message: "side", Author: who})
	if err != nil {
		t.Fatal(err)
	}
	created := gitstore.RefUpdate{Old: gitstore.ZeroSHA, New: side.New, Ref: "refs/heads/side"}
	for _, row := range []struct {
		def  string
		want int
	}{{"master", 1}, {"side", 4}, {"", 4}} {
		if got, err := r.PushedCommits(ctx, id, created, row.def); err != nil || len(got) != row.want {
			t.Errorf("pushed commits of a new branch, default %q = %v, %v; want %d", row.def, got, err, row.want)
		}
	}
	if !r.ForcePush(ctx, id, gone.New, first.New) || r.ForcePush(ctx, id, first.New, gone.New) {
		t.Error("ForcePush: moving back drops commits, moving forward does not")
	}
}
