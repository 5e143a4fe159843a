package server

// Repository files: doc/api/repository_files.md (GitLab CE 8.7,
// lib/api/files.rb with Files::CreateService, UpdateService and
// DeleteService). Each write is one commit on an existing branch, made
// without a work tree (gitstore.CommitFile), and then a push like any other.

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// Files::*Service answers, rendered with render_api_error!(msg, 400). The
// two path messages keep 8.7's trailing space (Gitlab::Regex's messages
// ended in one).
var (
	errNoPushToBranch = renderAPIError(http.StatusBadRequest, "You are not allowed to push into this branch")
	errNotOnBranch    = renderAPIError(http.StatusBadRequest, "You can only create or edit files when you are on a branch")
	errPathTraversal  = renderAPIError(http.StatusBadRequest, "Your changes could not be committed, because the file name cannot include directory traversal. ")
	errPathCharacters = renderAPIError(http.StatusBadRequest, "Your changes could not be committed, because the file name can contain only letters, digits, '_', '-', '@' and '.'. Separate directories with a '/'. ")
	errFileExists     = renderAPIError(http.StatusBadRequest, "Your changes could not be committed because a file with the same name already exists")
	errFileMissing    = renderAPIError(http.StatusBadRequest, "A file with this name doesn't exist")
	errInvalidPath    = renderAPIError(http.StatusBadRequest, "Invalid path")
	errBranchMoved    = renderAPIError(http.StatusBadRequest, "Commit was rejected because branch received new push")
)

// filePathRE is 8.7's Gitlab::Regex.file_path_regex.
var filePathRE = regexp.MustCompile(`^[a-zA-Z0-9_\-./@]*$`)

func (s *Server) GetRepositoryFile(ctx context.Context, req v3api.GetRepositoryFileRequestObject) (v3api.GetRepositoryFileResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canDownloadCode)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	// required_attributes!, after access: blank counts as missing.
	reqPath, ref := deref(req.Params.FilePath), deref(req.Params.Ref)
	switch {
	case strings.TrimSpace(reqPath) == "":
		return nil, badRequestNotGiven("file_path")
	case strings.TrimSpace(ref) == "":
		return nil, badRequestNotGiven("ref")
	}
	if s.cfg.Repos == nil {
		return nil, notFound("Commit")
	}
	id := scope.project.ID
	commit, err := s.cfg.Repos.ResolveCommit(ctx, id, ref)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return nil, notFound("Commit")
	}
	if err != nil {
		return nil, err
	}
	// Gitlab::Git::Blob.find dropped the leading slashes.
	filePath := strings.TrimLeft(reqPath, "/")
	blob, err := s.cfg.Repos.BlobAt(ctx, id, commit, filePath)
	if errors.Is(err, gitstore.ErrBlobNotFound) {
		return nil, notFound("File")
	}
	if err != nil {
		return nil, err
	}
	content, err := io.ReadAll(blob)
	blob.Close()
	if err != nil {
		return nil, err
	}
	blobID, err := s.cfg.Repos.RefTarget(ctx, id, commit+":"+filePath)
	if err != nil {
		return nil, err
	}
	last, err := s.cfg.Repos.LastCommitFor(ctx, id, commit, filePath)
	if err != nil {
		return nil, err
	}
	return v3api.GetRepositoryFile200JSONResponse{
		FileName: path.Base(filePath), FilePath: filePath, Size: int(blob.Size),
		Encoding: v3api.Base64, Content: base64.StdEncoding.EncodeToString(content),
		Ref: ref, BlobID: blobID, CommitID: commit, LastCommitID: last,
	}, nil
}

func (s *Server) CreateRepositoryFile(ctx context.Context, req v3api.CreateRepositoryFileRequestObject) (v3api.CreateRepositoryFileResponseObject, error) {
	b, err := s.writeFile(ctx, req.ID, gitstore.FileCreate, req.JSONBody)
	if err != nil {
		return nil, err
	}
	return v3api.CreateRepositoryFile201JSONResponse(*b), nil
}

func (s *Server) UpdateRepositoryFile(ctx context.Context, req v3api.UpdateRepositoryFileRequestObject) (v3api.UpdateRepositoryFileResponseObject, error) {
	b, err := s.writeFile(ctx, req.ID, gitstore.FileUpdate, req.JSONBody)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateRepositoryFile200JSONResponse(*b), nil
}

func (s *Server) DeleteRepositoryFile(ctx context.Context, req v3api.DeleteRepositoryFileRequestObject) (v3api.DeleteRepositoryFileResponseObject, error) {
	p := req.Params
	body := &v3api.WriteRepositoryFileBody{FilePath: deref(p.FilePath), BranchName: deref(p.BranchName), CommitMessage: deref(p.CommitMessage)}
	b, err := s.writeFile(ctx, req.ID, gitstore.FileDelete, body)
	if err != nil {
		return nil, err
	}
	return v3api.DeleteRepositoryFile200JSONResponse(*b), nil
}

// writeFile is the three services' execute, in 8.7's order: the project
// and push_code (404, 403), the parameters, the branch's protection, the
// branch itself, the create checks of the path, then the commit, which
// moves the branch only if nobody moved it meanwhile. The commit is then a
// push (afterPush): its event and Push Hook.
func (s *Server) writeFile(ctx context.Context, ref string, action gitstore.FileAction, b *v3api.WriteRepositoryFileBody) (*v3api.RepoFileCommit, error) {
	scope, err := s.requireProject(ctx, ref, (*projectScope).canPushCode)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	// A DELETE's query parameters arrive as they were sent: blank counts
	// as missing, as required_attributes! had it.
	for _, p := range []struct{ name, value string }{
		{"file_path", b.FilePath}, {"branch_name", b.BranchName}, {"commit_message", b.CommitMessage},
	} {
		if strings.TrimSpace(p.value) == "" {
			return nil, badRequestNotGiven(p.name)
		}
	}
	if s.cfg.Repos == nil {
		return nil, errNotOnBranch
	}
	id := scope.project.ID

	// Gitlab::GitAccess#can_push_to_branch?: a protected branch is for
	// those who may push to protected branches (masters and up).
	protected, err := s.store.IsProtected(ctx, id, b.BranchName)
	if err != nil {
		return nil, err
	}
	if protected && !scope.canAdmin() {
		return nil, errNoPushToBranch
	}
	// Projects made before repositories existed get theirs on first use.
	if err := s.cfg.Repos.Create(ctx, id); err != nil {
		return nil, err
	}
	old := gitstore.ZeroSHA
	nonEmpty, err := s.cfg.Repos.HasCommits(ctx, id)
	if err != nil {
		return nil, err
	}
	if nonEmpty {
		branch, err := s.cfg.Repos.Branch(ctx, id, b.BranchName)
		if errors.Is(err, gitstore.ErrBranchNotFound) {
			return nil, errNotOnBranch
		}
		if err != nil {
			return nil, err
		}
		old = branch.Commit.ID
	}
	if action == gitstore.FileCreate {
		if strings.Contains(b.FilePath, "..") {
			return nil, errPathTraversal
		}
		if !filePathRE.MatchString(b.FilePath) {
			return nil, errPathCharacters
		}
	}

	user := currentUser(ctx)
	author := gitstore.Signature{Name: user.Name, Email: user.Email}
	if author.Name == "" {
		author.Name = user.Username
	}
	content := []byte(b.Content)
	if b.Encoding != nil && *b.Encoding == "base64" {
		content = decodeBase64Lenient(b.Content)
	}
	update, err := s.cfg.Repos.CommitFile(ctx, id, old, gitstore.FileCommit{
		Action: action, Branch: b.BranchName, Path: b.FilePath, Content: content,
		Message: b.CommitMessage, Author: author,
	})
	switch {
	case errors.Is(err, gitstore.ErrFileExists):
		return nil, errFileExists
	case errors.Is(err, gitstore.ErrFileNotFound):
		return nil, errFileMissing
	case errors.Is(err, gitstore.ErrInvalidPath):
		return nil, errInvalidPath
	case errors.Is(err, gitstore.ErrBranchMoved):
		return nil, errBranchMoved
	case errors.Is(err, gitstore.ErrBranchNotFound):
		return nil, errNotOnBranch
	case err != nil:
		return nil, err
	}
	// 8.7 committed through GitHooksService, whose post-receive hook ran
	// the whole push: events, hooks and the commit's builds.
	s.afterPush(context.WithoutCancel(ctx), id, user, []gitstore.RefUpdate{update}, true)
	return &v3api.RepoFileCommit{FilePath: b.FilePath, BranchName: b.BranchName}, nil
}

// decodeBase64Lenient is Ruby's Base64.decode64, which 8.7 used: characters
// outside the alphabet are skipped, decoding stops at padding, and a
// trailing partial group gives what bytes it holds.
func decodeBase64Lenient(s string) []byte {
	var clean strings.Builder
	for _, c := range s {
		if c == '=' {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean.WriteRune(c)
		}
	}
	in := clean.String()
	if len(in)%4 == 1 {
		in = in[:len(in)-1] // six bits make no byte
	}
	// Only the alphabet is left, and the non-strict decoder ignores
	// trailing bits: this cannot fail.
	out, _ := base64.RawStdEncoding.DecodeString(in)
	return out
}
