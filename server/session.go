package server

// Session: doc/api/session.md (GitLab CE 8.7, lib/api/session.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

// CreateSession logs in with a username or email and a password. Any
// failure, a missing parameter included, is 401 as in 8.7; a blocked user
// cannot log in.
func (s *Server) CreateSession(ctx context.Context, req v3api.CreateSessionRequestObject) (v3api.CreateSessionResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		return nil, unauthorized()
	}
	login := deref(b.Email) // 8.7: params[:email] || params[:login]
	if login == "" {
		login = deref(b.Login)
	}
	u, err := s.store.Authenticate(ctx, login, deref(b.Password))
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && !u.Active()) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, err
	}
	u, err = s.store.GetUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return v3api.CreateSession201JSONResponse(s.presentUserLogin(u)), nil
}
