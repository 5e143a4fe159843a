package server

// Project snippets: doc/api/project_snippets.md (GitLab CE 8.7,
// lib/api/project_snippets.rb with SnippetsFinder by_project and the
// ProjectSnippet abilities of app/models/ability.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

// snippetScope is SnippetsFinder by_project: members (also through the
// group) and admins see every snippet, other users the internal and
// public ones.
func (p *projectScope) snippetScope() persistence.SnippetScope {
	if p.isAdmin() || p.level() >= persistence.AccessGuest {
		return persistence.SnippetScope{All: true}
	}
	return persistence.SnippetScope{Levels: []int{persistence.VisibilityInternal, persistence.VisibilityPublic}}
}

// canCreateSnippet is create_project_snippet: reporters and up, admins;
// nobody while the project's snippets are disabled.
func (p *projectScope) canCreateSnippet() bool {
	return p.project.SnippetsEnabled && (p.isAdmin() || p.level() >= persistence.AccessReporter)
}

// canAdminSnippet is update_project_snippet and admin_project_snippet on
// a snippet: its author, or whoever has them on the project (masters,
// owners, admins) while the project's snippets are enabled.
func (p *projectScope) canAdminSnippet(sn *persistence.Snippet) bool {
	if p.user != nil && sn.AuthorID == p.user.ID {
		return true
	}
	return p.project.SnippetsEnabled && p.canAdmin()
}

// findSnippet is snippets_for_current_user.find: the project's snippet the
// caller sees, or 8.7's failed find.
func (s *Server) findSnippet(ctx context.Context, scope *projectScope, id int) (*persistence.Snippet, error) {
	sn, err := s.store.GetProjectSnippet(ctx, scope.project.ID, int64(id), scope.snippetScope())
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	return sn, err
}

func (s *Server) ListProjectSnippets(ctx context.Context, req v3api.ListProjectSnippetsRequestObject) (v3api.ListProjectSnippetsResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListProjectSnippets(ctx, scope.project.ID, scope.snippetScope(), pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.ProjectSnippet, len(list))
	for i := range list {
		body[i] = s.presentProjectSnippet(&list[i])
	}
	return v3api.ListProjectSnippets200JSONResponse{Body: body, Headers: v3api.ListProjectSnippets200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) GetProjectSnippet(ctx context.Context, req v3api.GetProjectSnippetRequestObject) (v3api.GetProjectSnippetResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	sn, err := s.findSnippet(ctx, scope, req.SnippetID)
	if err != nil {
		return nil, err
	}
	return v3api.GetProjectSnippet200JSONResponse(s.presentProjectSnippet(sn)), nil
}

func (s *Server) CreateProjectSnippet(ctx context.Context, req v3api.CreateProjectSnippetRequestObject) (v3api.CreateProjectSnippetResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canCreateSnippet)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	projectID := scope.project.ID
	sn := &persistence.Snippet{Title: b.Title, FileName: b.FileName, Content: b.Code,
		VisibilityLevel: b.VisibilityLevel, AuthorID: currentUser(ctx).ID, ProjectID: &projectID}
	if err := s.store.CreateSnippet(ctx, sn); err != nil {
		return nil, err
	}
	return v3api.CreateProjectSnippet201JSONResponse(s.presentProjectSnippet(sn)), nil
}

func (s *Server) UpdateProjectSnippet(ctx context.Context, req v3api.UpdateProjectSnippetRequestObject) (v3api.UpdateProjectSnippetResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	sn, err := s.findSnippet(ctx, scope, req.SnippetID)
	if err != nil {
		return nil, err
	}
	if !scope.canAdminSnippet(sn) {
		return nil, forbidden()
	}
	var c persistence.SnippetChanges
	if b := req.JSONBody; b != nil {
		c = persistence.SnippetChanges{Title: b.Title, FileName: b.FileName, Content: b.Code, VisibilityLevel: b.VisibilityLevel}
	}
	if err := s.store.UpdateSnippet(ctx, sn, c); err != nil {
		return nil, err
	}
	return v3api.UpdateProjectSnippet200JSONResponse(s.presentProjectSnippet(sn)), nil
}

func (s *Server) DeleteProjectSnippet(ctx context.Context, req v3api.DeleteProjectSnippetRequestObject) (v3api.DeleteProjectSnippetResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	sn, err := s.findSnippet(ctx, scope, req.SnippetID)
	if err != nil {
		// 8.7 rescued the failed find into not_found!('Snippet').
		return nil, notFound("Snippet")
	}
	if !scope.canAdminSnippet(sn) {
		return nil, forbidden()
	}
	if err := s.store.DeleteSnippet(ctx, sn.ID); err != nil {
		return nil, err
	}
	return v3api.DeleteProjectSnippet200JSONResponse(presentDeletedSnippet(sn)), nil
}

func (s *Server) GetProjectSnippetRaw(ctx context.Context, req v3api.GetProjectSnippetRawRequestObject) (v3api.GetProjectSnippetRawResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	sn, err := s.findSnippet(ctx, scope, req.SnippetID)
	if err != nil {
		return nil, err
	}
	return v3api.GetProjectSnippetRaw200TextResponse(sn.Content), nil
}
