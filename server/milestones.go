package server

// Milestones: doc/api/milestones.md (GitLab CE 8.7, lib/api/milestones.rb
// with Milestones::CreateService and UpdateService).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

// canAdminMilestone is admin_milestone: masters and up.
func (p *projectScope) canAdminMilestone() bool {
	return p.isAdmin() || p.level() >= persistence.AccessMaster
}

func (s *Server) findMilestone(ctx context.Context, scope *projectScope, id int) (*persistence.Milestone, error) {
	m, err := s.store.GetMilestone(ctx, scope.project.ID, int64(id))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	return m, err
}

// dueDate reads a due date as Rails' date column did: YYYY-MM-DD, or
// nothing when it is no date.
func dueDate(v *string) *string {
	if v == nil {
		return nil
	}
	t, err := time.Parse("2006-01-02", *v)
	if err != nil {
		return nil
	}
	d := t.Format("2006-01-02")
	return &d
}

// rubyErrors is Ruby's inspection of a model's errors hash, which 8.7's
// milestone messages carried: {:title=>["has already been taken"]}.
func rubyErrors(v *persistence.ValidationError) string {
	fields := v.FieldNames()
	parts := make([]string, len(fields))
	for i, f := range fields {
		msgs := make([]string, len(v.Fields[f]))
		for j, m := range v.Fields[f] {
			msgs[j] = fmt.Sprintf("%q", m)
		}
		parts[i] = ":" + f + "=>[" + strings.Join(msgs, ", ") + "]"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (s *Server) ListMilestones(ctx context.Context, req v3api.ListMilestonesRequestObject) (v3api.ListMilestonesResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	ms, total, err := s.store.ListMilestones(ctx, scope.project.ID,
		persistence.MilestoneFilter{State: deref(req.Params.State), IID: int64Ptr(req.Params.Iid)}, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Milestone, len(ms))
	for i := range ms {
		body[i] = presentMilestone(&ms[i])
	}
	return v3api.ListMilestones200JSONResponse{Body: body, Headers: v3api.ListMilestones200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) GetMilestone(ctx context.Context, req v3api.GetMilestoneRequestObject) (v3api.GetMilestoneResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.findMilestone(ctx, scope, req.MilestoneID)
	if err != nil {
		return nil, err
	}
	return v3api.GetMilestone200JSONResponse(presentMilestone(m)), nil
}

func (s *Server) CreateMilestone(ctx context.Context, req v3api.CreateMilestoneRequestObject) (v3api.CreateMilestoneResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canAdminMilestone)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	var b v3api.CreateMilestoneBody
	switch {
	case req.JSONBody != nil:
		b = v3api.CreateMilestoneBody(*req.JSONBody)
	case req.FormdataBody != nil:
		b = v3api.CreateMilestoneBody(*req.FormdataBody)
	}
	if strings.TrimSpace(b.Title) == "" {
		return nil, badRequestNotGiven("title")
	}
	m, err := s.store.CreateMilestone(ctx, scope.project.ID, currentUser(ctx).ID,
		persistence.MilestoneParams{Title: &b.Title, Description: present(b.Description), DueDate: dueDate(present(b.DueDate))})
	var ve *persistence.ValidationError
	if errors.As(err, &ve) {
		return nil, renderAPIError(http.StatusBadRequest, "Failed to create milestone "+rubyErrors(ve))
	}
	if err != nil {
		return nil, err
	}
	return v3api.CreateMilestone201JSONResponse(presentMilestone(m)), nil
}

func (s *Server) UpdateMilestone(ctx context.Context, req v3api.UpdateMilestoneRequestObject) (v3api.UpdateMilestoneResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canAdminMilestone)
	if err != nil {
		return nil, err
	}
	m, err := s.findMilestone(ctx, scope, req.MilestoneID)
	if err != nil {
		return nil, err
	}
	var b v3api.UpdateMilestoneBody
	switch {
	case req.JSONBody != nil:
		b = v3api.UpdateMilestoneBody(*req.JSONBody)
	case req.FormdataBody != nil:
		b = v3api.UpdateMilestoneBody(*req.FormdataBody)
	}
	// attributes_for_keys kept only present (non-blank) values.
	updated, err := s.store.UpdateMilestone(ctx, m, currentUser(ctx).ID, persistence.MilestoneParams{
		Title: present(b.Title), Description: present(b.Description), DueDate: dueDate(present(b.DueDate)), StateEvent: deref(b.StateEvent)})
	var ve *persistence.ValidationError
	if errors.As(err, &ve) {
		return nil, renderAPIError(http.StatusBadRequest, "Failed to update milestone "+rubyErrors(ve))
	}
	if err != nil {
		return nil, err
	}
	return v3api.UpdateMilestone200JSONResponse(presentMilestone(updated)), nil
}

func (s *Server) ListMilestoneIssues(ctx context.Context, req v3api.ListMilestoneIssuesRequestObject) (v3api.ListMilestoneIssuesResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.findMilestone(ctx, scope, req.MilestoneID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	body, headers, err := s.issuePage(ctx, persistence.IssueFilter{ProjectID: &scope.project.ID, MilestoneID: &m.ID}, pg)
	if err != nil {
		return nil, err
	}
	return v3api.ListMilestoneIssues200JSONResponse{IssueListJSONResponse: v3api.IssueListJSONResponse{Body: body, Headers: v3api.IssueListResponseHeaders(headers)}}, nil
}
