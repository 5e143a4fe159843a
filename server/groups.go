package server

// Groups: doc/api/groups.md (GitLab CE 8.7, lib/api/groups.rb and
// lib/api/group_members.rb).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

func (s *Server) presentGroup(g *persistence.Namespace) v3api.Group {
	return v3api.Group{ID: int(g.ID), Name: g.Name, Path: g.Path, Description: g.Description,
		VisibilityLevel: g.VisibilityLevel, AvatarURL: g.Avatar, WebURL: s.url("/groups/" + g.Path)}
}

func (s *Server) presentGroupDetail(ctx context.Context, g *persistence.Namespace) (v3api.GroupDetail, error) {
	projects, _, err := s.store.ListProjects(ctx, persistence.ProjectFilter{Scope: "group", GroupID: g.ID}, persistence.Page{})
	if err != nil {
		return v3api.GroupDetail{}, err
	}
	rel, err := s.store.ProjectRelations(ctx, currentUser(ctx).ID, projects)
	if err != nil {
		return v3api.GroupDetail{}, err
	}
	b := s.presentGroup(g)
	out := v3api.GroupDetail{ID: b.ID, Name: b.Name, Path: b.Path, Description: b.Description,
		VisibilityLevel: b.VisibilityLevel, AvatarURL: b.AvatarURL, WebURL: b.WebURL, Projects: make([]v3api.Project, len(projects))}
	for i := range projects {
		out.Projects[i] = s.presentProject(&projects[i], rel, false)
	}
	return out, nil
}

func (s *Server) presentGroupMember(m *persistence.MemberWithUser) v3api.GroupMember {
	b := s.presentUserBasic(&m.User)
	return v3api.GroupMember{ID: b.ID, Name: b.Name, Username: b.Username, State: v3api.GroupMemberState(b.State),
		AvatarURL: b.AvatarURL, WebURL: b.WebURL, AccessLevel: m.AccessLevel}
}

// rubyHash writes a model's errors as Ruby's Hash#inspect did, which 8.7
// put into "Failed to save group {...}" messages.
func rubyHash(v *persistence.ValidationError) string {
	names := v.FieldNames()
	parts := make([]string, len(names))
	for i, f := range names {
		msgs := make([]string, len(v.Fields[f]))
		for j, m := range v.Fields[f] {
			msgs[j] = strconv.Quote(m)
		}
		parts[i] = ":" + f + "=>[" + strings.Join(msgs, ", ") + "]"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (s *Server) ListGroups(ctx context.Context, req v3api.ListGroupsRequestObject) (v3api.ListGroupsResponseObject, error) {
	u := currentUser(ctx)
	f := persistence.GroupFilter{Search: deref(req.Params.Search)}
	if !u.Admin {
		f.MemberID = &u.ID
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	groups, total, err := s.store.ListGroups(ctx, f, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Group, len(groups))
	for i := range groups {
		body[i] = s.presentGroup(&groups[i])
	}
	return v3api.ListGroups200JSONResponse{Body: body, Headers: v3api.ListGroups200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

// CreateGroup needs can_create_group; the creator becomes the owner. A
// refused group is 400 "Failed to save group {…}" with the errors as Ruby
// printed them.
func (s *Server) CreateGroup(ctx context.Context, req v3api.CreateGroupRequestObject) (v3api.CreateGroupResponseObject, error) {
	u := currentUser(ctx)
	if !u.CanCreateGroup && !u.Admin {
		return nil, forbidden()
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	g, err := s.store.CreateGroup(ctx, u.ID, persistence.GroupParams{Name: &b.Name, Path: &b.Path, Description: b.Description, VisibilityLevel: b.VisibilityLevel})
	var v *persistence.ValidationError
	if errors.As(err, &v) {
		return nil, renderAPIError(400, "Failed to save group "+rubyHash(v))
	}
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, s.groupEventData(ctx, "group_create", g))
	return v3api.CreateGroup201JSONResponse(s.presentGroup(g)), nil
}

func (s *Server) GetGroup(ctx context.Context, req v3api.GetGroupRequestObject) (v3api.GetGroupResponseObject, error) {
	scope, err := s.findGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	out, err := s.presentGroupDetail(ctx, scope.group)
	return v3api.GetGroup200JSONResponse(out), err
}

func (s *Server) UpdateGroup(ctx context.Context, req v3api.UpdateGroupRequestObject) (v3api.UpdateGroupResponseObject, error) {
	scope, err := s.adminGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	b := req.JSONBody
	if b == nil {
		b = &v3api.UpdateGroupBody{}
	}
	g, err := s.store.UpdateGroup(ctx, scope.group.ID, persistence.GroupParams{Name: b.Name, Path: b.Path, Description: b.Description, VisibilityLevel: b.VisibilityLevel})
	if err != nil {
		return nil, err
	}
	out, err := s.presentGroupDetail(ctx, g)
	return v3api.UpdateGroup200JSONResponse(out), err
}

// DeleteGroup removes the group with its projects; system hooks hear of
// each project and of the group.
func (s *Server) DeleteGroup(ctx context.Context, req v3api.DeleteGroupRequestObject) (v3api.DeleteGroupResponseObject, error) {
	scope, err := s.adminGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	groupData := s.groupEventData(ctx, "group_destroy", scope.group)
	g, projects, err := s.store.DeleteGroup(ctx, scope.group.ID)
	if err != nil {
		return nil, err
	}
	for i := range projects {
		s.removeProjectFiles(projects[i].ID)
		s.systemHook(ctx, s.projectEventData(ctx, "project_destroy", &projects[i]))
	}
	s.systemHook(ctx, groupData)
	return v3api.DeleteGroup200JSONResponse(presentNamespaceRow(g)), nil
}

// ListGroupProjects lists the group's projects the caller may see.
func (s *Server) ListGroupProjects(ctx context.Context, req v3api.ListGroupProjectsRequestObject) (v3api.ListGroupProjectsResponseObject, error) {
	scope, err := s.findGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	p := req.Params
	q := projectListQuery{p.Archived, strp(p.Visibility), strp(p.OrderBy), strp(p.Sort), p.Search, p.Page, p.PerPage}
	f := q.filter("group", scope.user)
	f.GroupID = scope.group.ID
	f.VisibleOnly = true // admins included: 8.7's visible_to_user
	body, h, err := s.plainProjects(ctx, f, q)
	return v3api.ListGroupProjects200JSONResponse{Body: body, Headers: v3api.ListGroupProjects200ResponseHeaders(h)}, err
}

// TransferProjectToGroup (admins) moves a project into a group, found by
// numeric id only as 8.7 did; a failure is 400 "Failed to transfer project {…}".
func (s *Server) TransferProjectToGroup(ctx context.Context, req v3api.TransferProjectToGroupRequestObject) (v3api.TransferProjectToGroupResponseObject, error) {
	p, err := s.store.GetProject(ctx, int64(req.ProjectID)) // Project.find: 404 Not found
	if err != nil {
		return nil, err
	}
	invalid := &persistence.ValidationError{}
	invalid.Add("new_namespace", "is invalid")
	id, ok := parseID(req.ID)
	if !ok {
		return nil, renderAPIError(400, "Failed to transfer project "+rubyHash(invalid))
	}
	g, err := s.store.GetGroup(ctx, id)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, renderAPIError(400, "Failed to transfer project "+rubyHash(invalid))
	}
	if err != nil {
		return nil, err
	}
	err = s.store.TransferProject(ctx, p.ID, g.ID)
	var v *persistence.ValidationError
	var refused *persistence.ErrTransfer
	if errors.As(err, &refused) {
		v = &persistence.ValidationError{}
		v.Add("new_namespace", refused.Message)
	}
	if v != nil || errors.As(err, &v) {
		return nil, renderAPIError(400, "Failed to transfer project "+rubyHash(v))
	}
	if err != nil {
		return nil, err
	}
	return v3api.TransferProjectToGroup201JSONResponse(presentNamespaceRow(g)), nil
}

// ListGroupMembers lists every member (not paginated in 8.7).
func (s *Server) ListGroupMembers(ctx context.Context, req v3api.ListGroupMembersRequestObject) (v3api.ListGroupMembersResponseObject, error) {
	scope, err := s.findGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	members, _, err := s.store.ListMembers(ctx, persistence.SourceNamespace, scope.group.ID, "", persistence.Page{})
	if err != nil {
		return nil, err
	}
	body := make([]v3api.GroupMember, len(members))
	for i := range members {
		body[i] = s.presentGroupMember(&members[i])
	}
	return v3api.ListGroupMembers200JSONResponse(body), nil
}

func (s *Server) AddGroupMember(ctx context.Context, req v3api.AddGroupMemberRequestObject) (v3api.AddGroupMemberResponseObject, error) {
	scope, err := s.adminGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	if !persistence.ValidAccessLevel(b.AccessLevel) {
		return nil, renderAPIError(422, "Wrong access level")
	}
	m, err := s.store.AddMember(ctx, persistence.SourceNamespace, scope.group.ID, int64(b.UserID), b.AccessLevel, scope.user.ID)
	switch {
	case errors.Is(err, persistence.ErrMemberExists):
		return nil, conflict("Already exists")
	case errors.Is(err, persistence.ErrNotFound):
		return nil, notFound("User")
	case err != nil:
		return nil, err
	}
	s.systemHook(ctx, groupMemberEventData("user_add_to_group", scope.group, &m.Member, &m.User))
	return v3api.AddGroupMember201JSONResponse(s.presentGroupMember(m)), nil
}

func (s *Server) UpdateGroupMember(ctx context.Context, req v3api.UpdateGroupMemberRequestObject) (v3api.UpdateGroupMemberResponseObject, error) {
	scope, err := s.adminGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	m, err := s.store.UpdateMember(ctx, persistence.SourceNamespace, scope.group.ID, int64(req.UserID), req.JSONBody.AccessLevel)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("User can not be found")
	}
	if err != nil {
		return nil, accessLevelInvalid(err)
	}
	return v3api.UpdateGroupMember200JSONResponse(s.presentGroupMember(m)), nil
}

func (s *Server) RemoveGroupMember(ctx context.Context, req v3api.RemoveGroupMemberRequestObject) (v3api.RemoveGroupMemberResponseObject, error) {
	scope, err := s.adminGroup(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	member, err := s.store.GetMember(ctx, persistence.SourceNamespace, scope.group.ID, int64(req.UserID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, renderAPIError(404, fmt.Sprintf("404 Not Found - user_id:%d not a member of group %s", req.UserID, scope.group.Name))
	}
	if err != nil {
		return nil, err
	}
	removed, err := s.store.RemoveMember(ctx, persistence.SourceNamespace, scope.group.ID, int64(req.UserID))
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, groupMemberEventData("user_remove_from_group", scope.group, removed, &member.User))
	return v3api.RemoveGroupMember200JSONResponse(presentDeletedMember(removed)), nil
}
