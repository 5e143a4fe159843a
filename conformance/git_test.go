package conformance

// Git over smart HTTP with the real git client: clone, fetch and push at a
// project's http_url_to_repo with HTTP Basic credentials (a password or
// the private token), who may download and who may push (8.7's
// download_code and push_code), the default branch the first push sets,
// and forks that carry their source's commits. Every request goes to the
// server under test (127.0.0.1 unless LABRADOR_CONFORMANCE_URL says
// otherwise).

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitClient runs the git client isolated from the machine's configuration:
// its own HOME and global config, no system config, no credential helper,
// no proxy, never a terminal prompt (an empty GIT_ASKPASS answer instead,
// so that refused credentials end in git's "Authentication failed").
type gitClient struct {
	t   testing.TB
	env []string
}

func newGitClient(t testing.TB) *gitClient {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the git client is needed: %v", err)
	}
	askpass, err := exec.LookPath("true")
	if err != nil {
		t.Fatalf("no `true` for GIT_ASKPASS: %v", err)
	}
	home := t.TempDir()
	config := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(config, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasSuffix(strings.ToLower(name), "_proxy") ||
			name == "SSH_ASKPASS" || name == "LANG" || strings.HasPrefix(name, "LC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "GIT_CONFIG_GLOBAL="+config, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS="+askpass, "LC_ALL=C", "no_proxy=*")
	return &gitClient{t: t, env: env}
}

// run runs git in dir and returns its combined output.
func (g *gitClient) run(dir string, args ...string) (string, error) {
	return g.runEnv(dir, nil, args...)
}

func (g *gitClient) runEnv(dir string, extraEnv []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, g.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// traced runs git with its HTTP headers traced (credentials redacted by
// git), fails the test unless it succeeds, and returns the trace.
func (g *gitClient) traced(dir string, args ...string) string {
	g.t.Helper()
	trace := filepath.Join(g.t.TempDir(), "trace")
	if out, err := g.runEnv(dir, []string{"GIT_TRACE_CURL=" + trace, "GIT_TRACE_CURL_NO_DATA=1"}, args...); err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(redactArgs(args), " "), err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		g.t.Fatal(err)
	}
	return string(b)
}

// must runs git and fails the test unless it succeeds.
func (g *gitClient) must(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(redactArgs(args), " "), err, out)
	}
	return out
}

// refused runs git, wants it to fail, and wants its output to mention want.
func (g *gitClient) refused(want, dir string, args ...string) {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err == nil {
		g.t.Errorf("git %s succeeded, want it refused (%q)\n%s", strings.Join(redactArgs(args), " "), want, out)
		return
	}
	if !strings.Contains(out, want) {
		g.t.Errorf("git %s failed saying:\n%s\nwant the output to mention %q", strings.Join(redactArgs(args), " "), out, want)
	}
}

// redactArgs hides the credentials of URLs in failure messages.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			a = u.String()
		}
		out[i] = a
	}
	return out
}

// clone clones url into a new directory, sets the committer there, and
// returns the work tree.
func (g *gitClient) clone(url string) string {
	g.t.Helper()
	dir := filepath.Join(g.t.TempDir(), "work")
	g.must("", "clone", "--quiet", url, dir)
	g.must(dir, "config", "user.name", "Conformance")
	g.must(dir, "config", "user.email", "conformance@example.com")
	return dir
}

// commit writes a file and commits it; it returns the commit's sha.
func (g *gitClient) commit(dir, name, content string) string {
	g.t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
	g.must(dir, "add", name)
	g.must(dir, "commit", "--quiet", "-m", "add "+name)
	return g.must(dir, "rev-parse", "HEAD")
}

// lsRemote lists the remote's refs (as a reader with the given URL).
func (g *gitClient) lsRemote(url string) string {
	g.t.Helper()
	return g.must("", "ls-remote", url)
}

// repoURL is the project's http_url_to_repo, read as tok's owner.
func repoURL(t testing.TB, tok string, p testProject) string {
	t.Helper()
	u := str(getProject(t, tok, p.ID), "http_url_to_repo")
	if u == "" {
		t.Fatalf("project %d has no http_url_to_repo", p.ID)
	}
	return u
}

// withCreds puts user and secret (a password or a private token) in url.
func withCreds(t testing.TB, raw, user, secret string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, secret)
	return u.String()
}

// seededProject creates a project as owner (extra: more create fields) and
// pushes one commit to master over HTTP; it returns the project, its clone
// URL without credentials, and the pushed commit.
func seededProject(t testing.TB, g *gitClient, owner testUser, extra ...string) (testProject, string, string) {
	t.Helper()
	p := newProject(t, owner.Token, extra...)
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	sha := g.commit(work, "README.md", "# "+p.Name+"\n")
	g.must(work, "push", "--quiet", "origin", "master")
	return p, raw, sha
}

func basicAuth(user, secret string) reqOpt {
	return header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+secret)))
}

func TestGitCloneAndPush(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)

	created := getProject(t, owner.Token, p.ID)
	raw := str(created, "http_url_to_repo")
	if want := env.base + "/" + p.PathWithNamespace + ".git"; raw != want {
		t.Errorf("http_url_to_repo = %q, want %q", raw, want)
	}
	wantField(t, created, "default_branch", nil)

	// The empty repository clones, with the private token as password.
	out := g.must("", "clone", withCreds(t, raw, owner.Username, owner.Token), filepath.Join(t.TempDir(), "empty"))
	if !strings.Contains(out, "empty repository") {
		t.Errorf("clone of the new project said %q, want git's empty repository warning", out)
	}
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	first := g.commit(work, "README.md", "hello\n")
	g.must(work, "push", "--quiet", "origin", "master")

	wantField(t, getProject(t, owner.Token, p.ID), "default_branch", "master")

	// A second clone, with the password, holds what was pushed.
	other := g.clone(withCreds(t, raw, owner.Username, owner.Password))
	if got := g.must(other, "rev-parse", "HEAD"); got != first {
		t.Errorf("the second clone's HEAD = %s, want the pushed %s", got, first)
	}
	if got := g.must(other, "symbolic-ref", "HEAD"); got != "refs/heads/master" {
		t.Errorf("the second clone checked out %s, want refs/heads/master", got)
	}
	if b, err := os.ReadFile(filepath.Join(other, "README.md")); err != nil || string(b) != "hello\n" {
		t.Errorf("README.md in the second clone = %q, %v; want %q", b, err, "hello\n")
	}

	// Push from one clone, pull into the other: a fetch with history on both sides.
	second := g.commit(other, "NOTES", "more\n")
	g.must(other, "push", "--quiet", "origin", "master")
	g.must(work, "pull", "--quiet", "--ff-only", "origin", "master")
	if got := g.must(work, "rev-parse", "HEAD"); got != second {
		t.Errorf("after pull HEAD = %s, want %s", got, second)
	}

	// Without the .git suffix the same repository answers.
	bare := strings.TrimSuffix(raw, ".git")
	if a, b := g.lsRemote(withCreds(t, raw, owner.Username, owner.Token)), g.lsRemote(withCreds(t, bare, owner.Username, owner.Token)); a != b || !strings.Contains(a, second+"\trefs/heads/master") {
		t.Errorf("ls-remote with .git:\n%s\nwithout:\n%s\nwant both to show master at %s", a, b, second)
	}
}

// The first push sets the default branch: master when pushed, else the
// first branch by name; clones then check it out.
func TestGitDefaultBranchFromFirstPush(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token)
	work := g.clone(raw)
	sha := g.commit(work, "a.txt", "a\n")
	g.must(work, "push", "--quiet", "origin", "HEAD:refs/heads/feature", "HEAD:refs/heads/develop")

	wantField(t, getProject(t, owner.Token, p.ID), "default_branch", "develop")
	other := g.clone(raw)
	if got := g.must(other, "symbolic-ref", "HEAD"); got != "refs/heads/develop" {
		t.Errorf("a clone checked out %s, want refs/heads/develop", got)
	}
	// A later master does not move it.
	g.must(work, "push", "--quiet", "origin", "HEAD:refs/heads/master")
	wantField(t, getProject(t, owner.Token, p.ID), "default_branch", "develop")
	if got := g.must(other, "rev-parse", "HEAD"); got != sha {
		t.Errorf("clone HEAD = %s, want %s", got, sha)
	}
}

// A push larger than the API's body cap goes through (git sends it chunked),
// and a clone of many refs (git gzips that request) holds them all.
func TestGitLargePushAndCompressedFetch(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := withCreds(t, repoURL(t, owner.Token, p), owner.Username, owner.Token)
	work := g.clone(raw)
	big := make([]byte, 2<<20) // random, so the pack stays over 1 MiB (the body cap, and git's postBuffer)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	g.must(work, "add", "big.bin")
	g.must(work, "commit", "--quiet", "-m", "big")
	for i := 0; i < 40; i++ {
		g.must(work, "branch", "topic-with-a-long-name-"+itoa(i))
	}
	if tr := g.traced(work, "push", "--quiet", "origin", "--all"); !strings.Contains(tr, "Send header: Transfer-Encoding: chunked") {
		t.Errorf("the push sent no chunked request; the test no longer checks them")
	}

	dir := filepath.Join(t.TempDir(), "clone")
	if tr := g.traced("", "clone", "--quiet", raw, dir); !strings.Contains(tr, "Send header: Content-Encoding: gzip") {
		t.Errorf("the clone sent no gzipped request; the test no longer checks them")
	}
	if got, want := g.must(dir, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/remotes/origin/"),
		g.must(work, "for-each-ref", "--format=origin/%(refname:short) %(objectname)", "refs/heads/"); !strings.Contains(got, want) {
		t.Errorf("the clone's branches:\n%s\nwant every pushed one:\n%s", got, want)
	}
	if got, want := g.must(dir, "hash-object", "big.bin"), g.must(work, "hash-object", "big.bin"); got != want {
		t.Errorf("big.bin in the clone hashes to %s, want %s", got, want)
	}
}

// Without credentials only public projects can be read; the server asks
// for credentials (401 with a Basic challenge) everywhere else.
func TestGitAnonymous(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	external := newUser(t, "external", "true")
	_, pubURL, pubSHA := seededProject(t, g, owner, "visibility_level", itoa(visPublic))
	_, privURL, _ := seededProject(t, g, owner)
	_, intURL, intSHA := seededProject(t, g, owner, "visibility_level", itoa(visInternal))

	t.Run("public project clones", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pub")
		g.must("", "clone", "--quiet", pubURL, dir)
		if got := g.must(dir, "rev-parse", "HEAD"); got != pubSHA {
			t.Errorf("HEAD = %s, want %s", got, pubSHA)
		}
	})
	t.Run("public project refuses an anonymous push", func(t *testing.T) {
		before := g.lsRemote(pubURL)
		work := g.clone(pubURL)
		g.commit(work, "x", "x\n")
		g.refused("Authentication failed", work, "push", "origin", "master")
		if after := g.lsRemote(pubURL); after != before {
			t.Errorf("refs after the refused push:\n%s\nwant them unchanged:\n%s", after, before)
		}
	})
	t.Run("private project asks for credentials", func(t *testing.T) {
		g.refused("Authentication failed", "", "clone", privURL, filepath.Join(t.TempDir(), "priv"))
	})
	t.Run("internal project asks for credentials", func(t *testing.T) {
		g.refused("Authentication failed", "", "clone", intURL, filepath.Join(t.TempDir(), "int"))
	})
	t.Run("internal project clones for any user", func(t *testing.T) {
		u := newUser(t)
		dir := filepath.Join(t.TempDir(), "int")
		g.must("", "clone", "--quiet", withCreds(t, intURL, u.Username, u.Token), dir)
		if got := g.must(dir, "rev-parse", "HEAD"); got != intSHA {
			t.Errorf("HEAD = %s, want %s", got, intSHA)
		}
	})
	t.Run("internal project is not found for an external user", func(t *testing.T) {
		g.refused("not found", "", "clone", withCreds(t, intURL, external.Username, external.Token), filepath.Join(t.TempDir(), "int"))
	})
	t.Run("public project clones for an external user", func(t *testing.T) {
		g.must("", "clone", "--quiet", withCreds(t, pubURL, external.Username, external.Token), filepath.Join(t.TempDir(), "pub"))
	})

	// What git sees, on the wire.
	refs := "/info/refs?service=git-upload-pack"
	missing := env.base + "/" + owner.Username + "/no-such-project-" + env.runID + ".git" + refs
	for _, row := range []struct {
		name   string
		url    string
		opts   []reqOpt
		status int
	}{
		{"public, anonymous", pubURL + refs, nil, http.StatusOK},
		{"private, anonymous", privURL + refs, nil, http.StatusUnauthorized},
		{"private, wrong password", privURL + refs, []reqOpt{basicAuth(owner.Username, "wrong-password")}, http.StatusUnauthorized},
		{"private, the owner's token", privURL + refs, []reqOpt{basicAuth(owner.Username, owner.Token)}, http.StatusOK},
		{"missing, anonymous: not told apart from private", missing, nil, http.StatusUnauthorized},
		{"missing, authenticated", missing, []reqOpt{basicAuth(owner.Username, owner.Token)}, http.StatusNotFound},
		{"push to public, anonymous", strings.Replace(pubURL+refs, "upload-pack", "receive-pack", 1), nil, http.StatusUnauthorized},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, row.url, row.opts...)
			wantStatus(t, r, row.status)
			if got := r.header.Get("WWW-Authenticate"); row.status == http.StatusUnauthorized && got != `Basic realm="GitLab"` {
				t.Errorf("WWW-Authenticate = %q, want %q", got, `Basic realm="GitLab"`)
			}
			if ct := r.header.Get("Content-Type"); row.status == http.StatusOK && ct != "application/x-git-upload-pack-advertisement" {
				t.Errorf("Content-Type = %q, want application/x-git-upload-pack-advertisement", ct)
			}
		})
	}
}

// Who may clone and who may push a private project: download_code is
// reporter and up, push_code developer and up (admins both); a guest sees
// the project but not its code; a stranger is told it does not exist.
func TestGitAccessByRole(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p, raw, _ := seededProject(t, g, owner)
	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	dev, reporter, guest, stranger := member(accessDeveloper), member(accessReporter), member(accessGuest), newUser(t)
	blocked := member(accessDeveloper)
	if r := do(t, http.MethodPut, "/users/"+blocked.idPath()+"/block", token(env.rootToken)); r.status != http.StatusOK {
		t.Fatalf("block: %s", r)
	}
	ownerURL := withCreds(t, raw, owner.Username, owner.Token)

	const (
		ok           = ""
		authFailed   = "Authentication failed"
		notFound     = "not found"
		noDownload   = "You are not allowed to download code from this project."
		noPushAccess = "You are not allowed to push code to this project."
	)
	rows := []struct {
		name         string
		user, secret string
		clone, push  string // "" when allowed, else what git's refusal mentions
	}{
		{"owner with password", owner.Username, owner.Password, ok, ok},
		{"developer", dev.Username, dev.Token, ok, ok},
		{"admin", "root", env.rootToken, ok, ok},
		{"reporter", reporter.Username, reporter.Token, ok, noPushAccess},
		{"guest", guest.Username, guest.Token, noDownload, noPushAccess},
		{"stranger", stranger.Username, stranger.Token, notFound, notFound},
		{"wrong password", dev.Username, "wrong-password", authFailed, authFailed},
		{"someone else's token", reporter.Username, dev.Token, authFailed, authFailed},
		{"blocked developer", blocked.Username, blocked.Token, authFailed, authFailed},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			g := newGitClient(t)
			u := withCreds(t, raw, row.user, row.secret)
			dir := filepath.Join(t.TempDir(), "clone")
			if row.clone == ok {
				g.must("", "clone", "--quiet", u, dir)
			} else {
				g.refused(row.clone, "", "clone", u, dir)
			}

			// Each row pushes a commit to a branch of its own; one that is
			// refused tries master as well, and neither may change.
			branch := "refs/heads/row-" + itoa(i)
			work := g.clone(ownerURL)
			sha := g.commit(work, "by-"+itoa(i), row.name+"\n")
			if row.push == ok {
				g.must(work, "push", "--quiet", u, "HEAD:"+branch)
				if after := g.must("", "ls-remote", ownerURL, branch); after != sha+"\t"+branch {
					t.Errorf("after the push ls-remote shows %q, want %s at %s", after, branch, sha)
				}
				return
			}
			before := g.must("", "ls-remote", ownerURL, "refs/heads/master", branch)
			g.refused(row.push, work, "push", u, "HEAD:refs/heads/master", "HEAD:"+branch)
			if after := g.must("", "ls-remote", ownerURL, "refs/heads/master", branch); after != before {
				t.Errorf("refs after the refused push:\n%s\nwant them unchanged:\n%s", after, before)
			}
		})
	}
}

// Nobody pushes to an archived project; it still clones.
func TestGitArchivedProject(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p, raw, sha := seededProject(t, g, owner)
	dev := newUser(t)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	if r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/archive", token(owner.Token)); r.status != http.StatusCreated {
		t.Fatalf("archive: %s", r)
	}
	ownerURL := withCreds(t, raw, owner.Username, owner.Token)
	work := g.clone(ownerURL)
	if got := g.must(work, "rev-parse", "HEAD"); got != sha {
		t.Errorf("clone of the archived project: HEAD %s, want %s", got, sha)
	}
	g.commit(work, "late", "late\n")
	for _, u := range []testUser{owner, dev} {
		g.refused("You are not allowed to push code to this project.", work, "push", withCreds(t, raw, u.Username, u.Token), "master")
	}
	if got := g.lsRemote(ownerURL); !strings.Contains(got, sha+"\trefs/heads/master") {
		t.Errorf("refs after the refused pushes:\n%s\nwant master still at %s", got, sha)
	}
}

// A fork holds its source's commits and default branch, and goes its own way.
func TestGitFork(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, forker := newUser(t), newUser(t)
	src, srcURL, sha := seededProject(t, g, owner, "visibility_level", itoa(visPublic))

	r := do(t, http.MethodPost, "/projects/fork/"+src.idPath(), token(forker.Token))
	if !wantStatus(t, r, http.StatusCreated) {
		return
	}
	forkObj := decode[obj](t, r.body)
	wantField(t, forkObj, "default_branch", "master")
	forkURL := withCreds(t, str(forkObj, "http_url_to_repo"), forker.Username, forker.Token)
	work := g.clone(forkURL)
	if got := g.must(work, "rev-parse", "HEAD"); got != sha {
		t.Errorf("the fork's HEAD = %s, want the source's %s", got, sha)
	}
	own := g.commit(work, "FORK", "mine\n")
	g.must(work, "push", "--quiet", "origin", "master")
	if got := g.lsRemote(srcURL); !strings.Contains(got, sha+"\trefs/heads/master") {
		t.Errorf("the source after a push to its fork:\n%s\nwant master still at %s", got, sha)
	}
	if got := g.lsRemote(forkURL); !strings.Contains(got, own+"\trefs/heads/master") {
		t.Errorf("the fork after the push:\n%s\nwant master at %s", got, own)
	}

	t.Run("fork of an empty project", func(t *testing.T) {
		empty := newProject(t, owner.Token, "visibility_level", itoa(visPublic))
		r := do(t, http.MethodPost, "/projects/fork/"+empty.idPath(), token(forker.Token))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		o := decode[obj](t, r.body)
		wantField(t, o, "default_branch", nil)
		u := withCreds(t, str(o, "http_url_to_repo"), forker.Username, forker.Token)
		work := g.clone(u)
		g.commit(work, "first", "first\n")
		g.must(work, "push", "--quiet", "origin", "master")
		wantField(t, getProject(t, forker.Token, num(o, "id")), "default_branch", "master")
	})
}
