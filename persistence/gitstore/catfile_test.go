package gitstore_test

// The long-lived cat-file processes: what they read matches one-shot git,
// they see later pushes, survive crashes, and never outlive their
// repository or the store.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// treeRepo gives project 1 a commit whose root holds a directory, a
// file, an executable, a symlink and a submodule, built with plain git.
func treeRepo(t *testing.T, r *gitstore.Repos) (commit string) {
	t.Helper()
	if err := r.Create(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	dir := r.Path(1)
	work := t.TempDir()
	git(t, work, "init", "--quiet")
	files := map[string]string{"README": "hello\n", "src/main.go": "package main\n", "src/lib/a.txt": "a\n", "run.sh": "#!/bin/sh\n"}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Join(work, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(work, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("README", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", ".")
	git(t, work, "update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("ab", 20)+",vendor/mod")
	git(t, work, "commit", "--quiet", "-m", "tree")
	git(t, work, "push", "--quiet", dir, "HEAD:refs/heads/master")
	return git(t, work, "rev-parse", "HEAD")
}

func TestBatchReadsMatchGit(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	commit := treeRepo(t, r)
	for _, path := range []string{"", "src", "src/lib", "vendor", "README", "nope", "./src", "../src", "vendor/mod"} {
		t.Run("tree "+path, func(t *testing.T) {
			got, err := r.Tree(ctx, 1, commit, path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := r.LsTree(1, commit, path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Tree(%q) = %v, want (ls-tree) %v", path, got, want)
			}
		})
	}
	// ls-tree's own view, spelled out once.
	root, _ := r.Tree(ctx, 1, commit, "")
	var kinds []string
	for _, e := range root {
		kinds = append(kinds, e.Mode+" "+e.Type+" "+e.Name)
	}
	wantKinds := []string{"040000 tree src", "040000 tree vendor", "100644 blob README", "120000 blob link", "100755 blob run.sh"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("root = %q, want %q", kinds, wantKinds)
	}

	blobs := []struct {
		name, path, want string
		err              error
	}{
		{"file", "README", "hello\n", nil},
		{"nested", "src/lib/a.txt", "a\n", nil},
		{"symlink", "link", "README", nil},
		{"directory", "src", "", gitstore.ErrBlobNotFound},
		{"missing", "nope", "", gitstore.ErrBlobNotFound},
		{"relative path", "../README", "", gitstore.ErrBlobNotFound},
		{"submodule", "vendor/mod", "", gitstore.ErrBlobNotFound},
	}
	for _, tc := range blobs {
		t.Run("blob "+tc.name, func(t *testing.T) {
			got, err := readBlob(r.BlobAt(ctx, 1, commit, tc.path))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("BlobAt(%q) = %q, %v; want %v", tc.path, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BlobAt(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
			id := git(t, r.Path(1), "rev-parse", commit+":"+tc.path)
			for _, sha := range []string{id, id[:8]} {
				if got, err := readBlob(r.BlobByID(ctx, 1, sha)); err != nil || got != tc.want {
					t.Errorf("BlobByID(%s) = %q, %v; want %q", sha, got, err, tc.want)
				}
			}
		})
	}
	if _, err := r.BlobByID(ctx, 1, commit); !errors.Is(err, gitstore.ErrBlobNotFound) {
		t.Errorf("BlobByID(a commit) = %v, want ErrBlobNotFound", err)
	}

	for _, rev := range []string{"master", "refs/heads/master", "HEAD", commit, commit[:7], "master~0", "nope", "master:README", "../x"} {
		got, err := r.ResolveCommit(ctx, 1, rev)
		want, werr := commit, error(nil)
		if rev == "nope" || rev == "master:README" || rev == "../x" {
			want, werr = "", gitstore.ErrCommitNotFound
		}
		if got != want || !errors.Is(err, werr) && err != werr {
			t.Errorf("ResolveCommit(%q) = %q, %v; want %q, %v", rev, got, err, want, werr)
		}
	}
	// One process served all of it, but for the names it cannot take.
	if n := r.BatchStarted(); n != 1 {
		t.Errorf("started %d cat-file processes, want 1", n)
	}
}

func readBlob(b *gitstore.Blob, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer b.Close()
	body, err := io.ReadAll(b)
	if err == nil && int64(len(body)) != b.Size {
		err = fmt.Errorf("read %d bytes of %d", len(body), b.Size)
	}
	return string(body), err
}

// A process started before a push answers with what the push wrote:
// loose refs, packed refs, and new objects.
func TestBatchSeesPushes(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	first := treeRepo(t, r)
	if got, err := r.ResolveCommit(ctx, 1, "master"); err != nil || got != first {
		t.Fatalf("master = %s, %v; want %s", got, err, first)
	}
	second := pushCommit(t, r.Path(1), "topic") // unrelated to first
	git(t, r.Path(1), "update-ref", "refs/heads/master", second)
	for _, step := range []string{"loose", "packed"} {
		if step == "packed" {
			git(t, r.Path(1), "pack-refs", "--all")
			git(t, r.Path(1), "update-ref", "refs/heads/topic", first)
			git(t, r.Path(1), "pack-refs", "--all")
		}
		want := map[string]string{"master": second, "topic": second}
		if step == "packed" {
			want["topic"] = first
		}
		for ref, sha := range want {
			if got, err := r.ResolveCommit(ctx, 1, ref); err != nil || got != sha {
				t.Errorf("%s: %s = %s, %v; want %s", step, ref, got, err, sha)
			}
		}
	}
	if got, err := readBlob(r.BlobAt(ctx, 1, second, "README")); err != nil || got != "hello\n" {
		t.Errorf("README of the pushed commit = %q, %v", got, err)
	}
	if n := r.BatchStarted(); n != 1 {
		t.Errorf("started %d cat-file processes, want 1", n)
	}
}

// A process that dies is replaced, and the read that found it dead still
// answers; a blob read half-way leaves its process usable.
func TestBatchRecovers(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	commit := treeRepo(t, r)
	if _, err := r.ResolveCommit(ctx, 1, "master"); err != nil {
		t.Fatal(err)
	}
	if n := r.KillIdleBatchProcesses(); n != 1 {
		t.Fatalf("killed %d idle processes, want 1", n)
	}
	if got, err := readBlob(r.BlobAt(ctx, 1, commit, "README")); err != nil || got != "hello\n" {
		t.Fatalf("README after a crash = %q, %v", got, err)
	}
	if got, err := r.ResolveCommit(ctx, 1, "master"); err != nil || got != commit {
		t.Fatalf("master after a crash = %q, %v", got, err)
	}
	if n := r.BatchStarted(); n != 2 {
		t.Errorf("started %d processes, want 2 (one replaced)", n)
	}

	b, err := r.BlobAt(ctx, 1, commit, "src/main.go")
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 4)
	if _, err := io.ReadFull(b, part); err != nil || string(part) != "pack" {
		t.Fatalf("first bytes = %q, %v", part, err)
	}
	b.Close()
	if got, err := readBlob(r.BlobAt(ctx, 1, commit, "README")); err != nil || got != "hello\n" {
		t.Fatalf("README after a half-read blob = %q, %v", got, err)
	}
	if n := r.BatchStarted(); n != 2 {
		t.Errorf("started %d processes, want still 2", n)
	}

	// A read whose context ends is refused without harming the next.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.BlobAt(done, 1, commit, "README"); err == nil {
		t.Error("BlobAt with an ended context succeeded")
	}
	if got, err := readBlob(r.BlobAt(ctx, 1, commit, "README")); err != nil || got != "hello\n" {
		t.Fatalf("README after a cancelled read = %q, %v", got, err)
	}
}

// Processes end when idle, when their repository is deleted and when the
// store closes: none is left behind.
func TestBatchProcessesEnd(t *testing.T) {
	ctx := context.Background()
	r, err := gitstore.Open(filepath.Join(t.TempDir(), "repositories"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	commit := treeRepo(t, r)
	if err := r.Create(ctx, 2); err != nil {
		t.Fatal(err)
	}
	pushCommit(t, r.Path(2), "master")
	readAll := func(n int) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, err := readBlob(r.BlobAt(ctx, 1, commit, "README")); err != nil || got != "hello\n" {
					t.Errorf("README = %q, %v", got, err)
				}
				if _, err := r.ResolveCommit(ctx, 2, "master"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}

	readAll(16)
	if n := catFileChildren(t); n < 2 {
		t.Fatalf("%d cat-file processes after reads of two repositories, want at least 2", n)
	}
	if err := r.Delete(1); err != nil {
		t.Fatal(err)
	}
	if n := catFileChildren(t, r.Path(1)); n != 0 {
		t.Errorf("%d cat-file processes of a deleted repository remain", n)
	}
	if n := catFileChildren(t); n == 0 {
		t.Errorf("deleting repository 1 ended repository 2's processes too")
	}
	r.Close()
	if n := catFileChildren(t); n != 0 {
		t.Errorf("%d cat-file processes remain after Close", n)
	}

	// Idle ones end after the timeout.
	r2 := open(t)
	r2.SetBatchIdleTimeout(50 * time.Millisecond)
	if err := r2.Create(ctx, 3); err != nil {
		t.Fatal(err)
	}
	pushCommit(t, r2.Path(3), "master")
	if _, err := r2.ResolveCommit(ctx, 3, "master"); err != nil {
		t.Fatal(err)
	}
	if n := catFileChildren(t); n != 1 {
		t.Fatalf("%d cat-file processes after one read, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for catFileChildren(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("an idle cat-file process still runs 10 s after its 50 ms timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// catFileChildren counts this process's `git cat-file --batch-command`
// children (running in dir, when given), from /proc.
func catFileChildren(t *testing.T, dir ...string) int {
	t.Helper()
	procs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	n := 0
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != me {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if !bytes.Contains(cmdline, []byte("cat-file\x00--batch-command")) {
			continue
		}
		if len(dir) > 0 {
			cwd, _ := os.Readlink(filepath.Join("/proc", p.Name(), "cwd"))
			if !strings.HasPrefix(cwd, dir[0]) && !strings.Contains(cwd, ".tmp-1-") {
				continue
			}
		}
		n++
	}
	return n
}
