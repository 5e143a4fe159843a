package server

// System hooks: doc/api/system_hooks.md (GitLab CE 8.7, lib/api/system_hooks.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func presentHook(h *persistence.WebHook) v3api.Hook {
	return v3api.Hook{ID: int(h.ID), URL: h.URL, CreatedAt: apitime.From(h.CreatedAt)}
}

func (s *Server) ListSystemHooks(ctx context.Context, _ v3api.ListSystemHooksRequestObject) (v3api.ListSystemHooksResponseObject, error) {
	hooks, _, err := s.store.ListHooks(ctx, nil, persistence.Page{})
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Hook, len(hooks))
	for i := range hooks {
		body[i] = presentHook(&hooks[i])
	}
	return v3api.ListSystemHooks200JSONResponse(body), nil
}

// AddSystemHook answers a URL the model refuses with 8.7's not_found!.
func (s *Server) AddSystemHook(ctx context.Context, req v3api.AddSystemHookRequestObject) (v3api.AddSystemHookResponseObject, error) {
	if !validHookURL(req.JSONBody.URL) {
		return nil, notFound()
	}
	h, err := s.store.CreateHook(ctx, nil, persistence.HookParams{URL: &req.JSONBody.URL})
	if err != nil {
		return nil, err
	}
	return v3api.AddSystemHook201JSONResponse(presentHook(h)), nil
}

// TestSystemHook fires 8.7's sample project_create event at the hook and
// answers the payload it sent.
func (s *Server) TestSystemHook(ctx context.Context, req v3api.TestSystemHookRequestObject) (v3api.TestSystemHookResponseObject, error) {
	h, err := s.store.GetHook(ctx, nil, int64(req.ID))
	if err != nil {
		return nil, err
	}
	data := v3api.SystemHookTestPayload{EventName: v3api.ProjectCreate, Name: "Ruby", Path: "ruby", ProjectID: 1,
		OwnerName: "Someone", OwnerEmail: "example@gitlabhq.com"}
	s.enqueue(ctx, []*persistence.WebHook{h}, "System Hook", data)
	return v3api.TestSystemHook200JSONResponse(data), nil
}

// DeleteSystemHook is idempotent: any failure answers null.
func (s *Server) DeleteSystemHook(ctx context.Context, req v3api.DeleteSystemHookRequestObject) (v3api.DeleteSystemHookResponseObject, error) {
	var body v3api.DeletedHookOrNull
	id, ok := parseID(req.ID)
	if !ok {
		return v3api.DeleteSystemHook200JSONResponse(body), nil
	}
	h, err := s.store.DeleteHook(ctx, nil, id)
	if errors.Is(err, persistence.ErrNotFound) {
		return v3api.DeleteSystemHook200JSONResponse(body), nil
	}
	if err != nil {
		return nil, err
	}
	err = body.FromDeletedHook(presentDeletedHook(h))
	return v3api.DeleteSystemHook200JSONResponse(body), err
}
