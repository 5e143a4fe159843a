package server

// gitlab-shell's internal API: GitLab CE 8.7's lib/api/internal.rb, deciding
// with lib/gitlab/git_access.rb. The command rules are git over HTTP's
// (commandAccess); the per-ref rules are the server pre-receive check's.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// gitlabVersion is the GitLab release Labrador answers as.
const gitlabVersion = "8.7.9"

// shellSecretName is the file 8.7 kept the shell secret in.
const shellSecretName = ".gitlab_shell_secret"

// loadShellSecret reads the shell secret, creating the file with a new
// random secret (8.7's SecureRandom.hex(16)) when it does not exist. No
// file and no data dir: no secret, and /internal/* refuses everyone.
func loadShellSecret(cfg Config) (string, error) {
	path := cfg.ShellSecretFile
	if path == "" {
		if cfg.DataDir == "" {
			return "", nil
		}
		path = filepath.Join(cfg.DataDir, shellSecretName)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		buf := make([]byte, 16)
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		secret := hex.EncodeToString(buf)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("shell secret: %w", err)
		}
		// O_EXCL: of two servers starting together, one writes it.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadShellSecret(cfg)
		}
		if err != nil {
			return "", fmt.Errorf("shell secret: %w", err)
		}
		_, werr := f.WriteString(secret + "\n")
		if err := errors.Join(werr, f.Close()); err != nil {
			return "", fmt.Errorf("shell secret: %w", err)
		}
		return secret, nil
	}
	if err != nil {
		return "", fmt.Errorf("shell secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// shellAuthenticated is authenticate_by_gitlab_shell_token!: the secret,
// chomped, compared in constant time, or 401.
func (s *Server) shellAuthenticated(token *string) error {
	if s.shellSecret == "" || token == nil {
		return unauthorized()
	}
	given := strings.TrimRight(*token, "\r\n")
	if subtle.ConstantTimeCompare([]byte(given), []byte(s.shellSecret)) != 1 {
		return unauthorized()
	}
	return nil
}

// 8.7's Gitlab::GitAccess reasons.
const (
	msgNoActor         = "No user or key was provided."
	msgBlocked         = "Your account has been blocked."
	msgNoProject       = "The project you were looking for could not be found."
	msgNoDownload      = "You are not allowed to download code from this project."
	msgNoPush          = "You are not allowed to push code to this project."
	msgDeployKeyPush   = "Deploy keys are not allowed to push code."
	msgNoCommand       = "The command you're trying to execute is not allowed."
	msgForcePush       = "You are not allowed to force push code to a protected branch on this project."
	msgDeleteProtected = "You are not allowed to deleted protected branches from this project."
	msgPushProtected   = "You are not allowed to push code to protected branches on this project."
	msgChangeTags      = "You are not allowed to change existing tags on this project."
)

func accessStatus(reason string) v3api.InternalAllowed200JSONResponse {
	if reason == "" {
		return v3api.InternalAllowed200JSONResponse{Status: true}
	}
	return v3api.InternalAllowed200JSONResponse{Status: false, Message: &reason}
}

func (s *Server) InternalAllowed(ctx context.Context, req v3api.InternalAllowedRequestObject) (v3api.InternalAllowedResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &v3api.InternalAllowedBody{}
	}
	if err := s.shellAuthenticated(b.SecretToken); err != nil {
		return nil, err
	}
	reason, err := s.gitAccessCheck(ctx, b)
	if err != nil {
		return nil, err
	}
	return accessStatus(reason), nil
}

// gitAccessCheck is Gitlab::GitAccess#check; "" means allowed.
func (s *Server) gitAccessCheck(ctx context.Context, b *v3api.InternalAllowedBody) (string, error) {
	user, deployKey, err := s.shellActor(ctx, b)
	if err != nil {
		return "", err
	}
	if user == nil && deployKey == nil {
		return msgNoActor, nil
	}
	if user != nil && !user.Active() {
		return msgBlocked, nil
	}
	p, err := s.shellProject(ctx, deref(b.Project))
	if err != nil {
		return "", err
	}
	action := deref(b.Action)
	if deployKey != nil {
		// A deploy key reads the projects it is added to, and never pushes.
		if p == nil {
			return msgNoProject, nil
		}
		keys, err := s.store.ListDeployKeys(ctx, p.ID)
		if err != nil {
			return "", err
		}
		if !slices.ContainsFunc(keys, func(k persistence.Key) bool { return k.ID == deployKey.ID }) {
			return msgNoProject, nil
		}
		switch action {
		case uploadPack, uploadArchive:
			return "", nil
		case receivePack:
			return msgDeployKeyPush, nil
		}
		return msgNoCommand, nil
	}
	scope := &projectScope{project: p, user: user}
	if p != nil {
		if scope, err = s.scopeOf(ctx, p, user); err != nil {
			return "", err
		}
	}
	switch commandAccess(scope, false, action) {
	case gitDenyProject:
		return msgNoProject, nil
	case gitDenyDownload:
		return msgNoDownload, nil
	case gitDenyCommand:
		return msgNoCommand, nil
	}
	if action != receivePack {
		return "", nil
	}
	// 8.7 judged a push by its changes alone (push_code is one of the
	// rules below); no changes at all is allowed.
	changes := strings.Split(deref(b.Changes), "\n")
	protected, err := s.protectedNames(ctx, p.ID)
	if err != nil {
		return "", err
	}
	for _, line := range changes {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if reason, err := s.changeDenial(ctx, scope, protected, line); reason != "" || err != nil {
			return reason, err
		}
	}
	return "", nil
}

// pushDenial is what commandAccess said of a receive-pack, as the reason
// a single change gets when it needs push_code.
func pushDenial(scope *projectScope) string {
	if commandAccess(scope, false, receivePack) != gitAllowed {
		return msgNoPush
	}
	return ""
}

// changeDenial is Gitlab::GitAccess#change_access_check for one
// "<old> <new> <ref>" line, with the rules of the server's pre-receive
// check (gitstore's hook): protected branches for masters and up, never
// force-pushed or deleted; existing tags for those who administer the
// project; anything else for those who may push.
func (s *Server) changeDenial(ctx context.Context, scope *projectScope, protected []string, line string) (string, error) {
	f := strings.Fields(line)
	f = append(f, "", "", "")
	old, new, ref := f[0], f[1], f[2]
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok && slices.Contains(protected, branch) {
		switch {
		case s.cfg.Repos != nil && s.cfg.Repos.ForcePush(ctx, scope.project.ID, old, new):
			return msgForcePush, nil
		case new == gitstore.ZeroSHA:
			return msgDeleteProtected, nil
		case !scope.canAdmin() || scope.project.Archived:
			return msgPushProtected, nil
		}
		return "", nil
	}
	if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok && s.cfg.Repos != nil {
		_, err := s.cfg.Repos.Tag(ctx, scope.project.ID, tag)
		switch {
		case err == nil:
			if !scope.canAdmin() {
				return msgChangeTags, nil
			}
			return "", nil
		case !errors.Is(err, gitstore.ErrTagNotFound) && !errors.Is(err, gitstore.ErrNotExist):
			return "", err
		}
	}
	return pushDenial(scope), nil
}

// shellActor is the user of key_id (or the deploy key it is), else the
// user of user_id; both nil when neither names one.
func (s *Server) shellActor(ctx context.Context, b *v3api.InternalAllowedBody) (*persistence.User, *persistence.Key, error) {
	if b.KeyID != nil && *b.KeyID != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(*b.KeyID), 10, 64)
		if err != nil {
			return nil, nil, nil
		}
		k, err := s.store.GetKey(ctx, id)
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if k.Type != nil && *k.Type == persistence.DeployKeyType {
			return nil, k, nil
		}
		if k.UserID == nil {
			return nil, nil, nil
		}
		u, err := s.store.GetUser(ctx, *k.UserID)
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, nil, nil
		}
		return u, nil, err
	}
	if b.UserID != nil && *b.UserID != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(*b.UserID), 10, 64)
		if err != nil {
			return nil, nil, nil
		}
		u, err := s.store.GetUser(ctx, id)
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, nil, nil
		}
		return u, nil, err
	}
	return nil, nil, nil
}

// shellProject is Project.find_with_namespace of gitlab-shell's project
// path: "namespace/path", with or without ".git"; a ".wiki" suffix that
// names no project is that project's wiki, judged as the project. Nil
// when there is none.
func (s *Server) shellProject(ctx context.Context, ref string) (*persistence.Project, error) {
	ref = strings.TrimSuffix(strings.Trim(ref, "/"), ".git")
	if !strings.Contains(ref, "/") {
		return nil, nil // an id is no namespace path
	}
	p, err := s.store.FindProject(ctx, ref)
	if errors.Is(err, persistence.ErrNotFound) && strings.HasSuffix(ref, ".wiki") {
		p, err = s.store.FindProject(ctx, strings.TrimSuffix(ref, ".wiki"))
	}
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

func (s *Server) InternalDiscover(ctx context.Context, req v3api.InternalDiscoverRequestObject) (v3api.InternalDiscoverResponseObject, error) {
	if err := s.shellAuthenticated(req.Params.SecretToken); err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(deref(req.Params.KeyID)), 10, 64)
	if err != nil {
		return nil, recordNotFound()
	}
	k, err := s.store.GetKey(ctx, id)
	if err != nil {
		return nil, err // ErrNotFound: 404 Not found, as Key.find raised
	}
	if k.UserID == nil || (k.Type != nil && *k.Type == persistence.DeployKeyType) {
		return nil, recordNotFound()
	}
	u, err := s.store.GetUser(ctx, *k.UserID)
	if err != nil {
		return nil, err
	}
	return v3api.InternalDiscover200JSONResponse{Name: u.Name, Username: u.Username}, nil
}

func (s *Server) InternalCheck(ctx context.Context, req v3api.InternalCheckRequestObject) (v3api.InternalCheckResponseObject, error) {
	if err := s.shellAuthenticated(req.Params.SecretToken); err != nil {
		return nil, err
	}
	return v3api.InternalCheck200JSONResponse{APIVersion: "v3", GitlabVersion: gitlabVersion, GitlabRev: "labrador"}, nil
}

// InternalBroadcastMessage answers {}: there are no broadcast messages.
func (s *Server) InternalBroadcastMessage(ctx context.Context, req v3api.InternalBroadcastMessageRequestObject) (v3api.InternalBroadcastMessageResponseObject, error) {
	if err := s.shellAuthenticated(req.Params.SecretToken); err != nil {
		return nil, err
	}
	return v3api.InternalBroadcastMessage200JSONResponse{}, nil
}
