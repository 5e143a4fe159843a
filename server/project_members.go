package server

// Project members: doc/api/projects.md "Team members" (GitLab CE 8.7,
// lib/api/project_members.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func (s *Server) presentProjectMember(m *persistence.MemberWithUser) v3api.ProjectMember {
	b := s.presentUserBasic(&m.User)
	return v3api.ProjectMember{ID: b.ID, Name: b.Name, Username: b.Username, State: v3api.ProjectMemberState(b.State),
		AvatarURL: b.AvatarURL, WebURL: b.WebURL, AccessLevel: m.AccessLevel}
}

func presentDeletedMember(m *persistence.Member) v3api.DeletedMember {
	var by *int
	if m.CreatedByID != nil {
		id := int(*m.CreatedByID)
		by = &id
	}
	return v3api.DeletedMember{ID: int(m.ID), AccessLevel: m.AccessLevel, SourceID: int(m.SourceID),
		SourceType: v3api.DeletedMemberSourceType(m.SourceType), UserID: int(m.UserID),
		NotificationLevel: m.NotificationLevel, CreatedByID: by,
		CreatedAt: apitime.From(m.CreatedAt), UpdatedAt: apitime.From(m.UpdatedAt)}
}

// accessLevelInvalid is 8.7's handle_member_errors: the access_level
// messages as a bare JSON array.
func accessLevelInvalid(err error) error {
	var v *persistence.ValidationError
	if errors.As(err, &v) && len(v.Fields["access_level"]) > 0 {
		return &apiError{status: 422, body: v.Fields["access_level"]}
	}
	return err
}

func (s *Server) ListProjectMembers(ctx context.Context, req v3api.ListProjectMembersRequestObject) (v3api.ListProjectMembersResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	members, total, err := s.store.ListMembers(ctx, persistence.SourceProject, scope.project.ID, deref(req.Params.Query), pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.ProjectMember, len(members))
	for i := range members {
		body[i] = s.presentProjectMember(&members[i])
	}
	return v3api.ListProjectMembers200JSONResponse{Body: body, Headers: v3api.ListProjectMembers200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) GetProjectMember(ctx context.Context, req v3api.GetProjectMemberRequestObject) (v3api.GetProjectMemberResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.GetMember(ctx, persistence.SourceProject, scope.project.ID, int64(req.UserID))
	if err != nil {
		return nil, err
	}
	return v3api.GetProjectMember200JSONResponse(s.presentProjectMember(m)), nil
}

// AddProjectMember is idempotent: an existing member is answered unchanged.
func (s *Server) AddProjectMember(ctx context.Context, req v3api.AddProjectMemberRequestObject) (v3api.AddProjectMemberResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	m, err := s.store.AddMember(ctx, persistence.SourceProject, scope.project.ID, int64(b.UserID), b.AccessLevel, scope.user.ID)
	switch {
	case errors.Is(err, persistence.ErrMemberExists):
		if m, err = s.store.GetMember(ctx, persistence.SourceProject, scope.project.ID, int64(b.UserID)); err != nil {
			return nil, err
		}
		return v3api.AddProjectMember201JSONResponse(s.presentProjectMember(m)), nil
	case errors.Is(err, persistence.ErrNotFound):
		return nil, notFound("User")
	case err != nil:
		return nil, accessLevelInvalid(err)
	}
	s.systemHook(ctx, teamEventData("user_add_to_team", scope.project, &m.Member, &m.User))
	return v3api.AddProjectMember201JSONResponse(s.presentProjectMember(m)), nil
}

func (s *Server) UpdateProjectMember(ctx context.Context, req v3api.UpdateProjectMemberRequestObject) (v3api.UpdateProjectMemberResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	m, err := s.store.UpdateMember(ctx, persistence.SourceProject, scope.project.ID, int64(req.UserID), req.JSONBody.AccessLevel)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("User can not be found")
	}
	if err != nil {
		return nil, accessLevelInvalid(err)
	}
	return v3api.UpdateProjectMember200JSONResponse(s.presentProjectMember(m)), nil
}

// RemoveProjectMember is idempotent: removing a non-member answers
// {"message":"Access revoked","id":<user_id>}. A member may remove itself.
func (s *Server) RemoveProjectMember(ctx context.Context, req v3api.RemoveProjectMemberRequestObject) (v3api.RemoveProjectMemberResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if !scope.canAdmin() && int64(req.UserID) != scope.user.ID {
		return nil, forbidden()
	}
	member, err := s.store.GetMember(ctx, persistence.SourceProject, scope.project.ID, int64(req.UserID))
	var body v3api.DeletedMemberOrAccessRevoked
	if errors.Is(err, persistence.ErrNotFound) {
		err = body.FromAccessRevoked(v3api.AccessRevoked{Message: v3api.AccessRevokedMessageAccessRevoked, ID: req.UserID})
		return v3api.RemoveProjectMember200JSONResponse(body), err
	}
	if err != nil {
		return nil, err
	}
	removed, err := s.store.RemoveMember(ctx, persistence.SourceProject, scope.project.ID, int64(req.UserID))
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, teamEventData("user_remove_from_team", scope.project, removed, &member.User))
	err = body.FromDeletedMember(presentDeletedMember(removed))
	return v3api.RemoveProjectMember200JSONResponse(body), err
}
