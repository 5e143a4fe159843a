package server

// Runner registration of the CI API v1: doc/ci/api/runners.md (GitLab CE
// 8.7, lib/ci/api/runners.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/persistence"
)

// RegisterRunner creates a shared runner (the instance's registration
// token) or a specific one (a project's runners_token).
func (s ciServer) RegisterRunner(ctx context.Context, req civ1api.RegisterRunnerRequestObject) (civ1api.RegisterRunnerResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.RegisterRunnerBody{}
	}
	r, err := s.store.RegisterRunner(ctx, persistence.RunnerRegistration{
		Token: b.Token, Description: b.Description, TagList: b.TagList, Info: runnerInfo(b.Info),
	})
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, forbidden()
	}
	if err != nil {
		return nil, err
	}
	return civ1api.RegisterRunner201JSONResponse{ID: int(r.ID), Token: r.Token}, nil
}

// DeleteRunner unregisters the runner whose token is given.
func (s ciServer) DeleteRunner(ctx context.Context, req civ1api.DeleteRunnerRequestObject) (civ1api.DeleteRunnerResponseObject, error) {
	r, err := s.currentRunner(ctx, req.Params.Token)
	if err != nil {
		return nil, err
	}
	if r, err = s.store.DeleteRunner(ctx, r.ID); err != nil {
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, forbidden() // unregistered meanwhile
		}
		return nil, err
	}
	return civ1api.DeleteRunner200JSONResponse(presentRunnerRecord(r)), nil
}

// currentRunner is 8.7's authenticate_runner!: the runner of the token, or
// 403 Forbidden.
func (s *Server) currentRunner(ctx context.Context, token string) (*persistence.Runner, error) {
	r, err := s.store.RunnerByToken(ctx, token)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, forbidden()
	}
	return r, err
}

func runnerInfo(in *civ1api.RunnerInfo) persistence.RunnerInfo {
	if in == nil {
		return persistence.RunnerInfo{}
	}
	return persistence.RunnerInfo{Name: in.Name, Version: in.Version, Revision: in.Revision,
		Platform: in.Platform, Architecture: in.Architecture}
}

func presentRunnerRecord(r *persistence.Runner) civ1api.CIRunnerRecord {
	return civ1api.CIRunnerRecord{
		ID: int(r.ID), Token: r.Token, Description: r.Description, Name: r.Name, Version: r.Version,
		Revision: r.Revision, Platform: r.Platform, Architecture: r.Architecture, TagList: r.Tags(),
		Active: r.Active, IsShared: r.IsShared, ContactedAt: r.ContactedAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
