package server

// Who may do what: GitLab 8.7's Ability (app/models/ability.rb) for projects
// and groups, written once. Handlers ask these questions; none of them
// decides access on its own.

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/persistence"
)

// projectScope is a project as the current user sees it.
type projectScope struct {
	project *persistence.Project
	user    *persistence.User
	access  persistence.Access
}

// level is the user's access level (owner for admins' purposes is not
// implied: admins pass every check through isAdmin).
func (p *projectScope) level() int { return p.access.Level }

func (p *projectScope) isAdmin() bool { return p.user != nil && p.user.Admin }

// canRead: any member; any user for a public project; a non-external user
// for an internal one; admins.
func (p *projectScope) canRead() bool {
	switch {
	case p.isAdmin(), p.level() >= persistence.AccessGuest:
		return true
	case p.project.VisibilityLevel == persistence.VisibilityPublic:
		return true
	case p.project.VisibilityLevel == persistence.VisibilityInternal:
		return p.user != nil && !p.user.External
	}
	return false
}

// canAdmin is admin_project: masters and owners.
func (p *projectScope) canAdmin() bool {
	return p.isAdmin() || p.level() >= persistence.AccessMaster
}

// isOwner is the owner-only abilities (remove_project, archive_project,
// rename_project, change_visibility_level, remove_fork_project): the
// owner of the personal namespace or an owner of the group.
func (p *projectScope) isOwner() bool {
	return p.isAdmin() || p.level() >= persistence.AccessOwner
}

// canFork is fork_project: reporters and up, or anyone who can read a
// public or internal project.
func (p *projectScope) canFork() bool {
	return p.canRead() && (p.level() >= persistence.AccessReporter || p.project.VisibilityLevel != persistence.VisibilityPrivate || p.isAdmin())
}

// canDownloadCode is download_code (clone, fetch): reporters and up;
// anyone for a public project and non-external users for an internal one
// (public_project_rules); admins. A guest of a private project may see it
// but not its code.
func (p *projectScope) canDownloadCode() bool {
	switch {
	case p.isAdmin(), p.level() >= persistence.AccessReporter:
		return true
	case p.project.VisibilityLevel == persistence.VisibilityPublic:
		return true
	case p.project.VisibilityLevel == persistence.VisibilityInternal:
		return p.user != nil && !p.user.External
	}
	return false
}

// canPushCode is push_code: developers and up, and admins; nobody on an
// archived project (8.7 took the push abilities away from everyone there).
func (p *projectScope) canPushCode() bool {
	if p.project.Archived {
		return false
	}
	return p.isAdmin() || p.level() >= persistence.AccessDeveloper
}

// scopeOf is the project as user (nil: anonymous) sees it.
func (s *Server) scopeOf(ctx context.Context, p *persistence.Project, user *persistence.User) (*projectScope, error) {
	scope := &projectScope{project: p, user: user}
	if user != nil {
		var err error
		if scope.access, err = s.store.ProjectAccess(ctx, user.ID, p); err != nil {
			return nil, err
		}
	}
	return scope, nil
}

// findProject is 8.7's user_project: the project by id or
// "namespace/path", or 404 Project Not Found when it does not exist or the
// user may not see it (both answer alike).
func (s *Server) findProject(ctx context.Context, ref string) (*projectScope, error) {
	p, err := s.store.FindProject(ctx, ref)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Project")
	}
	if err != nil {
		return nil, err
	}
	scope, err := s.scopeOf(ctx, p, currentUser(ctx))
	if err != nil {
		return nil, err
	}
	if !scope.canRead() {
		return nil, notFound("Project")
	}
	return scope, nil
}

// requireProject finds the project and requires allowed of the user's
// scope: 403 when they may see the project but not do this.
func (s *Server) requireProject(ctx context.Context, ref string, allowed func(*projectScope) bool) (*projectScope, error) {
	scope, err := s.findProject(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !allowed(scope) {
		return nil, forbidden()
	}
	return scope, nil
}

// adminProject requires admin_project.
func (s *Server) adminProject(ctx context.Context, ref string) (*projectScope, error) {
	return s.requireProject(ctx, ref, (*projectScope).canAdmin)
}

// ownProject requires the owner abilities.
func (s *Server) ownProject(ctx context.Context, ref string) (*projectScope, error) {
	return s.requireProject(ctx, ref, (*projectScope).isOwner)
}

// codeProject requires download_code, and push_code too when push is set
// (the before filters of 8.7's repository, branches, tags and commits APIs).
func (s *Server) codeProject(ctx context.Context, ref string, push bool) (*projectScope, error) {
	return s.requireProject(ctx, ref, func(p *projectScope) bool {
		return p.canDownloadCode() && (!push || p.canPushCode())
	})
}

// groupScope is a group as the current user sees it.
type groupScope struct {
	group *persistence.Namespace
	user  *persistence.User
	level int
}

// canAdmin is admin_group: group owners and admins.
func (g *groupScope) canAdmin() bool {
	return g.user.Admin || g.level >= persistence.AccessOwner
}

// findGroup is 8.7's find_group: by path or id, or 404 Group Not Found when
// missing or unreadable. A group is readable by its members, by anyone when
// public, by non-external users when internal, and by anyone who can see
// one of its projects.
func (s *Server) findGroup(ctx context.Context, ref string) (*groupScope, error) {
	g, err := s.store.FindGroup(ctx, ref)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Group")
	}
	if err != nil {
		return nil, err
	}
	u := currentUser(ctx)
	scope := &groupScope{group: g, user: u}
	if scope.level, err = s.store.GroupAccess(ctx, u.ID, g.ID); err != nil {
		return nil, err
	}
	readable := u.Admin || scope.level > 0 || g.VisibilityLevel == persistence.VisibilityPublic ||
		(g.VisibilityLevel == persistence.VisibilityInternal && !u.External)
	if !readable {
		if readable, err = s.store.GroupHasVisibleProjects(ctx, g.ID, u.ID, u.External); err != nil {
			return nil, err
		}
	}
	if !readable {
		return nil, notFound("Group")
	}
	return scope, nil
}

// adminGroup finds the group and requires admin_group (403 otherwise).
func (s *Server) adminGroup(ctx context.Context, ref string) (*groupScope, error) {
	scope, err := s.findGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !scope.canAdmin() {
		return nil, forbidden()
	}
	return scope, nil
}
