package server

// Projects: doc/api/projects.md (GitLab CE 8.7, lib/api/projects.rb).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

// projectListQuery is the filters every project list takes.
type projectListQuery struct {
	archived      *bool
	visibility    *string
	orderBy, sort *string
	search        *string
	page, perPage *int
}

func strp[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}

func (q projectListQuery) filter(scope string, u *persistence.User) persistence.ProjectFilter {
	f := persistence.ProjectFilter{Scope: scope, UserID: u.ID, External: u.External, Archived: q.archived, Search: deref(q.search)}
	if q.visibility != nil {
		lvl := map[string]int{"private": persistence.VisibilityPrivate, "internal": persistence.VisibilityInternal, "public": persistence.VisibilityPublic}[*q.visibility]
		f.Visibility = &lvl
	}
	f.Order = persistence.ProjectOrder{By: deref(q.orderBy), Asc: deref(q.sort) == "asc"}
	return f
}

// listProjects loads one page of projects with their relations.
func (s *Server) listProjects(ctx context.Context, f persistence.ProjectFilter, q projectListQuery) ([]persistence.Project, *persistence.Relations, pageHeaders, error) {
	pg := newPager(q.page, q.perPage)
	projects, total, err := s.store.ListProjects(ctx, f, pg.window())
	if err != nil {
		return nil, nil, pageHeaders{}, err
	}
	rel, err := s.store.ProjectRelations(ctx, currentUser(ctx).ID, projects)
	return projects, rel, s.headers(ctx, pg, total), err
}

func (s *Server) projectsWithAccess(ctx context.Context, scope string, q projectListQuery) ([]v3api.ProjectWithAccess, pageHeaders, error) {
	projects, rel, h, err := s.listProjects(ctx, q.filter(scope, currentUser(ctx)), q)
	if err != nil {
		return nil, h, err
	}
	out := make([]v3api.ProjectWithAccess, len(projects))
	for i := range projects {
		out[i] = s.presentProjectWithAccess(&projects[i], rel, false)
	}
	return out, h, nil
}

func (s *Server) plainProjects(ctx context.Context, f persistence.ProjectFilter, q projectListQuery) ([]v3api.Project, pageHeaders, error) {
	projects, rel, h, err := s.listProjects(ctx, f, q)
	if err != nil {
		return nil, h, err
	}
	out := make([]v3api.Project, len(projects))
	for i := range projects {
		out[i] = s.presentProject(&projects[i], rel, false)
	}
	return out, h, nil
}

func (s *Server) ListProjects(ctx context.Context, req v3api.ListProjectsRequestObject) (v3api.ListProjectsResponseObject, error) {
	p := req.Params
	body, h, err := s.projectsWithAccess(ctx, "authorized", projectListQuery{p.Archived, strp(p.Visibility), strp(p.OrderBy), strp(p.Sort), p.Search, p.Page, p.PerPage})
	return v3api.ListProjects200JSONResponse{Body: body, Headers: v3api.ListProjects200ResponseHeaders(h)}, err
}

func (s *Server) ListOwnedProjects(ctx context.Context, req v3api.ListOwnedProjectsRequestObject) (v3api.ListOwnedProjectsResponseObject, error) {
	p := req.Params
	body, h, err := s.projectsWithAccess(ctx, "owned", projectListQuery{p.Archived, strp(p.Visibility), strp(p.OrderBy), strp(p.Sort), p.Search, p.Page, p.PerPage})
	return v3api.ListOwnedProjects200JSONResponse{Body: body, Headers: v3api.ListOwnedProjects200ResponseHeaders(h)}, err
}

func (s *Server) ListAllProjects(ctx context.Context, req v3api.ListAllProjectsRequestObject) (v3api.ListAllProjectsResponseObject, error) {
	p := req.Params
	body, h, err := s.projectsWithAccess(ctx, "all", projectListQuery{p.Archived, strp(p.Visibility), strp(p.OrderBy), strp(p.Sort), p.Search, p.Page, p.PerPage})
	return v3api.ListAllProjects200JSONResponse{Body: body, Headers: v3api.ListAllProjects200ResponseHeaders(h)}, err
}

func (s *Server) ListStarredProjects(ctx context.Context, req v3api.ListStarredProjectsRequestObject) (v3api.ListStarredProjectsResponseObject, error) {
	p := req.Params
	q := projectListQuery{p.Archived, strp(p.Visibility), strp(p.OrderBy), strp(p.Sort), p.Search, p.Page, p.PerPage}
	body, h, err := s.plainProjects(ctx, q.filter("starred", currentUser(ctx)), q)
	return v3api.ListStarredProjects200JSONResponse{Body: body, Headers: v3api.ListStarredProjects200ResponseHeaders(h)}, err
}

// SearchProjects matches names among the projects the user may see, in id
// order unless told otherwise (8.7 sorted ascending).
func (s *Server) SearchProjects(ctx context.Context, req v3api.SearchProjectsRequestObject) (v3api.SearchProjectsResponseObject, error) {
	p := req.Params
	orderBy := strp(p.OrderBy)
	if orderBy == nil {
		id := "id"
		orderBy = &id
	}
	sortDir := strp(p.Sort)
	if sortDir == nil {
		asc := "asc"
		sortDir = &asc
	}
	q := projectListQuery{orderBy: orderBy, sort: sortDir, page: p.Page, perPage: p.PerPage}
	f := q.filter("visible", currentUser(ctx))
	f.NameLike = req.Query
	f.External = false // 8.7 offered internal projects here even to external users
	body, h, err := s.plainProjects(ctx, f, q)
	return v3api.SearchProjects200JSONResponse{Body: body, Headers: v3api.SearchProjects200ResponseHeaders(h)}, err
}

// oneProject presents a single project with the caller's permissions.
func (s *Server) oneProject(ctx context.Context, p *persistence.Project, withToken bool) (v3api.Project, error) {
	rel, err := s.store.ProjectRelations(ctx, currentUser(ctx).ID, []persistence.Project{*p})
	if err != nil {
		return v3api.Project{}, err
	}
	return s.presentProject(p, rel, withToken), nil
}

func (s *Server) GetProject(ctx context.Context, req v3api.GetProjectRequestObject) (v3api.GetProjectResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	rel, err := s.store.ProjectRelations(ctx, scope.user.ID, []persistence.Project{*scope.project})
	if err != nil {
		return nil, err
	}
	return v3api.GetProject200JSONResponse(s.presentProjectWithAccess(scope.project, rel, scope.canAdmin())), nil
}

// visibilityFrom is 8.7's `public` flag: true means 20; false means 0
// unless a visibility_level is given, which wins.
func visibilityFrom(public *bool, level *v3api.ProjectVisibilityLevel) *int {
	if level != nil {
		v := int(*level)
		return &v
	}
	if public != nil {
		v := persistence.VisibilityPrivate
		if *public {
			v = persistence.VisibilityPublic
		}
		return &v
	}
	return nil
}

func (s *Server) CreateProject(ctx context.Context, req v3api.CreateProjectRequestObject) (v3api.CreateProjectResponseObject, error) {
	u := currentUser(ctx)
	b := req.JSONBody
	np := persistence.NewProject{
		Name: &b.Name, Path: b.Path, Description: b.Description, ImportURL: b.ImportURL, CreatorID: u.ID,
		VisibilityLevel: visibilityFrom(b.Public, b.VisibilityLevel),
		IssuesEnabled:   b.IssuesEnabled, MergeRequestsEnabled: b.MergeRequestsEnabled, WikiEnabled: b.WikiEnabled,
		BuildsEnabled: b.BuildsEnabled, SnippetsEnabled: b.SnippetsEnabled,
		SharedRunnersEnabled: b.SharedRunnersEnabled, PublicBuilds: b.PublicBuilds,
	}
	nsID, err := s.creatableNamespace(ctx, u, b.NamespaceID)
	if err != nil {
		return nil, err
	}
	np.NamespaceID = nsID
	p, err := s.store.CreateProject(ctx, np)
	var limit *persistence.ErrProjectLimit
	if errors.As(err, &limit) {
		// 8.7: error!(errors[:limit_reached], 403), a bare JSON array.
		return nil, &apiError{status: 403, body: []string{limit.Message}}
	}
	if err != nil {
		return nil, err
	}
	if err := s.createRepository(ctx, p, nil); err != nil {
		return nil, err
	}
	s.systemHook(ctx, s.projectEventData(ctx, "project_create", p))
	out, err := s.oneProject(ctx, p, true)
	return v3api.CreateProject201JSONResponse(out), err
}

// creatableNamespace is where a new project goes: the user's own
// namespace, or a namespace_id the user may create projects in (their own,
// or a group where they are master or owner). Anything else is 8.7's
// {"namespace":["is not valid"]}.
func (s *Server) creatableNamespace(ctx context.Context, u *persistence.User, requested *int) (int64, error) {
	invalid := &persistence.ValidationError{}
	invalid.Add("namespace", "is not valid")
	nss, _, err := s.store.ListNamespaces(ctx, persistence.NamespaceFilter{UserID: &u.ID}, persistence.Page{})
	if err != nil {
		return 0, err
	}
	for _, n := range nss {
		if requested == nil && !n.IsGroup() {
			return n.ID, nil
		}
		if requested != nil && int64(*requested) == n.ID {
			if !n.IsGroup() {
				return n.ID, nil
			}
			lvl, err := s.store.GroupAccess(ctx, u.ID, n.ID)
			if err != nil {
				return 0, err
			}
			if lvl >= persistence.AccessMaster || u.Admin {
				return n.ID, nil
			}
		}
	}
	if requested != nil && u.Admin {
		if g, err := s.store.GetGroup(ctx, int64(*requested)); err == nil {
			return g.ID, nil
		}
	}
	return 0, invalid
}

// CreateProjectForUser creates a project in another user's namespace
// (admins); the name is checked by the model, and a reached limit is a
// validation error here.
func (s *Server) CreateProjectForUser(ctx context.Context, req v3api.CreateProjectForUserRequestObject) (v3api.CreateProjectForUserResponseObject, error) {
	owner, err := s.store.GetUser(ctx, int64(req.UserID)) // User.find: 404 Not found
	if err != nil {
		return nil, err
	}
	b := req.JSONBody
	if b == nil {
		b = &v3api.CreateProjectForUserBody{}
	}
	nsID, err := s.creatableNamespace(ctx, owner, nil)
	if err != nil {
		return nil, err
	}
	np := persistence.NewProject{
		Name: b.Name, Description: b.Description, ImportURL: b.ImportURL, DefaultBranch: b.DefaultBranch,
		NamespaceID: nsID, CreatorID: owner.ID, VisibilityLevel: visibilityFrom(b.Public, b.VisibilityLevel),
		IssuesEnabled: b.IssuesEnabled, MergeRequestsEnabled: b.MergeRequestsEnabled, WikiEnabled: b.WikiEnabled,
		BuildsEnabled: b.BuildsEnabled, SnippetsEnabled: b.SnippetsEnabled,
		SharedRunnersEnabled: b.SharedRunnersEnabled, PublicBuilds: b.PublicBuilds,
	}
	if np.Name == nil {
		empty := ""
		np.Name = &empty
	}
	p, err := s.store.CreateProject(ctx, np)
	var limit *persistence.ErrProjectLimit
	if errors.As(err, &limit) {
		v := &persistence.ValidationError{}
		v.Add("limit_reached", limit.Message)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	if err := s.createRepository(ctx, p, nil); err != nil {
		return nil, err
	}
	s.systemHook(ctx, s.projectEventData(ctx, "project_create", p))
	out, err := s.oneProject(ctx, p, true)
	return v3api.CreateProjectForUser201JSONResponse(out), err
}

// UpdateProject needs master; renaming and changing visibility need owner.
func (s *Server) UpdateProject(ctx context.Context, req v3api.UpdateProjectRequestObject) (v3api.UpdateProjectResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	b := req.JSONBody
	if b == nil {
		b = &v3api.UpdateProjectBody{}
	}
	vis := visibilityFrom(b.Public, b.VisibilityLevel)
	if (b.Name != nil || vis != nil) && !scope.isOwner() {
		return nil, forbidden()
	}
	p, err := s.store.UpdateProject(ctx, scope.project.ID, persistence.ProjectUpdate{
		Name: b.Name, Path: b.Path, Description: b.Description, DefaultBranch: b.DefaultBranch, VisibilityLevel: vis,
		IssuesEnabled: b.IssuesEnabled, MergeRequestsEnabled: b.MergeRequestsEnabled, WikiEnabled: b.WikiEnabled,
		BuildsEnabled: b.BuildsEnabled, SnippetsEnabled: b.SnippetsEnabled,
		SharedRunnersEnabled: b.SharedRunnersEnabled, PublicBuilds: b.PublicBuilds,
	})
	if err != nil {
		return nil, err
	}
	if b.DefaultBranch != nil && s.cfg.Repos != nil {
		// 8.7's UpdateService moved HEAD with the default branch.
		if err := s.cfg.Repos.SetHead(ctx, p.ID, *b.DefaultBranch); err != nil {
			s.log.Warn("move HEAD to the new default branch", "project_id", p.ID, "err", err)
		}
	}
	out, err := s.oneProject(ctx, p, true)
	return v3api.UpdateProject200JSONResponse(out), err
}

// DeleteProject answers true once the project is gone (8.7 answered the
// result of scheduling the deletion).
func (s *Server) DeleteProject(ctx context.Context, req v3api.DeleteProjectRequestObject) (v3api.DeleteProjectResponseObject, error) {
	scope, err := s.ownProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	data := s.projectEventData(ctx, "project_destroy", scope.project)
	if _, err := s.store.DeleteProject(ctx, scope.project.ID); err != nil {
		return nil, err
	}
	s.removeProjectFiles(scope.project.ID)
	s.systemHook(ctx, data)
	return v3api.DeleteProject200JSONResponse(true), nil
}

// ForkProject forks into the caller's namespace; a failure is 409 with the
// validation errors.
func (s *Server) ForkProject(ctx context.Context, req v3api.ForkProjectRequestObject) (v3api.ForkProjectResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if !scope.canFork() {
		return nil, forbidden()
	}
	u := scope.user
	nsID, err := s.creatableNamespace(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	src := scope.project
	vis := src.VisibilityLevel
	p, err := s.store.CreateProject(ctx, persistence.NewProject{
		Name: &src.Name, Path: &src.Path, Description: src.Description, NamespaceID: nsID, CreatorID: u.ID,
		VisibilityLevel: &vis, IssuesEnabled: &src.IssuesEnabled, MergeRequestsEnabled: &src.MergeRequestsEnabled,
		WikiEnabled: &src.WikiEnabled, BuildsEnabled: &src.BuildsEnabled, SnippetsEnabled: &src.SnippetsEnabled,
		SharedRunnersEnabled: &src.SharedRunnersEnabled, PublicBuilds: &src.PublicBuilds, ForkedFromID: &src.ID,
		DefaultBranch: src.DefaultBranch, // the fork's HEAD is the source's
	})
	var v *persistence.ValidationError
	var limit *persistence.ErrProjectLimit
	switch {
	case errors.As(err, &v):
		return nil, &apiError{status: 409, body: message{v.Fields}}
	case errors.As(err, &limit):
		return nil, &apiError{status: 409, body: message{map[string][]string{"limit_reached": {limit.Message}}}}
	case err != nil:
		return nil, err
	}
	if err := s.createRepository(ctx, p, &src.ID); err != nil {
		return nil, err
	}
	s.systemHook(ctx, s.projectEventData(ctx, "project_create", p))
	out, err := s.oneProject(ctx, p, true)
	return v3api.ForkProject201JSONResponse(out), err
}

// createRepository gives a new project its git repository: a clone of
// forkedFrom's for a fork, else an empty one whose HEAD is the project's
// default branch when one was given. When that fails the project is
// deleted again (no project exists without its repository) and the
// request fails.
func (s *Server) createRepository(ctx context.Context, p *persistence.Project, forkedFrom *int64) error {
	repos := s.cfg.Repos
	if repos == nil {
		return nil
	}
	var err error
	if forkedFrom != nil {
		err = repos.Fork(ctx, *forkedFrom, p.ID)
	} else {
		err = repos.Create(ctx, p.ID)
	}
	if err == nil {
		if forkedFrom == nil && p.DefaultBranch != nil {
			// A name git refuses stays in the project row alone, as
			// 8.7 kept whatever the API was given.
			if herr := repos.SetHead(ctx, p.ID, *p.DefaultBranch); herr != nil {
				s.log.Warn("set HEAD of a new repository", "project_id", p.ID, "err", herr)
			}
		}
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if _, derr := s.store.DeleteProject(ctx, p.ID); derr != nil {
		s.log.Error("delete the project whose repository failed", "project_id", p.ID, "err", derr)
	}
	return fmt.Errorf("create the repository of project %d: %w", p.ID, err)
}

// CreateForkRelation (admins) looks the source up first, as 8.7 did.
func (s *Server) CreateForkRelation(ctx context.Context, req v3api.CreateForkRelationRequestObject) (v3api.CreateForkRelationResponseObject, error) {
	from, err := s.store.GetProject(ctx, int64(req.ForkedFromID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Source Project")
	}
	if err != nil {
		return nil, err
	}
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	link, err := s.store.CreateForkRelation(ctx, scope.project.ID, from.ID)
	if errors.Is(err, persistence.ErrAlreadyForked) {
		return nil, conflict("Project already forked")
	}
	if err != nil {
		return nil, err
	}
	return v3api.CreateForkRelation201JSONResponse(presentForkLink(link)), nil
}

func presentForkLink(l *persistence.ForkedProjectLink) v3api.ForkedProjectLink {
	return v3api.ForkedProjectLink{ID: int(l.ID), ForkedToProjectID: int(l.ForkedToProjectID),
		ForkedFromProjectID: int(l.ForkedFromProjectID), CreatedAt: apitime.From(l.CreatedAt), UpdatedAt: apitime.From(l.UpdatedAt)}
}

func (s *Server) DeleteForkRelation(ctx context.Context, req v3api.DeleteForkRelationRequestObject) (v3api.DeleteForkRelationResponseObject, error) {
	scope, err := s.ownProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	link, err := s.store.DeleteForkRelation(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	var body v3api.ForkedProjectLinkOrNull // null when the project was no fork
	if link != nil {
		err = body.FromForkedProjectLink(presentForkLink(link))
	}
	return v3api.DeleteForkRelation200JSONResponse(body), err
}

func (s *Server) ArchiveProject(ctx context.Context, req v3api.ArchiveProjectRequestObject) (v3api.ArchiveProjectResponseObject, error) {
	p, err := s.setArchived(ctx, req.ID, true)
	return v3api.ArchiveProject201JSONResponse(p), err
}

func (s *Server) UnarchiveProject(ctx context.Context, req v3api.UnarchiveProjectRequestObject) (v3api.UnarchiveProjectResponseObject, error) {
	p, err := s.setArchived(ctx, req.ID, false)
	return v3api.UnarchiveProject201JSONResponse(p), err
}

func (s *Server) setArchived(ctx context.Context, ref string, archived bool) (v3api.Project, error) {
	scope, err := s.ownProject(ctx, ref)
	if err != nil {
		return v3api.Project{}, err
	}
	p, err := s.store.SetArchived(ctx, scope.project.ID, archived)
	if err != nil {
		return v3api.Project{}, err
	}
	return s.oneProject(ctx, p, false)
}

// StarProject answers 304 with no body when the project was starred already.
func (s *Server) StarProject(ctx context.Context, req v3api.StarProjectRequestObject) (v3api.StarProjectResponseObject, error) {
	out, changed, err := s.setStar(ctx, req.ID, true)
	if err != nil || !changed {
		return v3api.StarProject304Response{}, err
	}
	return v3api.StarProject201JSONResponse(out), nil
}

// UnstarProject answers 304 with no body when the project was not starred.
func (s *Server) UnstarProject(ctx context.Context, req v3api.UnstarProjectRequestObject) (v3api.UnstarProjectResponseObject, error) {
	out, changed, err := s.setStar(ctx, req.ID, false)
	if err != nil || !changed {
		return v3api.UnstarProject304Response{}, err
	}
	return v3api.UnstarProject200JSONResponse(out), nil
}

// setStar stars or unstars a project for the current user and, when that
// changed anything, presents the project with its new star_count.
func (s *Server) setStar(ctx context.Context, ref string, on bool) (v3api.Project, bool, error) {
	scope, err := s.findProject(ctx, ref)
	if err != nil {
		return v3api.Project{}, false, err
	}
	toggle := s.store.Unstar
	if on {
		toggle = s.store.Star
	}
	changed, err := toggle(ctx, scope.user.ID, scope.project.ID)
	if err != nil || !changed {
		return v3api.Project{}, false, err
	}
	p, err := s.store.GetProject(ctx, scope.project.ID)
	if err != nil {
		return v3api.Project{}, false, err
	}
	out, err := s.oneProject(ctx, p, false)
	return out, true, err
}

// ShareProject shares with a group; a refused share is 409 with the first
// full error message, as 8.7 answered.
func (s *Server) ShareProject(ctx context.Context, req v3api.ShareProjectRequestObject) (v3api.ShareProjectResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	if scope.project.Namespace.ShareWithGroupLock {
		return nil, renderAPIError(400, "The project sharing with group is disabled")
	}
	link, err := s.store.ShareProject(ctx, scope.project.ID, int64(req.JSONBody.GroupID), req.JSONBody.GroupAccess)
	var v *persistence.ValidationError
	if errors.As(err, &v) {
		return nil, conflict(firstFullMessage(v))
	}
	if err != nil {
		return nil, err
	}
	return v3api.ShareProject201JSONResponse{ID: int(link.ID), ProjectID: int(link.ProjectID), GroupID: int(link.GroupID), GroupAccess: link.GroupAccess}, nil
}

// firstFullMessage is Rails' errors.full_messages.first: the attribute,
// humanized, then the message.
func firstFullMessage(v *persistence.ValidationError) string {
	names := v.FieldNames()
	if len(names) == 0 {
		return ""
	}
	f := names[0]
	return humanize(f) + " " + v.Fields[f][0]
}

func humanize(attr string) string {
	if len(attr) > 3 && attr[len(attr)-3:] == "_id" {
		attr = attr[:len(attr)-3]
	}
	b := []byte(attr)
	for i := range b {
		if b[i] == '_' {
			b[i] = ' '
		}
	}
	if len(b) > 0 && b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

// ListProjectUsers lists the users of the project's team: its members and
// its group's.
func (s *Server) ListProjectUsers(ctx context.Context, req v3api.ListProjectUsersRequestObject) (v3api.ListProjectUsersResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	users, total, err := s.store.ListProjectUsers(ctx, scope.project, deref(req.Params.Search), pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.UserBasic, len(users))
	for i := range users {
		body[i] = s.presentUserBasic(&users[i])
	}
	return v3api.ListProjectUsers200JSONResponse{Body: body, Headers: v3api.ListProjectUsers200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

// ListProjectEvents is the project's feed, newest first.
func (s *Server) ListProjectEvents(ctx context.Context, req v3api.ListProjectEventsRequestObject) (v3api.ListProjectEventsResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	events, total, err := s.store.ListProjectEvents(ctx, scope.project.ID, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Event, len(events))
	authors := map[int64]*persistence.User{}
	for i := range events {
		e := &events[i]
		out := v3api.Event{
			Title: e.Title, ProjectID: int(scope.project.ID), ActionName: eventActionName(e),
			TargetType: e.TargetType, AuthorID: int(e.AuthorID), CreatedAt: apitime.From(e.CreatedAt),
		}
		if e.TargetID != nil {
			id := int(*e.TargetID)
			out.TargetID = &id
		}
		if out.TargetTitle, err = s.store.EventTargetTitle(ctx, e); err != nil {
			return nil, err
		}
		if e.Data != nil {
			var data v3api.PushData
			if json.Unmarshal([]byte(*e.Data), &data) == nil {
				out.Data = &data
			}
		}
		if e.TargetType != nil && *e.TargetType == "Note" && e.TargetID != nil {
			// 8.7 exposed the note of a note event while it exists.
			if n, err := s.store.GetNoteByID(ctx, *e.TargetID); err == nil {
				note := v3api.EventNote(s.presentNote(n))
				out.Note = &note
			}
		}
		author, ok := authors[e.AuthorID]
		if !ok {
			if u, err := s.store.GetUser(ctx, e.AuthorID); err == nil {
				author = u
			}
			authors[e.AuthorID] = author
		}
		if author != nil {
			basic := s.presentUserBasic(author)
			out.Author = &basic
			out.AuthorUsername = &author.Username
		}
		body[i] = out
	}
	return v3api.ListProjectEvents200JSONResponse{Body: body, Headers: v3api.ListProjectEvents200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}
