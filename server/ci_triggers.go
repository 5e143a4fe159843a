package server

// Build triggers: GitLab CE 8.7's doc/api/build_triggers.md
// (lib/api/triggers.rb), and the CI API v1's ref trigger
// (lib/ci/api/triggers.rb), which both run Ci::CreateTriggerRequestService.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func presentTrigger(t *persistence.TriggerWithUse) v3api.Trigger {
	return v3api.Trigger{Token: t.Token, CreatedAt: apitime.From(t.CreatedAt), UpdatedAt: apitime.From(t.UpdatedAt),
		DeletedAt: apitime.FromPtr(t.DeletedAt), LastUsed: apitime.FromPtr(t.LastUsed)}
}

// canAdminBuild is 8.7's admin_build ability: masters and up, as
// admin_project.
func (p *projectScope) canAdminBuild() bool { return p.canAdmin() }

func (s *Server) buildAdminProject(ctx context.Context, ref string) (*projectScope, error) {
	return s.requireProject(ctx, ref, (*projectScope).canAdminBuild)
}

func (s *Server) ListTriggers(ctx context.Context, req v3api.ListTriggersRequestObject) (v3api.ListTriggersResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListTriggers(ctx, scope.project.ID, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Trigger, len(list))
	for i := range list {
		body[i] = presentTrigger(&list[i])
	}
	return v3api.ListTriggers200JSONResponse{Body: body, Headers: v3api.ListTriggers200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) CreateTrigger(ctx context.Context, req v3api.CreateTriggerRequestObject) (v3api.CreateTriggerResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	tr, err := s.store.CreateTrigger(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	return v3api.CreateTrigger201JSONResponse(presentTrigger(tr)), nil
}

// trigger finds a live trigger of the project: 404 Trigger Not Found.
func (s *Server) trigger(ctx context.Context, projectID int64, token string) (*persistence.TriggerWithUse, error) {
	tr, err := s.store.GetTrigger(ctx, projectID, token)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Trigger")
	}
	return tr, err
}

func (s *Server) GetTrigger(ctx context.Context, req v3api.GetTriggerRequestObject) (v3api.GetTriggerResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	tr, err := s.trigger(ctx, scope.project.ID, req.Token)
	if err != nil {
		return nil, err
	}
	return v3api.GetTrigger200JSONResponse(presentTrigger(tr)), nil
}

func (s *Server) DeleteTrigger(ctx context.Context, req v3api.DeleteTriggerRequestObject) (v3api.DeleteTriggerResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.trigger(ctx, scope.project.ID, req.Token); err != nil {
		return nil, err
	}
	tr, err := s.store.DeleteTrigger(ctx, scope.project.ID, req.Token)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Trigger")
	}
	if err != nil {
		return nil, err
	}
	return v3api.DeleteTrigger200JSONResponse(presentTrigger(tr)), nil
}

func (s *Server) TriggerBuilds(ctx context.Context, req v3api.TriggerBuildsRequestObject) (v3api.TriggerBuildsResponseObject, error) {
	b := req.JSONBody
	p, err := s.store.FindProject(ctx, req.ID)
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return nil, err
	}
	tr, run, err := s.runTrigger(ctx, p, b.Token, b.Ref, b.Variables)
	if err != nil {
		return nil, err
	}
	return v3api.TriggerBuilds201JSONResponse{ID: int(tr.ID), Variables: run.variables}, nil
}

// triggerRun is what a trigger request created.
type triggerRun struct {
	variables *map[string]string
	pipeline  *persistence.Pipeline
}

// runTrigger is the body both trigger endpoints share, in 8.7's order:
// the project (nil when unknown) and a live token, or 404; the token's
// project, or 401; the variables, a hash of strings, or 400; then
// Ci::CreateTriggerRequestService: the ref resolved to a commit, a trigger
// request recorded, and the commit's first stage built for it, or 400 No
// builds created.
func (s *Server) runTrigger(ctx context.Context, p *persistence.Project, token, ref string, variables any) (*persistence.TriggerRequest, *triggerRun, error) {
	trigger, err := s.store.TriggerByToken(ctx, token)
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return nil, nil, err
	}
	if p == nil || trigger == nil {
		return nil, nil, notFound()
	}
	if trigger.ProjectID != p.ID {
		return nil, nil, unauthorized()
	}
	run := &triggerRun{}
	var stored *string
	if variables != nil {
		m, ok := variables.(map[string]any)
		if !ok {
			return nil, nil, renderAPIError(http.StatusBadRequest, "variables needs to be a hash")
		}
		vars := make(map[string]string, len(m))
		for k, v := range m {
			sv, ok := v.(string)
			if !ok {
				return nil, nil, renderAPIError(http.StatusBadRequest, "variables needs to be a map of key-valued strings")
			}
			vars[k] = sv
		}
		run.variables = &vars
		raw, err := json.Marshal(vars)
		if err != nil {
			return nil, nil, err
		}
		v := string(raw)
		stored = &v
	}
	noBuilds := renderAPIError(http.StatusBadRequest, "No builds created")
	if s.cfg.Repos == nil {
		return nil, nil, noBuilds
	}
	sha, err := s.findCommit(ctx, p.ID, ref)
	var ae *apiError
	if errors.As(err, &ae) {
		return nil, nil, noBuilds // 8.7: no commit, no request, nothing built
	}
	if err != nil {
		return nil, nil, err
	}
	_, tagErr := s.cfg.Repos.Tag(ctx, p.ID, ref)
	tr, err := s.store.CreateTriggerRequest(ctx, trigger.ID, stored)
	if err != nil {
		return nil, nil, err
	}
	pl, created, err := s.createPipelineBuilds(ctx, pipelineInput{Project: p, Ref: ref, SHA: sha, Tag: tagErr == nil, TriggerRequestID: &tr.ID})
	if err != nil {
		return nil, nil, err
	}
	if len(created) == 0 {
		return nil, nil, noBuilds
	}
	run.pipeline = pl
	return tr, run, nil
}

// TriggerRefBuilds is the CI API v1's ref trigger. The project is looked up
// by its CI id, which in Labrador is the project's id (8.7 used ci_id, the
// id of the standalone CI project a project was migrated from).
func (s ciServer) TriggerRefBuilds(ctx context.Context, req civ1api.TriggerRefBuildsRequestObject) (civ1api.TriggerRefBuildsResponseObject, error) {
	b := req.JSONBody
	var p *persistence.Project
	if id, ok := parseID(req.ID); ok {
		found, err := s.store.GetProject(ctx, id)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			return nil, err
		}
		p = found
	}
	tr, run, err := s.runTrigger(ctx, p, b.Token, req.Ref, b.Variables)
	if err != nil {
		return nil, err
	}
	pl := run.pipeline
	c := civ1api.CICommit{ID: int(pl.ID), Sha: pl.SHA, ProjectID: int(pl.ProjectID), CreatedAt: apitime.From(pl.CreatedAt),
		Status: deref(pl.Status), FinishedAt: apitime.FromPtr(pl.FinishedAt)}
	if pl.Duration != nil {
		d := int(*pl.Duration)
		c.Duration = &d
	}
	if commit, err := s.cfg.Repos.Commit(ctx, p.ID, pl.SHA); err == nil {
		c.GitCommitMessage, c.GitAuthorName, c.GitAuthorEmail = commit.Message, commit.AuthorName, commit.AuthorEmail
	} else {
		return nil, err
	}
	return civ1api.TriggerRefBuilds201JSONResponse{ID: int(tr.ID), Variables: run.variables, Commit: c}, nil
}
