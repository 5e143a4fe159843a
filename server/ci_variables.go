package server

// Secure build variables: GitLab CE 8.7's doc/api/build_variables.md
// (lib/api/variables.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

func presentVariable(v *persistence.Variable) v3api.Variable {
	return v3api.Variable{Key: v.Key, Value: v.Value}
}

// variableNotFound maps a missing variable to 8.7's not_found!('Variable').
func variableNotFound(err error) error {
	if errors.Is(err, persistence.ErrNotFound) {
		return notFound("Variable")
	}
	return err
}

func (s *Server) ListVariables(ctx context.Context, req v3api.ListVariablesRequestObject) (v3api.ListVariablesResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListVariables(ctx, scope.project.ID, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Variable, len(list))
	for i := range list {
		body[i] = presentVariable(&list[i])
	}
	return v3api.ListVariables200JSONResponse{Body: body, Headers: v3api.ListVariables200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) GetVariable(ctx context.Context, req v3api.GetVariableRequestObject) (v3api.GetVariableResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	v, err := s.store.GetVariable(ctx, scope.project.ID, req.Key)
	if err != nil {
		return nil, variableNotFound(err)
	}
	return v3api.GetVariable200JSONResponse(presentVariable(v)), nil
}

func (s *Server) CreateVariable(ctx context.Context, req v3api.CreateVariableRequestObject) (v3api.CreateVariableResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	value := b.Value
	v, err := s.store.CreateVariable(ctx, scope.project.ID, b.Key, &value)
	if err != nil {
		return nil, err
	}
	return v3api.CreateVariable201JSONResponse(presentVariable(v)), nil
}

func (s *Server) UpdateVariable(ctx context.Context, req v3api.UpdateVariableRequestObject) (v3api.UpdateVariableResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	var value *string
	if req.JSONBody != nil {
		value = req.JSONBody.Value
	}
	v, err := s.store.UpdateVariable(ctx, scope.project.ID, req.Key, value)
	if err != nil {
		return nil, variableNotFound(err)
	}
	return v3api.UpdateVariable200JSONResponse(presentVariable(v)), nil
}

func (s *Server) DeleteVariable(ctx context.Context, req v3api.DeleteVariableRequestObject) (v3api.DeleteVariableResponseObject, error) {
	scope, err := s.buildAdminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	v, err := s.store.DeleteVariable(ctx, scope.project.ID, req.Key)
	if err != nil {
		return nil, variableNotFound(err)
	}
	return v3api.DeleteVariable200JSONResponse(presentVariable(v)), nil
}
