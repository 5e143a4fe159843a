package server

// Deploy keys: doc/api/deploy_keys.md and deploy_key_multiple_projects.md
// (GitLab CE 8.7, lib/api/deploy_keys.rb).

import (
	"context"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func (s *Server) ListDeployKeys(ctx context.Context, req v3api.ListDeployKeysRequestObject) (v3api.ListDeployKeysResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListDeployKeys(ctx, scope.project.ID)
	return v3api.ListDeployKeys200JSONResponse(presentSSHKeys(keys)), err
}

func (s *Server) GetDeployKey(ctx context.Context, req v3api.GetDeployKeyRequestObject) (v3api.GetDeployKeyResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	k, err := s.store.GetDeployKey(ctx, scope.project.ID, int64(req.KeyID))
	if err != nil {
		return nil, err
	}
	return v3api.GetDeployKey200JSONResponse(presentSSHKey(k)), nil
}

// AddDeployKey enables a key on the project: the same key already there is
// answered as is; a deploy key already on another of the user's projects is
// linked rather than created again (8.7's accessible_deploy_keys).
func (s *Server) AddDeployKey(ctx context.Context, req v3api.AddDeployKeyRequestObject) (v3api.AddDeployKeyResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	b := req.JSONBody
	if b == nil {
		b = &v3api.AddDeployKeyBody{}
	}
	mine, _, err := s.store.ListProjects(ctx, persistence.ProjectFilter{Scope: "authorized", UserID: scope.user.ID}, persistence.Page{})
	if err != nil {
		return nil, err
	}
	reuse := make([]int64, len(mine))
	for i, p := range mine {
		reuse[i] = p.ID
	}
	k, err := s.store.AddDeployKey(ctx, scope.project.ID, deref(b.Title), deref(b.Key), reuse)
	if err != nil {
		return nil, err
	}
	return v3api.AddDeployKey201JSONResponse(presentSSHKey(k)), nil
}

func (s *Server) DeleteDeployKey(ctx context.Context, req v3api.DeleteDeployKeyRequestObject) (v3api.DeleteDeployKeyResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	k, err := s.store.RemoveDeployKey(ctx, scope.project.ID, int64(req.KeyID))
	if err != nil {
		return nil, err
	}
	out := v3api.DeletedDeployKey{ID: int(k.ID), Title: k.Title, Key: k.Key, Fingerprint: k.Fingerprint, Public: k.Public,
		CreatedAt: apitime.From(k.CreatedAt), UpdatedAt: apitime.From(k.UpdatedAt)}
	if k.Type != nil {
		t := v3api.DeletedDeployKeyType(*k.Type)
		out.Type = &t
	}
	return v3api.DeleteDeployKey200JSONResponse(out), nil
}
