package server

// Runners: doc/api/runners.md (GitLab CE 8.7, lib/api/runners.rb).

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

// runnerFilter is 8.7's filter_runners: the scope must be one of the
// available scopes less those the list excludes.
func runnerFilter(scope *string, without ...string) (persistence.RunnerFilter, error) {
	var f persistence.RunnerFilter
	if scope == nil || *scope == "" {
		return f, nil
	}
	if !slices.Contains(persistence.RunnerScopes, *scope) || slices.Contains(without, *scope) {
		return f, renderAPIError(400, "Scope contains invalid value")
	}
	f.Scope = *scope
	return f, nil
}

func (s *Server) runnerPage(ctx context.Context, f persistence.RunnerFilter, page, perPage *int) ([]v3api.Runner, pageHeaders, error) {
	pg := newPager(page, perPage)
	rs, total, err := s.store.ListRunners(ctx, f, pg.window())
	if err != nil {
		return nil, pageHeaders{}, err
	}
	body := make([]v3api.Runner, len(rs))
	for i := range rs {
		body[i] = presentRunner(&rs[i])
	}
	return body, s.headers(ctx, pg, total), nil
}

func (s *Server) ListRunners(ctx context.Context, req v3api.ListRunnersRequestObject) (v3api.ListRunnersResponseObject, error) {
	f, err := runnerFilter(req.Params.Scope, "specific", "shared")
	if err != nil {
		return nil, err
	}
	f.ManagedBy = currentUser(ctx).ID
	body, h, err := s.runnerPage(ctx, f, req.Params.Page, req.Params.PerPage)
	if err != nil {
		return nil, err
	}
	return v3api.ListRunners200JSONResponse{Body: body, Headers: v3api.ListRunners200ResponseHeaders(h)}, nil
}

func (s *Server) ListAllRunners(ctx context.Context, req v3api.ListAllRunnersRequestObject) (v3api.ListAllRunnersResponseObject, error) {
	f, err := runnerFilter(req.Params.Scope)
	if err != nil {
		return nil, err
	}
	body, h, err := s.runnerPage(ctx, f, req.Params.Page, req.Params.PerPage)
	if err != nil {
		return nil, err
	}
	return v3api.ListAllRunners200JSONResponse{Body: body, Headers: v3api.ListAllRunners200ResponseHeaders(h)}, nil
}

// canManageRunner is 8.7's user_can_access_runner? (admins aside).
func (s *Server) canManageRunner(ctx context.Context, r *persistence.Runner) (bool, error) {
	return s.store.RunnerManagedBy(ctx, r.ID, currentUser(ctx).ID)
}

func (s *Server) GetRunner(ctx context.Context, req v3api.GetRunnerRequestObject) (v3api.GetRunnerResponseObject, error) {
	r, err := s.store.GetRunner(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	// authenticate_show_runner!
	if !r.IsShared && !currentUser(ctx).Admin {
		ok, err := s.canManageRunner(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, forbidden("No access granted")
		}
	}
	d, err := s.presentRunnerDetails(ctx, r)
	if err != nil {
		return nil, err
	}
	return v3api.GetRunner200JSONResponse(d), nil
}

func (s *Server) UpdateRunner(ctx context.Context, req v3api.UpdateRunnerRequestObject) (v3api.UpdateRunnerResponseObject, error) {
	r, err := s.store.GetRunner(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	// authenticate_update_runner!
	if !currentUser(ctx).Admin {
		if r.IsShared {
			return nil, forbidden("Runner is shared")
		}
		ok, err := s.canManageRunner(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, forbidden("No access granted")
		}
	}
	var u persistence.RunnerUpdate
	if b := req.JSONBody; b != nil {
		u.Description, u.Active = b.Description, b.Active
		if b.TagList != nil {
			tags := joinTags(*b.TagList)
			u.TagList = &tags
		}
	}
	if r, err = s.store.UpdateRunner(ctx, r.ID, u); err != nil {
		return nil, err
	}
	d, err := s.presentRunnerDetails(ctx, r)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateRunner200JSONResponse(d), nil
}

func (s *Server) DeleteRunner(ctx context.Context, req v3api.DeleteRunnerRequestObject) (v3api.DeleteRunnerResponseObject, error) {
	r, err := s.store.GetRunner(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	// authenticate_delete_runner!
	if !currentUser(ctx).Admin {
		if r.IsShared {
			return nil, forbidden("Runner is shared")
		}
		projects, err := s.store.RunnerProjectIDs(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if len(projects) > 1 {
			return nil, forbidden("Runner associated with more than one project")
		}
		ok, err := s.canManageRunner(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, forbidden("No access granted")
		}
	}
	if r, err = s.store.DeleteRunner(ctx, r.ID); err != nil {
		return nil, err
	}
	return v3api.DeleteRunner200JSONResponse(presentRunner(r)), nil
}

func (s *Server) ListProjectRunners(ctx context.Context, req v3api.ListProjectRunnersRequestObject) (v3api.ListProjectRunnersResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	f, err := runnerFilter(req.Params.Scope)
	if err != nil {
		return nil, err
	}
	f.ProjectID = scope.project.ID
	body, h, err := s.runnerPage(ctx, f, req.Params.Page, req.Params.PerPage)
	if err != nil {
		return nil, err
	}
	return v3api.ListProjectRunners200JSONResponse{Body: body, Headers: v3api.ListProjectRunners200ResponseHeaders(h)}, nil
}

func (s *Server) EnableProjectRunner(ctx context.Context, req v3api.EnableProjectRunnerRequestObject) (v3api.EnableProjectRunnerResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	r, err := s.store.GetRunner(ctx, int64(req.JSONBody.RunnerID))
	if err != nil {
		return nil, err
	}
	// authenticate_enable_runner!
	if r.IsShared {
		return nil, forbidden("Runner is shared")
	}
	if !scope.user.Admin {
		ok, err := s.canManageRunner(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, forbidden("No access granted")
		}
	}
	if _, _, err := s.store.EnableRunner(ctx, r.ID, scope.project.ID); err != nil {
		return nil, err
	}
	return v3api.EnableProjectRunner201JSONResponse(presentRunner(r)), nil
}

func (s *Server) DisableProjectRunner(ctx context.Context, req v3api.DisableProjectRunnerRequestObject) (v3api.DisableProjectRunnerResponseObject, error) {
	scope, err := s.adminProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	// find_by(runner_id:): anything that is not a linked runner's id is
	// "Runner Not Found".
	id, err := strconv.ParseInt(req.RunnerID, 10, 64)
	if err != nil {
		return nil, notFound("Runner")
	}
	_, err = s.store.DisableRunner(ctx, scope.project.ID, id, true)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return nil, notFound("Runner")
	case errors.Is(err, persistence.ErrLastRunnerProject):
		return nil, forbidden("Only one project associated with the runner. Please remove the runner instead")
	case err != nil:
		return nil, err
	}
	r, err := s.store.GetRunner(ctx, id)
	if err != nil {
		return nil, err
	}
	return v3api.DisableProjectRunner200JSONResponse(presentRunner(r)), nil
}

// joinTags stores a tag list the way the runner protocol keeps it:
// comma-separated, trimmed, without blanks or repeats.
func joinTags(tags []string) string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		for _, part := range strings.Split(t, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return strings.Join(out, ",")
}

// splitTags is a stored tag list as the API shows it.
func splitTags(list string) []string {
	tags := []string{}
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// presentRunner is 8.7's Entities::Runner.
func presentRunner(r *persistence.Runner) v3api.Runner {
	return v3api.Runner{ID: int(r.ID), Description: r.Description, Active: r.Active, IsShared: r.IsShared, Name: r.Name}
}

// presentRunnerDetails is 8.7's Entities::RunnerDetails for the current
// user: the token for admins and for specific runners; all the runner's
// projects for admins, else those of them the user is a member of.
func (s *Server) presentRunnerDetails(ctx context.Context, r *persistence.Runner) (v3api.RunnerDetails, error) {
	user := currentUser(ctx)
	d := v3api.RunnerDetails{
		ID: int(r.ID), Description: r.Description, Active: r.Active, IsShared: r.IsShared, Name: r.Name,
		TagList: splitTags(r.TagList), Version: r.Version, Revision: r.Revision, Platform: r.Platform,
		Architecture: r.Architecture, ContactedAt: apitime.FromPtr(r.ContactedAt),
		Projects: []v3api.BasicProjectDetails{},
	}
	if user.Admin || !r.IsShared {
		tok := r.Token
		d.Token = &tok
	}
	ids, err := s.store.RunnerProjectIDs(ctx, r.ID)
	if err != nil {
		return d, err
	}
	for _, id := range ids {
		p, err := s.store.GetProject(ctx, id)
		if errors.Is(err, persistence.ErrNotFound) {
			continue
		}
		if err != nil {
			return d, err
		}
		if !user.Admin {
			a, err := s.store.ProjectAccess(ctx, user.ID, p)
			if err != nil {
				return d, err
			}
			if a.Level == 0 {
				continue
			}
		}
		d.Projects = append(d.Projects, presentBasicProject(p))
	}
	return d, nil
}
