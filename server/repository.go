package server

// The repository read API: doc/api/repositories.md (GitLab CE 8.7,
// lib/api/repositories.rb). Raw files, blobs and archives, which 8.7 left
// to GitLab Workhorse, are streamed straight from git.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// defaultRef is the project's default branch, or master (8.7's
// `user_project.try(:default_branch) || 'master'`).
func (p *projectScope) defaultRef() string {
	if p.project.DefaultBranch != nil && *p.project.DefaultBranch != "" {
		return *p.project.DefaultBranch
	}
	return gitstore.DefaultBranch
}

// resolveCommit is the commit rev names; a server without repositories has none.
func (s *Server) resolveCommit(ctx context.Context, projectID int64, rev string) (string, error) {
	if s.cfg.Repos == nil {
		return "", gitstore.ErrCommitNotFound
	}
	return s.cfg.Repos.ResolveCommit(ctx, projectID, rev)
}

func (s *Server) ListTree(ctx context.Context, req v3api.ListTreeRequestObject) (v3api.ListTreeResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	ref := scope.defaultRef()
	if req.Params.RefName != nil {
		ref = *req.Params.RefName
	}
	commit, err := s.resolveCommit(ctx, scope.project.ID, ref)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return nil, notFound("Tree")
	}
	if err != nil {
		return nil, err
	}
	var path string
	if req.Params.Path != nil && *req.Params.Path != "/" {
		path = strings.TrimSuffix(*req.Params.Path, "/")
	}
	entries, err := s.cfg.Repos.Tree(ctx, scope.project.ID, commit, path)
	if err != nil {
		return nil, err
	}
	body := make([]v3api.RepoTreeObject, len(entries))
	for i, e := range entries {
		body[i] = v3api.RepoTreeObject{ID: e.ID, Name: e.Name, Type: v3api.RepoTreeObjectType(e.Type), Mode: e.Mode}
	}
	return v3api.ListTree200JSONResponse(body), nil
}

// blobResponse streams a blob as the 200 of the blob operations.
type blobResponse struct {
	blob        *gitstore.Blob
	contentType string // "" to detect text/plain or application/octet-stream
}

func (r blobResponse) visit(w http.ResponseWriter) error {
	defer r.blob.Close()
	ct := r.contentType
	var head []byte
	if ct == "" {
		head = make([]byte, 512)
		n, err := io.ReadFull(r.blob, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return err
		}
		head = head[:n]
		ct = "application/octet-stream"
		if strings.HasPrefix(http.DetectContentType(head), "text/") {
			ct = "text/plain"
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(r.blob.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := io.Copy(w, r.blob)
	return err
}

func (r blobResponse) VisitGetBlobResponse(w http.ResponseWriter) error       { return r.visit(w) }
func (r blobResponse) VisitGetCommitBlobResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r blobResponse) VisitGetRawBlobResponse(w http.ResponseWriter) error    { return r.visit(w) }

// fileAt is the shared body of GET blobs/:sha and commits/:sha/blob.
func (s *Server) fileAt(ctx context.Context, id, sha string, filepath *string) (blobResponse, error) {
	scope, err := s.codeProject(ctx, id, false)
	if err != nil {
		return blobResponse{}, err
	}
	if filepath == nil || *filepath == "" { // required_attributes!, after access
		return blobResponse{}, badRequestNotGiven("filepath")
	}
	commit, err := s.resolveCommit(ctx, scope.project.ID, sha)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return blobResponse{}, notFound("Commit")
	}
	if err != nil {
		return blobResponse{}, err
	}
	blob, err := s.cfg.Repos.BlobAt(ctx, scope.project.ID, commit, *filepath)
	if errors.Is(err, gitstore.ErrBlobNotFound) {
		return blobResponse{}, notFound("File")
	}
	if err != nil {
		return blobResponse{}, err
	}
	return blobResponse{blob: blob, contentType: "text/plain"}, nil
}

func (s *Server) GetBlob(ctx context.Context, req v3api.GetBlobRequestObject) (v3api.GetBlobResponseObject, error) {
	r, err := s.fileAt(ctx, req.ID, req.Sha, req.Params.Filepath)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Server) GetCommitBlob(ctx context.Context, req v3api.GetCommitBlobRequestObject) (v3api.GetCommitBlobResponseObject, error) {
	r, err := s.fileAt(ctx, req.ID, req.Sha, req.Params.Filepath)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Server) GetRawBlob(ctx context.Context, req v3api.GetRawBlobRequestObject) (v3api.GetRawBlobResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	if s.cfg.Repos == nil {
		return nil, notFound("Blob")
	}
	blob, err := s.cfg.Repos.BlobByID(ctx, scope.project.ID, req.Sha)
	if errors.Is(err, gitstore.ErrBlobNotFound) {
		return nil, notFound("Blob")
	}
	if err != nil {
		return nil, err
	}
	return blobResponse{blob: blob}, nil
}

// archiveResponse streams git archive as the 200 of the archive operations.
type archiveResponse struct {
	s                                         *Server
	ctx                                       context.Context
	projectID                                 int64
	commit, prefix, format, extension, ctType string
}

func (r archiveResponse) visit(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", r.ctType)
	h.Set("Content-Disposition", `attachment; filename="`+r.prefix+"."+r.extension+`"`)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Cache-Control", "private")
	w.WriteHeader(http.StatusOK)
	return r.s.cfg.Repos.Archive(r.ctx, r.projectID, r.commit, r.prefix, r.format, w)
}

func (r archiveResponse) VisitGetArchiveResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r archiveResponse) VisitGetArchiveFormatResponse(w http.ResponseWriter) error {
	return r.visit(w)
}

// archive is send_git_archive: the commit sha names (404 File Not Found),
// in the format suffix names.
func (s *Server) archive(ctx context.Context, id string, sha *string, suffix string) (archiveResponse, error) {
	format, ok := gitstore.ArchiveFormats[suffix]
	if !ok { // 8.7's route requirements matched no other suffix
		return archiveResponse{}, routeNotFound
	}
	scope, err := s.codeProject(ctx, id, false)
	if err != nil {
		return archiveResponse{}, err
	}
	ref := scope.defaultRef()
	if sha != nil && *sha != "" {
		ref = *sha
	}
	commit, err := s.resolveCommit(ctx, scope.project.ID, ref)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return archiveResponse{}, notFound("File")
	}
	if err != nil {
		return archiveResponse{}, err
	}
	r := archiveResponse{s: s, ctx: ctx, projectID: scope.project.ID, commit: commit, format: format, extension: format,
		prefix: scope.project.Path + "-" + strings.ReplaceAll(ref, "/", "-") + "-" + commit, ctType: "application/octet-stream"}
	if format == "zip" {
		r.ctType = "application/zip"
	}
	return r, nil
}

func (s *Server) GetArchive(ctx context.Context, req v3api.GetArchiveRequestObject) (v3api.GetArchiveResponseObject, error) {
	r, err := s.archive(ctx, req.ID, req.Params.Sha, "tar.gz")
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Server) GetArchiveFormat(ctx context.Context, req v3api.GetArchiveFormatRequestObject) (v3api.GetArchiveFormatResponseObject, error) {
	r, err := s.archive(ctx, req.ID, req.Params.Sha, req.Format)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Server) CompareRefs(ctx context.Context, req v3api.CompareRefsRequestObject) (v3api.CompareRefsResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name  string
		value *string
	}{{"from", req.Params.From}, {"to", req.Params.To}} {
		if p.value == nil || *p.value == "" { // required_attributes!, after access
			return nil, badRequestNotGiven(p.name)
		}
	}
	from, to := *req.Params.From, *req.Params.To
	body := v3api.Compare{Commits: []v3api.RepoCommit{}, Diffs: []v3api.RepoDiff{}}
	if s.cfg.Repos == nil {
		body.CompareSameRef = from == to
		return v3api.CompareRefs200JSONResponse(body), nil
	}
	cmp, err := s.cfg.Repos.Compare(ctx, scope.project.ID, from, to)
	if err != nil {
		return nil, err
	}
	for i := range cmp.Commits {
		body.Commits = append(body.Commits, presentRepoCommit(&cmp.Commits[i]))
	}
	if n := len(body.Commits); n > 0 {
		last := body.Commits[n-1]
		body.Commit = &last
	}
	for i := range cmp.Diffs {
		body.Diffs = append(body.Diffs, presentRepoDiff(&cmp.Diffs[i]))
	}
	body.CompareSameRef = cmp.Same
	return v3api.CompareRefs200JSONResponse(body), nil
}

func (s *Server) ListContributors(ctx context.Context, req v3api.ListContributorsRequestObject) (v3api.ListContributorsResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	if s.cfg.Repos == nil {
		return nil, notFound()
	}
	list, err := s.cfg.Repos.Contributors(ctx, scope.project.ID)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Contributor, len(list))
	for i, c := range list {
		body[i] = v3api.Contributor{Name: c.Name, Email: c.Email, Commits: c.Commits, Additions: c.Additions, Deletions: c.Deletions}
	}
	return v3api.ListContributors200JSONResponse(body), nil
}
