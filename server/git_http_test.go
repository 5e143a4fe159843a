package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server"
)

// flakyRepos is the real repository store, except that creating or
// forking fails while told to.
type flakyRepos struct {
	*gitstore.Repos
	failCreate, failFork atomic.Bool
}

var errDiskFull = errors.New("disk full")

func (f *flakyRepos) Create(ctx context.Context, id int64) error {
	if f.failCreate.Load() {
		return errDiskFull
	}
	return f.Repos.Create(ctx, id)
}

func (f *flakyRepos) Fork(ctx context.Context, from, to int64) error {
	if f.failFork.Load() {
		return errDiskFull
	}
	return f.Repos.Fork(ctx, from, to)
}

// repoServer is a server with repositories under a known data dir.
type repoServer struct {
	t     *testing.T
	url   string
	root  string // root's private token
	repos *flakyRepos
	store *persistence.Store
}

func newRepoServer(t *testing.T) *repoServer {
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
	repos, err := gitstore.Open(filepath.Join(dataDir, "repositories"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(repos.Close)
	flaky := &flakyRepos{Repos: repos}
	srv, err := server.New(server.Config{DataDir: dataDir, Repos: flaky, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, store)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &repoServer{t: t, url: ts.URL, root: root.PrivateToken, repos: flaky, store: store}
}

// api sends a JSON request as the holder of tok and decodes the answer
// into out (when not nil); it returns the status.
func (s *repoServer) api(tok, method, path string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, s.url+"/api/v3"+path, r)
	req.Header.Set("PRIVATE-TOKEN", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

type projectRef struct {
	ID            int
	DefaultBranch *string `json:"default_branch"`
}

func (s *repoServer) mustCreate(tok, path string, body any) projectRef {
	s.t.Helper()
	var p projectRef
	if status := s.api(tok, "POST", path, body, &p); status != 201 || p.ID == 0 {
		s.t.Fatalf("POST %s: %d %+v", path, status, p)
	}
	return p
}

// newUser creates a user as root and returns its id and token.
func (s *repoServer) newUser(name string) (int, string) {
	s.t.Helper()
	var u struct{ ID int }
	if status := s.api(s.root, "POST", "/users", map[string]any{"email": name + "@example.com", "password": "password123",
		"name": name, "username": name}, &u); status != 201 {
		s.t.Fatalf("create user %s: %d", name, status)
	}
	var sess struct {
		PrivateToken string `json:"private_token"`
	}
	if status := s.api("", "POST", "/session", map[string]any{"login": name, "password": "password123"}, &sess); status != 201 {
		s.t.Fatalf("login %s: %d", name, status)
	}
	return u.ID, sess.PrivateToken
}

// head is where the project's repository HEAD points, or "" without a
// repository.
func (s *repoServer) head(id int) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.repos.Path(int64(id)), "HEAD"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Every project created through the API has a repository under
// <data dir>/repositories/<id>.git, and it goes with the project, whether
// the project is deleted alone or with its owner or group.
func TestProjectRepositoryLifecycle(t *testing.T) {
	s := newRepoServer(t)
	userID, userTok := s.newUser("alice")

	p := s.mustCreate(userTok, "/projects", map[string]any{"name": "alpha"})
	if got, want := s.repos.Path(int64(p.ID)), filepath.Join(s.repos.Root(), fmt.Sprintf("%d.git", p.ID)); got != want {
		t.Fatalf("repository path %s, want %s", got, want)
	}
	if got := s.head(p.ID); got != "ref: refs/heads/master" {
		t.Errorf("HEAD of a new project's repository = %q, want ref: refs/heads/master", got)
	}
	forUser := s.mustCreate(s.root, fmt.Sprintf("/projects/user/%d", userID), map[string]any{"name": "beta", "default_branch": "develop"})
	if got := s.head(forUser.ID); got != "ref: refs/heads/develop" {
		t.Errorf("HEAD with default_branch develop = %q, want ref: refs/heads/develop", got)
	}
	if status := s.api(userTok, "PUT", fmt.Sprintf("/projects/%d", forUser.ID), map[string]any{"default_branch": "stable"}, nil); status != 200 {
		t.Fatalf("update default_branch: %d", status)
	}
	if got := s.head(forUser.ID); got != "ref: refs/heads/stable" {
		t.Errorf("HEAD after default_branch stable = %q, want ref: refs/heads/stable", got)
	}
	fork := s.mustCreate(s.root, fmt.Sprintf("/projects/fork/%d", p.ID), nil)
	if got := s.head(fork.ID); got != "ref: refs/heads/master" {
		t.Errorf("HEAD of the fork = %q, want ref: refs/heads/master", got)
	}

	if status := s.api(userTok, "DELETE", fmt.Sprintf("/projects/%d", p.ID), nil, nil); status != 200 {
		t.Fatalf("delete project: %d", status)
	}
	if got := s.head(p.ID); got != "" {
		t.Errorf("after DELETE /projects/%d its repository is still there (HEAD %q)", p.ID, got)
	}
	if got := s.head(fork.ID); got == "" {
		t.Errorf("deleting the source took its fork's repository")
	}

	var g struct{ ID int }
	if status := s.api(userTok, "POST", "/groups", map[string]any{"name": "team", "path": "team"}, &g); status != 201 {
		t.Fatalf("create group: %d", status)
	}
	inGroup := s.mustCreate(userTok, "/projects", map[string]any{"name": "gamma", "namespace_id": g.ID})
	if status := s.api(userTok, "DELETE", fmt.Sprintf("/groups/%d", g.ID), nil, nil); status != 200 {
		t.Fatalf("delete group: %d", status)
	}
	if got := s.head(inGroup.ID); got != "" {
		t.Errorf("after deleting its group, project %d's repository is still there", inGroup.ID)
	}

	if status := s.api(s.root, "DELETE", fmt.Sprintf("/users/%d", userID), nil, nil); status != 200 {
		t.Fatalf("delete user: %d", status)
	}
	if got := s.head(forUser.ID); got != "" {
		t.Errorf("after deleting its owner, project %d's repository is still there", forUser.ID)
	}
	entries, err := os.ReadDir(s.repos.Root())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		if e.Name() == ".hooks" { // the server hooks every push runs, no repository
			continue
		}
		left = append(left, e.Name())
	}
	if want := fmt.Sprintf("%d.git", fork.ID); len(left) != 1 || left[0] != want {
		t.Errorf("repositories left: %v, want only the fork's %s", left, want)
	}
}

// A repository that cannot be made fails the request with a 500, and no
// project is left without one.
func TestRepositoryFailureLeavesNoProject(t *testing.T) {
	s := newRepoServer(t)
	_, tok := s.newUser("bob")
	src := s.mustCreate(s.root, "/projects", map[string]any{"name": "source", "visibility_level": 20})

	for _, tc := range []struct {
		name, path string
		body       any
		fail       *atomic.Bool
	}{
		{"create", "/projects", map[string]any{"name": "doomed"}, &s.repos.failCreate},
		{"fork", fmt.Sprintf("/projects/fork/%d", src.ID), nil, &s.repos.failFork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fail.Store(true)
			defer tc.fail.Store(false)
			var body struct{ Message string }
			if status := s.api(tok, "POST", tc.path, tc.body, &body); status != 500 || body.Message != "500 Internal Server Error" {
				t.Errorf("got %d %q, want 500 \"500 Internal Server Error\"", status, body.Message)
			}
			var owned []projectRef
			if status := s.api(tok, "GET", "/projects/owned", nil, &owned); status != 200 || len(owned) != 0 {
				t.Errorf("bob's projects after the failure: %d %+v, want none", status, owned)
			}
		})
	}
	// Once the disk is back, the same names work.
	p := s.mustCreate(tok, "/projects", map[string]any{"name": "doomed"})
	if got := s.head(p.ID); got != "ref: refs/heads/master" {
		t.Errorf("HEAD = %q, want ref: refs/heads/master", got)
	}
	s.mustCreate(tok, fmt.Sprintf("/projects/fork/%d", src.ID), nil)
}

// Without a repository store, git over HTTP answers 404 and projects are
// still created (the configuration other tests use).
func TestNoRepositories(t *testing.T) {
	ts, token, _ := newTestServer(t, func(s *persistence.Store) server.Store { return s })
	req, _ := http.NewRequest("POST", ts.URL+"/api/v3/projects", strings.NewReader(`{"name":"plain"}`))
	req.Header.Set("PRIVATE-TOKEN", token)
	req.Header.Set("Content-Type", "application/json")
	if status, _, body := get(t, req); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	req, _ = http.NewRequest("GET", ts.URL+"/root/plain.git/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("root", token)
	if status, ctype, body := get(t, req); status != 404 || !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("info/refs without repositories: %d %q %q, want 404 text/plain", status, ctype, body)
	}
}
