package server_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs the git client isolated from the machine's configuration and
// returns its combined output.
type gitCLI struct {
	t   *testing.T
	env []string
}

func newGitCLI(t *testing.T) *gitCLI {
	t.Helper()
	home := t.TempDir()
	config := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(config, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasSuffix(strings.ToLower(name), "_proxy") || name == "LANG" || strings.HasPrefix(name, "LC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "GIT_CONFIG_GLOBAL="+config, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "no_proxy=*")
	return &gitCLI{t: t, env: env}
}

func (g *gitCLI) run(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (g *gitCLI) must(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// refused wants git to fail saying want.
func (g *gitCLI) refused(want, dir string, args ...string) {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err == nil {
		g.t.Errorf("git %s succeeded, want it refused with %q\n%s", strings.Join(args, " "), want, out)
		return
	}
	if !strings.Contains(out, want) {
		g.t.Errorf("git %s failed saying:\n%s\nwant %q", strings.Join(args, " "), out, want)
	}
}

func (g *gitCLI) commit(dir, name, content string) string {
	g.t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
	g.must(dir, "add", name)
	g.must(dir, "commit", "--quiet", "-m", "add "+name)
	return g.must(dir, "rev-parse", "HEAD")
}

// repoURL is the project's clone URL with user's credentials.
func (s *repoServer) repoURL(path, user, secret string) string {
	u, err := url.Parse(s.url + "/" + path + ".git")
	if err != nil {
		s.t.Fatal(err)
	}
	u.User = url.UserPassword(user, secret)
	return u.String()
}

// Protected branches, as 8.7's Gitlab::GitAccess guarded them: only
// masters and owners push to them, nobody force-pushes or deletes them,
// developers push elsewhere; a refused push changes no ref.
func TestProtectedBranchesOnPush(t *testing.T) {
	s := newRepoServer(t)
	ctx := context.Background()
	_, ownerTok := s.newUser("olga")
	devID, devTok := s.newUser("dave")
	masterID, masterTok := s.newUser("mary")
	p := s.mustCreate(ownerTok, "/projects", map[string]any{"name": "guarded"})
	for _, m := range []struct{ id, level int }{{devID, 30}, {masterID, 40}} {
		if status := s.api(ownerTok, "POST", fmt.Sprintf("/projects/%d/members", p.ID), map[string]any{"user_id": m.id, "access_level": m.level}, nil); status != 201 {
			t.Fatalf("add member %d: %d", m.id, status)
		}
	}
	g := newGitCLI(t)
	owner := s.repoURL("olga/guarded", "olga", ownerTok)
	dev := s.repoURL("olga/guarded", "dave", devTok)
	master := s.repoURL("olga/guarded", "mary", masterTok)

	work := filepath.Join(t.TempDir(), "work")
	g.must("", "clone", "--quiet", owner, work)
	g.must(work, "config", "user.name", "Tester")
	g.must(work, "config", "user.email", "tester@example.com")
	base := g.commit(work, "README", "one\n")
	g.must(work, "push", "--quiet", owner, "HEAD:refs/heads/master", "HEAD:refs/heads/doomed")
	if _, err := s.store.ProtectBranch(ctx, int64(p.ID), "master"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ProtectBranch(ctx, int64(p.ID), "doomed"); err != nil {
		t.Fatal(err)
	}

	refs := func() string { return g.must("", "ls-remote", owner) }
	unchanged := func(t *testing.T, before string) {
		t.Helper()
		if after := refs(); after != before {
			t.Errorf("refs after the refused push:\n%s\nwant them unchanged:\n%s", after, before)
		}
	}

	second := g.commit(work, "NEXT", "two\n")
	t.Run("developer pushes to a protected branch", func(t *testing.T) {
		before := refs()
		g.refused("remote: GitLab: You are not allowed to push code to protected branches on this project.", work, "push", dev, "HEAD:refs/heads/master")
		unchanged(t, before)
	})
	t.Run("developer creates an unprotected branch", func(t *testing.T) {
		g.must(work, "push", "--quiet", dev, "HEAD:refs/heads/topic")
		if got := g.must("", "ls-remote", owner, "refs/heads/topic"); got != second+"\trefs/heads/topic" {
			t.Errorf("ls-remote topic = %q, want %s", got, second)
		}
	})
	t.Run("master pushes to a protected branch", func(t *testing.T) {
		g.must(work, "push", "--quiet", master, "HEAD:refs/heads/master")
		if got := g.must("", "ls-remote", owner, "refs/heads/master"); got != second+"\trefs/heads/master" {
			t.Errorf("ls-remote master = %q, want %s", got, second)
		}
	})
	t.Run("nobody force-pushes a protected branch", func(t *testing.T) {
		before := refs()
		for _, u := range []string{master, owner, s.repoURL("olga/guarded", "root", s.root)} {
			g.refused("remote: GitLab: You are not allowed to force push code to a protected branch on this project.", work, "push", "--force", u, base+":refs/heads/master")
		}
		unchanged(t, before)
	})
	t.Run("nobody deletes a protected branch", func(t *testing.T) {
		before := refs()
		for _, u := range []string{master, owner} {
			g.refused("remote: GitLab: You are not allowed to deleted protected branches from this project.", work, "push", u, ":refs/heads/doomed")
		}
		unchanged(t, before)
	})
	t.Run("one refused ref refuses the whole push", func(t *testing.T) {
		before := refs()
		g.refused("You are not allowed to push code to protected branches", work, "push", dev, "HEAD:refs/heads/other", "HEAD:refs/heads/doomed")
		unchanged(t, before)
	})
	t.Run("a developer may not move an existing tag", func(t *testing.T) {
		g.must(work, "push", "--quiet", dev, base+":refs/tags/v1")
		before := refs()
		g.refused("remote: GitLab: You are not allowed to change existing tags on this project.", work, "push", "--force", dev, second+":refs/tags/v1")
		unchanged(t, before)
		g.must(work, "push", "--quiet", "--force", master, second+":refs/tags/v1")
	})
	t.Run("unprotected, a developer pushes and deletes", func(t *testing.T) {
		if ok, err := s.store.UnprotectBranch(ctx, int64(p.ID), "doomed"); err != nil || !ok {
			t.Fatalf("unprotect: %v %v", ok, err)
		}
		g.must(work, "push", "--quiet", dev, "HEAD:refs/heads/doomed")
		g.must(work, "push", "--quiet", dev, ":refs/heads/doomed")
		if got := g.must("", "ls-remote", owner, "refs/heads/doomed"); got != "" {
			t.Errorf("ls-remote doomed = %q, want it deleted", got)
		}
	})
}
