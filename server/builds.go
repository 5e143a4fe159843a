package server

// Builds of a project: doc/api/builds.md (GitLab CE 8.7, lib/api/builds.rb).

import (
	"context"
	"errors"
	"strconv"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

// canReadBuild is read_build: reporters and above, or anyone who can read
// the project when its builds are public; nobody when builds are off.
func (p *projectScope) canReadBuild() bool {
	if !p.project.BuildsEnabled {
		return false
	}
	return p.isAdmin() || p.level() >= persistence.AccessReporter || (p.project.PublicBuilds && p.canRead())
}

// canUpdateBuild is update_build: developers and above.
func (p *projectScope) canUpdateBuild() bool {
	return p.project.BuildsEnabled && (p.isAdmin() || p.level() >= persistence.AccessDeveloper)
}

// buildStatuses are the statuses a scope may name (8.7's
// CommitStatus::AVAILABLE_STATUSES).
var buildStatuses = map[string]bool{"pending": true, "running": true, "failed": true, "success": true, "canceled": true}

// buildScope is 8.7's filter_builds: one status or several, each known.
func buildScope(lists ...*[]string) ([]string, error) {
	var out []string
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, s := range *l {
			if !buildStatuses[s] {
				return nil, renderAPIError(400, "Scope contains invalid value(s)")
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// projectBuild is get_build!: the project's build, or 404 Not Found.
func (s *Server) projectBuild(ctx context.Context, p *persistence.Project, id int) (*persistence.CommitStatus, error) {
	b, err := s.store.GetBuild(ctx, int64(id))
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && b.ProjectID != p.ID) {
		return nil, notFound()
	}
	return b, err
}

// buildPresenter presents builds, reading each commit and runner once.
type buildPresenter struct {
	s       *Server
	project *persistence.Project
	commits map[string]*v3api.RepoCommit
	runners map[int64]*v3api.Runner
}

func (s *Server) buildPresenter(p *persistence.Project) *buildPresenter {
	return &buildPresenter{s: s, project: p, commits: map[string]*v3api.RepoCommit{}, runners: map[int64]*v3api.Runner{}}
}

// present is 8.7's Entities::Build.
func (bp *buildPresenter) present(ctx context.Context, b *persistence.CommitStatus) (v3api.Build, error) {
	out := v3api.Build{ID: int(b.ID), Status: b.Status, Stage: b.Stage, Name: b.Name, Ref: b.Ref, Tag: b.Tag,
		CreatedAt: apitime.From(b.CreatedAt), StartedAt: apitime.FromPtr(b.StartedAt), FinishedAt: apitime.FromPtr(b.FinishedAt)}
	if b.Coverage != nil {
		c := float32(*b.Coverage)
		out.Coverage = &c
	}
	if b.Author != nil {
		u := bp.s.presentUser(b.Author)
		out.User = &u
	}
	if deref(b.ArtifactsFile) != "" {
		out.ArtifactsFile = &v3api.BuildArtifactFile{Filename: *b.ArtifactsFile, Size: int(deref(b.ArtifactsSize))}
	}
	if c, ok := bp.commits[b.SHA]; ok {
		out.Commit = c
	} else if bp.s.cfg.Repos != nil {
		gc, err := bp.s.cfg.Repos.Commit(ctx, bp.project.ID, b.SHA)
		if err == nil {
			rc := presentRepoCommit(gc)
			out.Commit = &rc
		}
		// A commit the repository lacks (pruned, or a seeded build) is null.
		bp.commits[b.SHA] = out.Commit
	}
	if b.RunnerID != nil {
		if r, ok := bp.runners[*b.RunnerID]; ok {
			out.Runner = r
		} else {
			runner, err := bp.s.store.GetRunner(ctx, *b.RunnerID)
			switch {
			case err == nil:
				pr := presentRunner(runner)
				out.Runner = &pr
			case !errors.Is(err, persistence.ErrNotFound):
				return out, err
			}
			bp.runners[*b.RunnerID] = out.Runner
		}
	}
	return out, nil
}

func (bp *buildPresenter) list(ctx context.Context, builds []persistence.CommitStatus) ([]v3api.Build, error) {
	out := make([]v3api.Build, len(builds))
	for i := range builds {
		var err error
		if out[i], err = bp.present(ctx, &builds[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) ListProjectBuilds(ctx context.Context, req v3api.ListProjectBuildsRequestObject) (v3api.ListProjectBuildsResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	statuses, err := buildScope(req.Params.Scope, req.Params.ScopeList)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListBuilds(ctx, scope.project.ID, persistence.BuildFilter{Statuses: statuses}, pg.window())
	if err != nil {
		return nil, err
	}
	body, err := s.buildPresenter(scope.project).list(ctx, list)
	if err != nil {
		return nil, err
	}
	return v3api.ListProjectBuilds200JSONResponse{Body: body, Headers: v3api.ListProjectBuilds200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) ListCommitBuilds(ctx context.Context, req v3api.ListCommitBuildsRequestObject) (v3api.ListCommitBuildsResponseObject, error) {
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canReadBuild)
	if err != nil {
		return nil, err
	}
	pl, err := s.store.FirstPipelineForSHA(ctx, scope.project.ID, req.Sha)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	statuses, err := buildScope(req.Params.Scope, req.Params.ScopeList)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListBuilds(ctx, scope.project.ID, persistence.BuildFilter{PipelineID: &pl.ID, Statuses: statuses}, pg.window())
	if err != nil {
		return nil, err
	}
	body, err := s.buildPresenter(scope.project).list(ctx, list)
	if err != nil {
		return nil, err
	}
	return v3api.ListCommitBuilds200JSONResponse{Body: body, Headers: v3api.ListCommitBuilds200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

// readableBuild finds the project (read_build) and its build.
func (s *Server) readableBuild(ctx context.Context, ref string, id int, allowed func(*projectScope) bool) (*projectScope, *persistence.CommitStatus, error) {
	scope, err := s.requireProject(ctx, ref, allowed)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.projectBuild(ctx, scope.project, id)
	return scope, b, err
}

func (s *Server) GetBuild(ctx context.Context, req v3api.GetBuildRequestObject) (v3api.GetBuildResponseObject, error) {
	scope, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canReadBuild)
	if err != nil {
		return nil, err
	}
	out, err := s.buildPresenter(scope.project).present(ctx, b)
	return v3api.GetBuild200JSONResponse(out), err
}

func (s *Server) GetBuildArtifacts(ctx context.Context, req v3api.GetBuildArtifactsRequestObject) (v3api.GetBuildArtifactsResponseObject, error) {
	_, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canReadBuild)
	if err != nil {
		return nil, err
	}
	f, size, err := s.openArtifacts(b)
	if err != nil {
		return nil, err
	}
	cd := "attachment; filename=" + deref(b.ArtifactsFile)
	return v3api.GetBuildArtifacts200ApplicationOctetStreamResponse{Body: f, ContentLength: size,
		Headers: v3api.GetBuildArtifacts200ResponseHeaders{ContentDisposition: &cd}}, nil
}

func (s *Server) GetBuildTrace(ctx context.Context, req v3api.GetBuildTraceRequestObject) (v3api.GetBuildTraceResponseObject, error) {
	_, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canReadBuild)
	if err != nil {
		return nil, err
	}
	trace, err := s.store.BuildTraceOf(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	cd := `infile; filename="` + strconv.FormatInt(b.ID, 10) + `.log"`
	return v3api.GetBuildTrace200TextResponse{Body: trace, Headers: v3api.GetBuildTrace200ResponseHeaders{ContentDisposition: &cd}}, nil
}

func (s *Server) CancelBuild(ctx context.Context, req v3api.CancelBuildRequestObject) (v3api.CancelBuildResponseObject, error) {
	scope, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canUpdateBuild)
	if err != nil {
		return nil, err
	}
	changed, err := s.store.CancelBuild(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := s.buildUpdated(ctx, b.ID); err != nil {
			return nil, err
		}
		if b, err = s.store.GetBuild(ctx, b.ID); err != nil {
			return nil, err
		}
	}
	out, err := s.buildPresenter(scope.project).present(ctx, b)
	return v3api.CancelBuild201JSONResponse(out), err
}

// retryBuild is 8.7's Ci::Build.retry: a new pending build copying build,
// by userID; ci-core's pipeline retry uses it too.
func (s *Server) retryBuild(ctx context.Context, build *persistence.CommitStatus, userID int64) (*persistence.CommitStatus, error) {
	nb, err := s.store.RetryBuild(ctx, build, userID)
	if err != nil {
		return nil, err
	}
	if err := s.buildUpdated(ctx, nb.ID); err != nil {
		return nil, err
	}
	return nb, nil
}

func (s *Server) RetryBuild(ctx context.Context, req v3api.RetryBuildRequestObject) (v3api.RetryBuildResponseObject, error) {
	scope, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canUpdateBuild)
	if err != nil {
		return nil, err
	}
	// 8.7's retryable?: builds enabled (checked with the ability) and
	// commands to run.
	if deref(b.Commands) == "" {
		return nil, forbidden("Build is not retryable")
	}
	nb, err := s.retryBuild(ctx, b, scope.user.ID)
	if err != nil {
		return nil, err
	}
	out, err := s.buildPresenter(scope.project).present(ctx, nb)
	return v3api.RetryBuild201JSONResponse(out), err
}

func (s *Server) EraseBuild(ctx context.Context, req v3api.EraseBuildRequestObject) (v3api.EraseBuildResponseObject, error) {
	scope, b, err := s.readableBuild(ctx, req.ID, req.BuildID, (*projectScope).canUpdateBuild)
	if err != nil {
		return nil, err
	}
	// 8.7's erasable?: finished, with artifacts or a trace.
	hasTrace, err := s.store.HasTrace(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	finished := b.Status == persistence.StatusSuccess || b.Status == persistence.StatusFailed || b.Status == persistence.StatusCanceled
	if !finished || (deref(b.ArtifactsFile) == "" && !hasTrace) {
		return nil, forbidden("Build is not erasable!")
	}
	if err := s.removeArtifacts(ctx, b); err != nil {
		return nil, err
	}
	if b, err = s.store.EraseBuild(ctx, b.ID, scope.user.ID); err != nil {
		return nil, err
	}
	out, err := s.buildPresenter(scope.project).present(ctx, b)
	return v3api.EraseBuild201JSONResponse(out), err
}
