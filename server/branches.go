package server

// Repository branches: doc/api/branches.md (GitLab CE 8.7,
// lib/api/branches.rb with CreateBranchService and DeleteBranchService).

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// presentBranch is Entities::RepoObject for a branch.
func presentBranch(b *gitstore.Branch, protected bool) v3api.Branch {
	out := v3api.Branch{Name: b.Name, Protected: protected}
	if c := presentRawCommit(b.Commit); c != nil {
		out.Commit = *c
	}
	return out
}

// Branch service answers (8.7's services, rendered with render_api_error!).
var (
	errBranchNameInvalid = renderAPIError(http.StatusBadRequest, "Branch name is invalid")
	errBranchExists      = renderAPIError(http.StatusBadRequest, "Branch already exists")
	errBranchRejected    = renderAPIError(http.StatusBadRequest, "Branch creation was rejected by Git hook")
	errNoSuchBranch      = renderAPIError(http.StatusNotFound, "No such branch")
	errHeadBranch        = renderAPIError(http.StatusMethodNotAllowed, "Cannot remove HEAD branch")
	errProtectedBranch   = renderAPIError(http.StatusMethodNotAllowed, "Protected branch cant be removed")
	errBranchNotRemoved  = renderAPIError(http.StatusBadRequest, "Failed to remove branch")
)

// findBranch reads a branch; a server without repositories has none.
func (s *Server) findBranch(ctx context.Context, projectID int64, name string) (*gitstore.Branch, error) {
	if s.cfg.Repos == nil {
		return nil, gitstore.ErrBranchNotFound
	}
	return s.cfg.Repos.Branch(ctx, projectID, name)
}

// branchOr404 is a branch, or 404 Branch Not Found.
func (s *Server) branchOr404(ctx context.Context, projectID int64, name string) (*gitstore.Branch, error) {
	b, err := s.findBranch(ctx, projectID, name)
	if errors.Is(err, gitstore.ErrBranchNotFound) {
		return nil, notFound("Branch")
	}
	return b, err
}

// protectedNames are the project's protected branch names.
func (s *Server) protectedNames(ctx context.Context, projectID int64) ([]string, error) {
	pbs, err := s.store.ListProtectedBranches(ctx, projectID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(pbs))
	for i, pb := range pbs {
		names[i] = pb.Name
	}
	return names, nil
}

func (s *Server) ListBranches(ctx context.Context, req v3api.ListBranchesRequestObject) (v3api.ListBranchesResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	body := []v3api.Branch{}
	if s.cfg.Repos == nil {
		return v3api.ListBranches200JSONResponse(body), nil
	}
	branches, err := s.cfg.Repos.ListBranches(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	protected, err := s.protectedNames(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	for i := range branches {
		body = append(body, presentBranch(&branches[i], slices.Contains(protected, branches[i].Name)))
	}
	return v3api.ListBranches200JSONResponse(body), nil
}

func (s *Server) GetBranch(ctx context.Context, req v3api.GetBranchRequestObject) (v3api.GetBranchResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	b, err := s.branchOr404(ctx, scope.project.ID, req.Branch)
	if err != nil {
		return nil, err
	}
	protected, err := s.store.IsProtected(ctx, scope.project.ID, b.Name)
	if err != nil {
		return nil, err
	}
	return v3api.GetBranch200JSONResponse(presentBranch(b, protected)), nil
}

// CreateBranch makes the branch, then does what a push of it does: its
// event and push hooks (and a default branch for a project without one),
// as 8.7's Repository#add_branch did through its git hooks.
func (s *Server) CreateBranch(ctx context.Context, req v3api.CreateBranchRequestObject) (v3api.CreateBranchResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, true)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	if s.cfg.Repos == nil {
		return nil, errInvalidReference
	}
	protected, err := s.protectedNames(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	policy := gitstore.PushPolicy{ProtectedBranches: protected, PushProtected: scope.canAdmin(), ChangeTags: scope.canAdmin()}
	branch, err := s.cfg.Repos.CreateBranch(ctx, scope.project.ID, b.BranchName, b.Ref, policy)
	switch {
	case errors.Is(err, gitstore.ErrInvalidBranchName):
		return nil, errBranchNameInvalid
	case errors.Is(err, gitstore.ErrBranchExists):
		return nil, errBranchExists
	case errors.Is(err, gitstore.ErrInvalidRef):
		return nil, errInvalidReference
	case errors.Is(err, gitstore.ErrBranchRejected):
		return nil, errBranchRejected
	case err != nil:
		return nil, err
	}
	s.afterPush(context.WithoutCancel(ctx), scope.project.ID, currentUser(ctx), []gitstore.RefUpdate{
		{Old: gitstore.ZeroSHA, New: branch.Commit.ID, Ref: "refs/heads/" + branch.Name},
	}, false)
	return v3api.CreateBranch201JSONResponse(presentBranch(branch, slices.Contains(protected, branch.Name))), nil
}

// DeleteBranch is DeleteBranchService: the branch, the HEAD branch, a
// protected branch, then git; the removal is a push like any other.
func (s *Server) DeleteBranch(ctx context.Context, req v3api.DeleteBranchRequestObject) (v3api.DeleteBranchResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, true)
	if err != nil {
		return nil, err
	}
	b, err := s.findBranch(ctx, scope.project.ID, req.Branch)
	if errors.Is(err, gitstore.ErrBranchNotFound) {
		return nil, errNoSuchBranch
	}
	if err != nil {
		return nil, err
	}
	head, err := s.cfg.Repos.RootRef(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	if b.Name == head {
		return nil, errHeadBranch
	}
	protected, err := s.store.IsProtected(ctx, scope.project.ID, b.Name)
	if err != nil {
		return nil, err
	}
	if protected {
		return nil, errProtectedBranch
	}
	err = s.cfg.Repos.DeleteBranch(ctx, scope.project.ID, b.Name, b.Commit.ID)
	switch {
	case errors.Is(err, gitstore.ErrBranchNotFound):
		return nil, errNoSuchBranch
	case errors.Is(err, gitstore.ErrBranchNotDeleted):
		s.log.Warn("delete branch", "project_id", scope.project.ID, "branch", b.Name, "err", err)
		return nil, errBranchNotRemoved
	case err != nil:
		return nil, err
	}
	s.afterPush(context.WithoutCancel(ctx), scope.project.ID, currentUser(ctx), []gitstore.RefUpdate{
		{Old: b.Commit.ID, New: gitstore.ZeroSHA, Ref: "refs/heads/" + b.Name},
	}, false)
	return v3api.DeleteBranch200JSONResponse{BranchName: req.Branch}, nil
}

// adminBranch is the protect endpoints' checks: the project (404),
// download_code and admin_project (403), then the branch (404).
func (s *Server) adminBranch(ctx context.Context, ref, name string) (*projectScope, *gitstore.Branch, error) {
	scope, err := s.codeProject(ctx, ref, false)
	if err != nil {
		return nil, nil, err
	}
	if !scope.canAdmin() {
		return nil, nil, forbidden()
	}
	b, err := s.branchOr404(ctx, scope.project.ID, name)
	if err != nil {
		return nil, nil, err
	}
	return scope, b, nil
}

func (s *Server) ProtectBranch(ctx context.Context, req v3api.ProtectBranchRequestObject) (v3api.ProtectBranchResponseObject, error) {
	scope, b, err := s.adminBranch(ctx, req.ID, req.Branch)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.ProtectBranch(ctx, scope.project.ID, b.Name); err != nil {
		return nil, err
	}
	return v3api.ProtectBranch200JSONResponse(presentBranch(b, true)), nil
}

func (s *Server) UnprotectBranch(ctx context.Context, req v3api.UnprotectBranchRequestObject) (v3api.UnprotectBranchResponseObject, error) {
	scope, b, err := s.adminBranch(ctx, req.ID, req.Branch)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.UnprotectBranch(ctx, scope.project.ID, b.Name); err != nil {
		return nil, err
	}
	return v3api.UnprotectBranch200JSONResponse(presentBranch(b, false)), nil
}
