package server

// Keys: doc/api/keys.md (GitLab CE 8.7, lib/api/keys.rb).

import (
	"context"

	"github.com/labrador-dev/labrador/gen/v3api"
)

// GetKey is for administrators: any SSH key by id, with its owner.
func (s *Server) GetKey(ctx context.Context, req v3api.GetKeyRequestObject) (v3api.GetKeyResponseObject, error) {
	k, err := s.store.GetKey(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	resp := v3api.GetKey200JSONResponse{ID: int(k.ID), Title: k.Title, Key: k.Key, CreatedAt: presentSSHKey(k).CreatedAt}
	if k.UserID != nil {
		u, err := s.store.GetUser(ctx, *k.UserID)
		if err != nil {
			return nil, err
		}
		full := s.presentUserFull(u)
		resp.User = &full
	}
	return resp, nil
}
