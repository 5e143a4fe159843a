package server

// Labels: doc/api/labels.md (GitLab CE 8.7, lib/api/labels.rb).

import (
	"context"
	"errors"
	"net/http"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

// canAdminLabel is admin_label: reporters and up.
func (p *projectScope) canAdminLabel() bool {
	return p.isAdmin() || p.level() >= persistence.AccessReporter
}

var errLabelExists = conflict("Label already exists")

func (s *Server) ListLabels(ctx context.Context, req v3api.ListLabelsRequestObject) (v3api.ListLabelsResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	labels, err := s.store.ListLabels(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	out := make(v3api.ListLabels200JSONResponse, len(labels))
	for i := range labels {
		out[i] = presentLabel(&labels[i])
	}
	return out, nil
}

func (s *Server) CreateLabel(ctx context.Context, req v3api.CreateLabelRequestObject) (v3api.CreateLabelResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canAdminLabel)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	var b v3api.CreateLabelBody
	switch {
	case req.JSONBody != nil:
		b = v3api.CreateLabelBody(*req.JSONBody)
	case req.FormdataBody != nil:
		b = v3api.CreateLabelBody(*req.FormdataBody)
	}
	// required_attributes! wants both present (not blank).
	if present(&b.Name) == nil {
		return nil, badRequestNotGiven("name")
	}
	if present(&b.Color) == nil {
		return nil, badRequestNotGiven("color")
	}
	if _, err := s.store.FindLabel(ctx, scope.project.ID, b.Name); err == nil {
		return nil, errLabelExists
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return nil, err
	}
	l, err := s.store.CreateLabel(ctx, scope.project.ID, b.Name, b.Color, present(b.Description))
	if errors.Is(err, persistence.ErrLabelExists) {
		return nil, errLabelExists
	}
	if err != nil {
		return nil, err
	}
	return v3api.CreateLabel201JSONResponse(presentLabel(&persistence.LabelWithCounts{Label: *l})), nil
}

func (s *Server) UpdateLabel(ctx context.Context, req v3api.UpdateLabelRequestObject) (v3api.UpdateLabelResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canAdminLabel)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	var b v3api.UpdateLabelBody
	switch {
	case req.JSONBody != nil:
		b = v3api.UpdateLabelBody(*req.JSONBody)
	case req.FormdataBody != nil:
		b = v3api.UpdateLabelBody(*req.FormdataBody)
	}
	if present(&b.Name) == nil {
		return nil, badRequestNotGiven("name")
	}
	l, err := s.store.FindLabel(ctx, scope.project.ID, b.Name)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Label not found")
	}
	if err != nil {
		return nil, err
	}
	// attributes_for_keys kept only present (non-blank) values.
	b.NewName, b.Color, b.Description = present(b.NewName), present(b.Color), present(b.Description)
	if b.NewName == nil && b.Color == nil && b.Description == nil {
		return nil, renderAPIError(http.StatusBadRequest, `Required parameters "new_name" or "color" missing`)
	}
	updated, err := s.store.UpdateLabel(ctx, l, persistence.LabelUpdate{Title: b.NewName, Color: b.Color, Description: b.Description})
	if err != nil {
		return nil, err
	}
	counted, err := s.store.LabelCounts(ctx, updated)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateLabel200JSONResponse(presentLabel(counted)), nil
}

func (s *Server) DeleteLabel(ctx context.Context, req v3api.DeleteLabelRequestObject) (v3api.DeleteLabelResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canAdminLabel)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	var name string
	switch {
	case req.JSONBody != nil:
		name = req.JSONBody.Name
	case req.FormdataBody != nil:
		name = req.FormdataBody.Name
	}
	if present(&name) == nil {
		return nil, badRequestNotGiven("name")
	}
	l, err := s.store.FindLabel(ctx, scope.project.ID, name)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Label")
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteLabel(ctx, l); err != nil {
		return nil, err
	}
	return v3api.DeleteLabel200JSONResponse(presentDeletedLabel(l)), nil
}
