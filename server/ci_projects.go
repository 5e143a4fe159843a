package server

// Legacy CI projects: doc/ci/api/projects.md of GitLab CE 8.5 and standalone
// GitLab CI 7.14 (GitLab CE 8.0–8.2, lib/ci/api/projects.rb). A CI project
// is the GitLab project with builds enabled, as GitLab 8.3 migrated it.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/persistence"
)

// legacyUnauthorized is 8.0's unauthorized!: the caller may not read or
// manage the GitLab project behind a CI project.
func legacyUnauthorized() *apiError { return unauthorized() }

// findCIProject is 8.0's Ci::Project.find: the GitLab project of that id
// with builds enabled, as the current user sees it.
func (s *Server) findCIProject(ctx context.Context, id int64) (*projectScope, error) {
	p, err := s.store.GetProject(ctx, id)
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && !p.BuildsEnabled) {
		return nil, recordNotFound()
	}
	if err != nil {
		return nil, err
	}
	return s.scopeOf(ctx, p, currentUser(ctx))
}

// manageCIProject is findCIProject then 8.0's can_manage_project?
// (masters and above).
func (s *Server) manageCIProject(ctx context.Context, id int64) (*projectScope, error) {
	scope, err := s.findCIProject(ctx, id)
	if err != nil {
		return nil, err
	}
	if !scope.canRead() || !scope.canAdmin() {
		return nil, legacyUnauthorized()
	}
	return scope, nil
}

// presentLegacyProject is 8.0's Ci::API::Entities::Project, made of the
// GitLab project.
func (s *Server) presentLegacyProject(p *persistence.Project) civ1api.LegacyCIProject {
	ref := deref(p.DefaultBranch)
	if ref == "" {
		ref = "master"
	}
	return civ1api.LegacyCIProject{
		ID: int(p.ID), Name: p.Name, Timeout: int(p.BuildTimeout), Token: p.RunnersToken, DefaultRef: ref,
		GitlabURL: s.projectWebURL(p), Path: p.PathWithNamespace(), Public: p.PublicBuilds,
		SSHURLToRepo: s.sshURL(p), GitlabID: int(p.ID),
	}
}

// legacyProjects is 8.0's Ci::Project.from_gitlab: a page of the user's
// GitLab projects, then those with builds.
func (s ciServer) legacyProjects(ctx context.Context, scope string, page, perPage *int) ([]civ1api.LegacyCIProject, error) {
	pg := newPager(page, perPage)
	ps, _, err := s.store.ListProjects(ctx, persistence.ProjectFilter{Scope: scope, UserID: currentUser(ctx).ID}, pg.window())
	if err != nil {
		return nil, err
	}
	out := []civ1api.LegacyCIProject{}
	for i := range ps {
		if ps[i].BuildsEnabled {
			out = append(out, s.presentLegacyProject(&ps[i]))
		}
	}
	return out, nil
}

func (s ciServer) ListLegacyProjects(ctx context.Context, req civ1api.ListLegacyProjectsRequestObject) (civ1api.ListLegacyProjectsResponseObject, error) {
	out, err := s.legacyProjects(ctx, "authorized", req.Params.Page, req.Params.PerPage)
	return civ1api.ListLegacyProjects200JSONResponse(out), err
}

func (s ciServer) ListOwnedLegacyProjects(ctx context.Context, req civ1api.ListOwnedLegacyProjectsRequestObject) (civ1api.ListOwnedLegacyProjectsResponseObject, error) {
	out, err := s.legacyProjects(ctx, "owned", req.Params.Page, req.Params.PerPage)
	return civ1api.ListOwnedLegacyProjects200JSONResponse(out), err
}

func (s ciServer) GetLegacyProject(ctx context.Context, req civ1api.GetLegacyProjectRequestObject) (civ1api.GetLegacyProjectResponseObject, error) {
	scope, err := s.findCIProject(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	if !scope.canRead() {
		return nil, legacyUnauthorized()
	}
	return civ1api.GetLegacyProject200JSONResponse(s.presentLegacyProject(scope.project)), nil
}

// CreateLegacyProject enables builds on the GitLab project: that is what a
// CI project has been since 8.3.
func (s ciServer) CreateLegacyProject(ctx context.Context, req civ1api.CreateLegacyProjectRequestObject) (civ1api.CreateLegacyProjectResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.LegacyCreateProjectBody{}
	}
	// 8.0 took path, or derived it from gitlab_url (and failed without both).
	if strings.TrimSpace(deref(b.Path)) == "" && strings.TrimSpace(deref(b.GitlabURL)) == "" {
		return nil, renderAPIError(http.StatusBadRequest, "Path can't be blank")
	}
	p, err := s.store.GetProject(ctx, int64(b.GitlabID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, legacyUnauthorized()
	}
	if err != nil {
		return nil, err
	}
	scope, err := s.scopeOf(ctx, p, currentUser(ctx))
	if err != nil {
		return nil, err
	}
	if !scope.canRead() || !scope.canAdmin() {
		return nil, legacyUnauthorized()
	}
	p, wasOff, err := s.store.EnableCI(ctx, p.ID, nil)
	if err != nil {
		return nil, err
	}
	if !wasOff {
		return nil, renderAPIError(http.StatusBadRequest, "Gitlab has already been taken")
	}
	return civ1api.CreateLegacyProject201JSONResponse(s.presentLegacyProject(p)), nil
}

// UpdateLegacyProject changes nothing: what 8.0 stored on a CI project is
// the GitLab project's own since 8.3.
func (s ciServer) UpdateLegacyProject(ctx context.Context, req civ1api.UpdateLegacyProjectRequestObject) (civ1api.UpdateLegacyProjectResponseObject, error) {
	scope, err := s.manageCIProject(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	return civ1api.UpdateLegacyProject200JSONResponse(s.presentLegacyProject(scope.project)), nil
}

// DeleteLegacyProject disables builds; pipelines and builds stay.
func (s ciServer) DeleteLegacyProject(ctx context.Context, req civ1api.DeleteLegacyProjectRequestObject) (civ1api.DeleteLegacyProjectResponseObject, error) {
	scope, err := s.manageCIProject(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	off := false
	if _, err := s.store.UpdateProject(ctx, scope.project.ID, persistence.ProjectUpdate{BuildsEnabled: &off}); err != nil {
		return nil, err
	}
	return civ1api.DeleteLegacyProject200JSONResponse(s.presentLegacyProject(scope.project)), nil
}

// legacyRunner is 8.0's project and runner lookups, then can_manage_project?.
func (s ciServer) legacyRunner(ctx context.Context, projectID int64, runnerID int) (*projectScope, *persistence.Runner, error) {
	scope, err := s.findCIProject(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.store.GetRunner(ctx, int64(runnerID))
	if err != nil {
		return nil, nil, err
	}
	if !scope.canRead() || !scope.canAdmin() {
		return nil, nil, legacyUnauthorized()
	}
	return scope, r, nil
}

func (s ciServer) LinkLegacyProjectRunner(ctx context.Context, req civ1api.LinkLegacyProjectRunnerRequestObject) (civ1api.LinkLegacyProjectRunnerResponseObject, error) {
	scope, r, err := s.legacyRunner(ctx, int64(req.ID), req.RunnerID)
	if err != nil {
		return nil, err
	}
	// 8.0 let any manager link any runner; only runners the caller may
	// use, as the v3 API has it, so nobody's builds land on another's box.
	if !scope.user.Admin {
		ok := !r.IsShared
		if ok {
			if ok, err = s.canManageRunner(ctx, r); err != nil {
				return nil, err
			}
		}
		if !ok {
			return nil, legacyUnauthorized()
		}
	}
	rp, created, err := s.store.EnableRunner(ctx, r.ID, scope.project.ID)
	if err != nil {
		return nil, err
	}
	if !created {
		// 8.0 joined the CI project's errors (none) rather than the link's.
		return nil, renderAPIError(http.StatusBadRequest, "")
	}
	return civ1api.LinkLegacyProjectRunner201JSONResponse{ID: int(rp.ID), ProjectID: int(rp.ProjectID), RunnerID: int(rp.RunnerID)}, nil
}

func (s ciServer) UnlinkLegacyProjectRunner(ctx context.Context, req civ1api.UnlinkLegacyProjectRunnerRequestObject) (civ1api.UnlinkLegacyProjectRunnerResponseObject, error) {
	scope, r, err := s.legacyRunner(ctx, int64(req.ID), req.RunnerID)
	if err != nil {
		return nil, err
	}
	rp, err := s.store.DisableRunner(ctx, scope.project.ID, r.ID, false)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	return civ1api.UnlinkLegacyProjectRunner200JSONResponse{ID: int(rp.ID), ProjectID: int(rp.ProjectID), RunnerID: int(rp.RunnerID),
		CreatedAt: rp.CreatedAt, UpdatedAt: rp.UpdatedAt}, nil
}

// CreateLegacyWebHook adds a project hook for build events, as GitLab 8.3
// migrated CI web hooks.
func (s ciServer) CreateLegacyWebHook(ctx context.Context, req civ1api.CreateLegacyWebHookRequestObject) (civ1api.CreateLegacyWebHookResponseObject, error) {
	scope, err := s.manageCIProject(ctx, int64(req.ProjectID))
	if err != nil {
		return nil, err
	}
	var url string
	if req.JSONBody != nil {
		url = strings.TrimSpace(req.JSONBody.WebHook)
	}
	if !validHookURL(url) {
		return nil, renderAPIError(http.StatusBadRequest, "Url is invalid")
	}
	on, off := true, false
	h, err := s.store.CreateHook(ctx, &scope.project.ID, persistence.HookParams{URL: &url, PushEvents: &off, BuildEvents: &on})
	if err != nil {
		return nil, err
	}
	return civ1api.CreateLegacyWebHook201JSONResponse{ID: int(h.ID), ProjectID: int(scope.project.ID), URL: h.URL}, nil
}
