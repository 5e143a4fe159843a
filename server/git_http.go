package server

// Git over smart HTTP: clone, fetch and push at
// <external-url>/<namespace>/<project>.git, as GitLab CE 8.7 served them
// (lib/gitlab/backend/grack_auth.rb deciding, Gitlab::GitAccess's
// messages). The real `git http-backend` does the protocol, as a CGI
// program; this file only decides who may.

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// The two smart HTTP services.
const (
	uploadPack  = "git-upload-pack"  // clone, fetch, pull: download_code
	receivePack = "git-receive-pack" // push: push_code
)

// ciTokenLogin is the user name a CI build authenticates as, with its
// build token as the password.
const ciTokenLogin = "gitlab-ci-token"

// registerGit mounts the smart HTTP routes, with and without the .git
// suffix (…/group/project.git/info/refs or …/group/project/info/refs).
// They sit outside the API prefixes: no contract, no body cap.
func (s *Server) registerGit(e *echo.Echo) {
	e.GET("/:namespace/:project/info/refs", s.gitHTTP)
	e.POST("/:namespace/:project/"+uploadPack, s.gitHTTP)
	e.POST("/:namespace/:project/"+receivePack, s.gitHTTP)
}

var gitRouteRE = regexp.MustCompile(`^/[^/]+/[^/]+/(?:info/refs|git-upload-pack|git-receive-pack)$`)

// isGitRoute reports whether path is one of registerGit's routes. "api"
// and "ci" are reserved namespace paths, so nothing under the APIs is.
func isGitRoute(path string) bool {
	return gitRouteRE.MatchString(path) && !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/ci/")
}

// gitRefusal is a git request turned away: a plain-text answer, which git
// shows its user as "remote: <text>".
type gitRefusal struct {
	status int
	text   string
}

var (
	// Rack::Auth::Basic's challenge: git asks for (or reports failed)
	// credentials.
	gitUnauthorized = &gitRefusal{http.StatusUnauthorized, ""}
	// Missing, or not to be seen by this user: the same answer.
	gitNotFound     = &gitRefusal{http.StatusNotFound, "Not Found"}
	gitNoDownload   = &gitRefusal{http.StatusForbidden, "You are not allowed to download code from this project."}
	gitNoPush       = &gitRefusal{http.StatusForbidden, "You are not allowed to push code to this project."}
	gitNoSuchAction = &gitRefusal{http.StatusForbidden, "The command you're trying to execute is not allowed."}
)

// gitAccess decides whether the request may run service on scope.project
// (nil when there is no such project). scope.user is nil for an anonymous
// request, or for credentials that were not valid: 8.7 let those read
// public projects and asked everyone else to log in. ciBuild marks a CI
// build's token, which only ever reads.
func gitAccess(scope *projectScope, ciBuild bool, service string) *gitRefusal {
	anonymous := scope.user == nil && !ciBuild
	if scope.project == nil || (!ciBuild && !scope.canRead()) {
		// Whoever is not known is asked to log in, so that git prompts
		// and a private project's existence is not told.
		if anonymous {
			return gitUnauthorized
		}
		return gitNotFound
	}
	switch service {
	case uploadPack:
		if ciBuild || scope.canDownloadCode() {
			return nil
		}
		if anonymous {
			return gitUnauthorized
		}
		return gitNoDownload
	case receivePack:
		if anonymous {
			return gitUnauthorized
		}
		if !ciBuild && scope.canPushCode() {
			return nil
		}
		return gitNoPush
	}
	return gitNoSuchAction
}

// gitHTTP serves one smart HTTP request: find the project, authenticate,
// authorize, then hand the request to git http-backend.
func (s *Server) gitHTTP(c echo.Context) error {
	r := c.Request()
	ctx := r.Context()
	action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	service := action
	if r.Method == http.MethodGet { // info/refs?service=…
		action = "info/refs"
		service = r.URL.Query().Get("service")
	}
	if service != uploadPack && service != receivePack {
		// Dumb HTTP (no service) is not served.
		return s.refuseGit(c, gitNotFound)
	}
	if s.cfg.Repos == nil {
		return s.refuseGit(c, gitNotFound)
	}

	ref := c.Param("namespace") + "/" + strings.TrimSuffix(c.Param("project"), ".git")
	p, err := s.store.FindProject(ctx, ref)
	if errors.Is(err, persistence.ErrNotFound) {
		p, err = nil, nil
	}
	if err != nil {
		return err
	}
	user, ciBuild, err := s.gitCredentials(ctx, r, p)
	if err != nil {
		return err
	}
	scope := &projectScope{project: p, user: user}
	if p != nil && user != nil {
		if scope, err = s.scopeOf(ctx, p, user); err != nil {
			return err
		}
	}
	if refusal := gitAccess(scope, ciBuild, service); refusal != nil {
		return s.refuseGit(c, refusal)
	}

	// Projects made before repositories existed get theirs on first use.
	if err := s.cfg.Repos.Create(ctx, p.ID); err != nil {
		return err
	}
	if r.Method == http.MethodPost && service == receivePack {
		// The push is complete for git when the answer is; hold its last
		// bytes until what follows a push is done, so that a client that
		// sees its push succeed also sees the default branch it set.
		push, err := s.preparePush(ctx, scope)
		if err != nil {
			return err
		}
		defer push.cleanup()
		held := &holdTail{ResponseWriter: c.Response(), n: 4}
		s.runHTTPBackend(held, r, p.ID, action, user, push.env...)
		s.afterPush(context.WithoutCancel(ctx), p.ID, user, push.updates(s.log), true)
		return held.release()
	}
	s.runHTTPBackend(c.Response(), r, p.ID, action, user)
	return nil
}

// gitCredentials is Grack::Auth#auth!: HTTP Basic with a user name and
// either the password or the user's private token. Credentials that are
// not valid, or a blocked user's, count as none (an anonymous request);
// only errors of the store are errors.
func (s *Server) gitCredentials(ctx context.Context, r *http.Request, p *persistence.Project) (user *persistence.User, ciBuild bool, err error) {
	login, password, ok := r.BasicAuth()
	if !ok || login == "" || password == "" {
		return nil, false, nil
	}
	if login == ciTokenLogin {
		// The password is the token of a running build of p, which may
		// download p's code and never push (ciBuild = true); any other
		// token counts as no credentials.
		if p == nil {
			return nil, false, nil
		}
		ok, err := s.store.RunningBuildToken(ctx, p.ID, password)
		return nil, ok, err
	}
	u, err := s.store.UserByToken(ctx, password)
	if err == nil && !strings.EqualFold(u.Username, login) {
		u, err = nil, persistence.ErrNotFound // someone else's token
	}
	if errors.Is(err, persistence.ErrNotFound) {
		u, err = s.store.Authenticate(ctx, login, password)
	}
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !u.Active() {
		return nil, false, nil
	}
	return u, false, nil
}

// refuseGit writes a refusal as git expects it: plain text, and for a 401
// the Basic challenge that makes git ask for credentials.
func (s *Server) refuseGit(c echo.Context, refusal *gitRefusal) error {
	h := c.Response().Header()
	if refusal.status == http.StatusUnauthorized {
		h.Set(echo.HeaderWWWAuthenticate, `Basic realm="GitLab"`)
	}
	h.Set(echo.HeaderContentType, "text/plain; charset=utf-8")
	body := refusal.text
	if body != "" {
		body += "\n"
	}
	return c.String(refusal.status, body)
}

// runHTTPBackend runs `git http-backend` for the project's repository. The
// backend sees the repository by id, never the Authorization header, and
// the user (who the receive-pack's reflog names) as REMOTE_USER; extraEnv
// adds to its environment (a push's hooks).
func (s *Server) runHTTPBackend(w http.ResponseWriter, r *http.Request, projectID int64, action string, user *persistence.User, extraEnv ...string) {
	repo := s.cfg.Repos.Path(projectID)
	env := append([]string{
		"GIT_PROJECT_ROOT=" + filepath.Dir(repo),
		"GIT_HTTP_EXPORT_ALL=1",
		"PATH_INFO=/" + filepath.Base(repo) + "/" + action,
	}, extraEnv...)
	if user != nil {
		env = append(env, "REMOTE_USER="+user.Username,
			"GIT_COMMITTER_NAME="+user.Name, "GIT_COMMITTER_EMAIL="+user.Email)
	}
	req := r.Clone(r.Context())
	req.Header.Del("Authorization")
	if len(req.TransferEncoding) > 0 {
		// net/http/cgi refuses chunked bodies (git sends them for large
		// pushes); the body arrives de-chunked anyway, and http-backend
		// reads a request without CONTENT_LENGTH to its end.
		req.TransferEncoding = nil
		req.ContentLength = -1
	}
	stderr := &logLines{log: s.log, msg: "git http-backend", projectID: projectID}
	h := &cgi.Handler{
		Path:   s.cfg.Repos.Git(),
		Args:   []string{"http-backend"},
		Dir:    filepath.Dir(repo),
		Env:    env,
		Logger: log.New(stderr, "", 0),
		Stderr: stderr,
	}
	h.ServeHTTP(w, req)
}

// afterPush is GitLab's post-receive work: the first push to a project
// without a default branch makes one (master when it was pushed, else the
// first branch by name), and HEAD points at it, so clones check it out;
// then each updated ref gives its event and hook payloads (pushed), and,
// with ci (a git push: 8.7's branch API did not build), its pipeline.
func (s *Server) afterPush(ctx context.Context, projectID int64, user *persistence.User, updates []gitstore.RefUpdate, ci bool) {
	s.setDefaultBranch(ctx, projectID)
	if len(updates) == 0 {
		return
	}
	p, err := s.store.GetProject(ctx, projectID)
	if err != nil {
		s.log.Error("after push: load project", "project_id", projectID, "err", err)
		return
	}
	s.pushed(ctx, p, user, updates, ci)
}

// setDefaultBranch gives a project without a default branch one.
func (s *Server) setDefaultBranch(ctx context.Context, projectID int64) {
	p, err := s.store.GetProject(ctx, projectID)
	if err != nil {
		s.log.Error("after push: load project", "project_id", projectID, "err", err)
		return
	}
	if p.DefaultBranch != nil {
		return
	}
	branches, err := s.cfg.Repos.Branches(ctx, projectID)
	if err != nil {
		s.log.Error("after push: list branches", "project_id", projectID, "err", err)
		return
	}
	if len(branches) == 0 {
		return
	}
	branch := branches[0]
	if slices.Contains(branches, "master") {
		branch = "master"
	}
	if err := s.cfg.Repos.SetHead(ctx, projectID, branch); err != nil {
		s.log.Error("after push: set HEAD", "project_id", projectID, "err", err)
		return
	}
	if _, err := s.store.UpdateProject(ctx, projectID, persistence.ProjectUpdate{DefaultBranch: &branch}); err != nil {
		s.log.Error("after push: set default branch", "project_id", projectID, "err", err)
	}
}

// holdTail passes a response through but its last n bytes, which wait for
// release.
type holdTail struct {
	http.ResponseWriter
	n    int
	tail []byte
}

func (h *holdTail) Write(p []byte) (int, error) {
	buf := append(h.tail, p...)
	if cut := len(buf) - h.n; cut > 0 {
		if _, err := h.ResponseWriter.Write(buf[:cut]); err != nil {
			return 0, err
		}
		buf = append([]byte(nil), buf[cut:]...)
	}
	h.tail = buf
	return len(p), nil
}

func (h *holdTail) release() error {
	if len(h.tail) == 0 {
		return nil
	}
	_, err := h.ResponseWriter.Write(h.tail)
	h.tail = nil
	return err
}

// logLines sends what git writes on its standard error to the log, a
// record per line, so that the server's log stays one JSON object a line.
type logLines struct {
	log       *slog.Logger
	msg       string
	projectID int64
}

func (l *logLines) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			l.log.Warn(l.msg, "project_id", l.projectID, "line", line)
		}
	}
	return len(p), nil
}
