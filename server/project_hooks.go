package server

// Project hooks: doc/api/projects.md "Hooks" (GitLab CE 8.7,
// lib/api/project_hooks.rb).

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func presentProjectHook(h *persistence.WebHook) v3api.ProjectHook {
	out := v3api.ProjectHook{ID: int(h.ID), URL: h.URL, CreatedAt: apitime.From(h.CreatedAt),
		PushEvents: h.PushEvents, IssuesEvents: h.IssuesEvents, MergeRequestsEvents: h.MergeRequestsEvents,
		TagPushEvents: h.TagPushEvents, NoteEvents: h.NoteEvents, BuildEvents: h.BuildEvents,
		EnableSslVerification: h.EnableSSLVerification}
	if h.ProjectID != nil {
		out.ProjectID = int(*h.ProjectID)
	}
	return out
}

func presentDeletedHook(h *persistence.WebHook) v3api.DeletedHook {
	var project *int
	if h.ProjectID != nil {
		id := int(*h.ProjectID)
		project = &id
	}
	return v3api.DeletedHook{ID: int(h.ID), URL: h.URL, ProjectID: project, Type: v3api.DeletedHookType(h.Type),
		PushEvents: h.PushEvents, IssuesEvents: h.IssuesEvents, MergeRequestsEvents: h.MergeRequestsEvents,
		TagPushEvents: h.TagPushEvents, NoteEvents: h.NoteEvents, BuildEvents: h.BuildEvents,
		EnableSslVerification: h.EnableSSLVerification, CreatedAt: apitime.From(h.CreatedAt), UpdatedAt: apitime.From(h.UpdatedAt)}
}

// validHookURL is the model's url validation: an absolute http(s) URL.
func validHookURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var invalidURL = &apiError{status: 422, body: grapeError{"Invalid url given"}}

func hookParams(b *v3api.ProjectHookBody) persistence.HookParams {
	return persistence.HookParams{URL: &b.URL, PushEvents: b.PushEvents, IssuesEvents: b.IssuesEvents,
		MergeRequestsEvents: b.MergeRequestsEvents, TagPushEvents: b.TagPushEvents, NoteEvents: b.NoteEvents,
		BuildEvents: b.BuildEvents, EnableSSLVerification: b.EnableSslVerification}
}

func (s *Server) ListProjectHooks(ctx context.Context, req v3api.ListProjectHooksRequestObject) (v3api.ListProjectHooksResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	hooks, total, err := s.store.ListHooks(ctx, &scope.project.ID, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.ProjectHook, len(hooks))
	for i := range hooks {
		body[i] = presentProjectHook(&hooks[i])
	}
	return v3api.ListProjectHooks200JSONResponse{Body: body, Headers: v3api.ListProjectHooks200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) GetProjectHook(ctx context.Context, req v3api.GetProjectHookRequestObject) (v3api.GetProjectHookResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	h, err := s.store.GetHook(ctx, &scope.project.ID, int64(req.HookID))
	if err != nil {
		return nil, err
	}
	return v3api.GetProjectHook200JSONResponse(presentProjectHook(h)), nil
}

func (s *Server) AddProjectHook(ctx context.Context, req v3api.AddProjectHookRequestObject) (v3api.AddProjectHookResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	if !validHookURL(req.JSONBody.URL) {
		return nil, invalidURL
	}
	h, err := s.store.CreateHook(ctx, &scope.project.ID, hookParams(req.JSONBody))
	if err != nil {
		return nil, err
	}
	return v3api.AddProjectHook201JSONResponse(presentProjectHook(h)), nil
}

func (s *Server) EditProjectHook(ctx context.Context, req v3api.EditProjectHookRequestObject) (v3api.EditProjectHookResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetHook(ctx, &scope.project.ID, int64(req.HookID)); err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	if !validHookURL(req.JSONBody.URL) {
		return nil, invalidURL
	}
	h, err := s.store.UpdateProjectHook(ctx, scope.project.ID, int64(req.HookID), hookParams(req.JSONBody))
	if err != nil {
		return nil, err
	}
	return v3api.EditProjectHook200JSONResponse(presentProjectHook(h)), nil
}

// DeleteProjectHook answers the deleted rows as an array (8.7 called
// hooks.destroy(id)); an unknown hook is "404 Error deleting hook <id> Not Found".
func (s *Server) DeleteProjectHook(ctx context.Context, req v3api.DeleteProjectHookRequestObject) (v3api.DeleteProjectHookResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	h, err := s.store.DeleteHook(ctx, &scope.project.ID, int64(req.HookID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound(fmt.Sprintf("Error deleting hook %d", req.HookID))
	}
	if err != nil {
		return nil, err
	}
	return v3api.DeleteProjectHook200JSONResponse{presentDeletedHook(h)}, nil
}
