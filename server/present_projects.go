package server

import (
	"encoding/json"
	"net/url"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server/apitime"
)

// The project entities of lib/api/entities.rb: BasicProjectDetails,
// Project, ProjectWithAccess.

func presentBasicProject(p *persistence.Project) v3api.BasicProjectDetails {
	return v3api.BasicProjectDetails{ID: int(p.ID), Name: p.Name, NameWithNamespace: p.NameWithNamespace(),
		Path: p.Path, PathWithNamespace: p.PathWithNamespace()}
}

// presentNamespaceRow is the raw namespace row the Project entity embeds
// (and groups' transfer and delete answer with).
func presentNamespaceRow(n *persistence.Namespace) v3api.ProjectNamespace {
	var owner *int
	if n.OwnerID != nil {
		id := int(*n.OwnerID)
		owner = &id
	}
	return v3api.ProjectNamespace{
		ID: int(n.ID), Name: n.Name, Path: n.Path, OwnerID: owner, Type: n.Type, Description: n.Description,
		Avatar: v3api.ProjectNamespaceAvatar{URL: n.Avatar}, ShareWithGroupLock: n.ShareWithGroupLock,
		VisibilityLevel: n.VisibilityLevel, CreatedAt: apitime.From(n.CreatedAt), UpdatedAt: apitime.From(n.UpdatedAt),
	}
}

// sshURL is git@host:namespace/project.git on the external URL's host.
func (s *Server) sshURL(p *persistence.Project) string {
	host := "localhost"
	if u, err := url.Parse(s.cfg.ExternalURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "git@" + host + ":" + p.PathWithNamespace() + ".git"
}

// presentProject builds the Project entity. rel holds what a page of
// projects shares (owners, fork parents, fork counts); withToken adds
// runners_token, which 8.7 showed only to those who may administer the
// project.
func (s *Server) presentProject(p *persistence.Project, rel *persistence.Relations, withToken bool) v3api.Project {
	web := s.projectWebURL(p)
	out := v3api.Project{
		ID: int(p.ID), Description: p.Description, DefaultBranch: p.DefaultBranch, TagList: []string{},
		Public: p.VisibilityLevel == persistence.VisibilityPublic, Archived: p.Archived,
		VisibilityLevel: v3api.ProjectVisibilityLevel(p.VisibilityLevel),
		SSHURLToRepo:    s.sshURL(p), HTTPURLToRepo: web + ".git", WebURL: web,
		Name: p.Name, NameWithNamespace: p.NameWithNamespace(), Path: p.Path, PathWithNamespace: p.PathWithNamespace(),
		IssuesEnabled: p.IssuesEnabled, MergeRequestsEnabled: p.MergeRequestsEnabled, WikiEnabled: p.WikiEnabled,
		BuildsEnabled: p.BuildsEnabled, SnippetsEnabled: p.SnippetsEnabled,
		CreatedAt: apitime.From(p.CreatedAt), LastActivityAt: apitime.From(p.LastActivityAt),
		SharedRunnersEnabled: p.SharedRunnersEnabled, Namespace: presentNamespaceRow(&p.Namespace),
		StarCount: p.StarCount, PublicBuilds: p.PublicBuilds,
	}
	if p.CreatorID != nil {
		out.CreatorID = int(*p.CreatorID)
	}
	if p.Personal() && p.Namespace.OwnerID != nil {
		if owner := rel.Owners[*p.Namespace.OwnerID]; owner != nil {
			basic := s.presentUserBasic(owner)
			out.Owner = &basic
		}
	}
	if parent := rel.ForkedFrom[p.ID]; parent != nil {
		basic := presentBasicProject(parent)
		out.ForkedFromProject = &basic
	}
	out.ForksCount = int(rel.Forks[p.ID])
	if p.IssuesEnabled {
		open := int(rel.OpenIssues[p.ID])
		out.OpenIssuesCount = &open
	}
	if withToken {
		token := p.RunnersToken
		out.RunnersToken = &token
	}
	return out
}

// presentProjectWithAccess adds the caller's permissions to a Project.
func (s *Server) presentProjectWithAccess(p *persistence.Project, rel *persistence.Relations, withToken bool) v3api.ProjectWithAccess {
	b := s.presentProject(p, rel, withToken)
	perms := v3api.ProjectPermissions{}
	if m := rel.ProjectMembers[p.ID]; m != nil {
		perms.ProjectAccess = &v3api.ProjectAccess{AccessLevel: m.AccessLevel, NotificationLevel: &m.NotificationLevel}
	}
	if m := rel.GroupMembers[p.NamespaceID]; m != nil && p.Namespace.IsGroup() {
		perms.GroupAccess = &v3api.GroupAccess{AccessLevel: m.AccessLevel, NotificationLevel: &m.NotificationLevel}
	}
	return v3api.ProjectWithAccess{
		ID: b.ID, Description: b.Description, DefaultBranch: b.DefaultBranch, TagList: b.TagList, Public: b.Public,
		Archived: b.Archived, VisibilityLevel: b.VisibilityLevel, SSHURLToRepo: b.SSHURLToRepo,
		HTTPURLToRepo: b.HTTPURLToRepo, WebURL: b.WebURL, Owner: b.Owner, Name: b.Name,
		NameWithNamespace: b.NameWithNamespace, Path: b.Path, PathWithNamespace: b.PathWithNamespace,
		IssuesEnabled: b.IssuesEnabled, MergeRequestsEnabled: b.MergeRequestsEnabled, WikiEnabled: b.WikiEnabled,
		BuildsEnabled: b.BuildsEnabled, SnippetsEnabled: b.SnippetsEnabled, CreatedAt: b.CreatedAt,
		LastActivityAt: b.LastActivityAt, SharedRunnersEnabled: b.SharedRunnersEnabled, CreatorID: b.CreatorID,
		Namespace: b.Namespace, ForkedFromProject: b.ForkedFromProject, AvatarURL: b.AvatarURL,
		StarCount: b.StarCount, ForksCount: b.ForksCount, OpenIssuesCount: b.OpenIssuesCount,
		RunnersToken: b.RunnersToken, PublicBuilds: b.PublicBuilds, Permissions: perms,
	}
}

// eventActionName is Event#action_name of 8.7.
func eventActionName(e *persistence.Event) string {
	switch e.Action {
	case persistence.EventPushed:
		// Event#new_ref? and #rm_ref?: the push data's before and after.
		var d struct{ Before, After string }
		if e.Data != nil && json.Unmarshal([]byte(*e.Data), &d) == nil {
			switch {
			case d.Before == gitstore.ZeroSHA:
				return "pushed new"
			case d.After == gitstore.ZeroSHA:
				return "deleted"
			}
		}
		return "pushed to"
	case persistence.EventClosed:
		return "closed"
	case persistence.EventMerged:
		return "accepted"
	case persistence.EventJoined:
		return "joined"
	case persistence.EventLeft:
		return "left"
	case persistence.EventDestroyed:
		return "destroyed"
	case persistence.EventCommented:
		return "commented on"
	case persistence.EventCreated:
		if e.TargetType == nil {
			return "created"
		}
		return "opened"
	case persistence.EventReopened:
		return "reopened"
	case persistence.EventUpdated:
		return "updated"
	}
	return ""
}

// projectWebURL is the project's page, <external-url>/<namespace>/<path>;
// its clone URL adds ".git".
func (s *Server) projectWebURL(p *persistence.Project) string {
	return s.url("/" + p.PathWithNamespace())
}
