package server

// Legacy CI v1 resources: the runners list (doc/ci/api/runners.md of GitLab
// CE 8.5), commits (commits.md, GitLab CE 8.0–8.2 lib/ci/api/commits.rb)
// and forks (standalone GitLab CI forks.md).

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// ListLegacyRunners is 8.0's GET /runners: every runner for admins, the
// specific runners of the projects they master for others.
func (s ciServer) ListLegacyRunners(ctx context.Context, _ civ1api.ListLegacyRunnersRequestObject) (civ1api.ListLegacyRunnersResponseObject, error) {
	u := currentUser(ctx)
	var f persistence.RunnerFilter
	if !u.Admin {
		f.ManagedBy = u.ID
	}
	rs, _, err := s.store.ListRunners(ctx, f, persistence.Page{})
	if err != nil {
		return nil, err
	}
	out := make(civ1api.ListLegacyRunners200JSONResponse, len(rs))
	for i, r := range rs {
		out[i] = civ1api.CIRunner{ID: int(r.ID), Token: r.Token}
	}
	return out, nil
}

// projectByToken is 8.0's Ci::Project.find then authenticate_project_token!.
func (s ciServer) projectByToken(ctx context.Context, id *int, token *string) (*persistence.Project, error) {
	if id == nil {
		return nil, recordNotFound()
	}
	p, err := s.store.GetProject(ctx, int64(*id))
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && !p.BuildsEnabled) {
		return nil, recordNotFound()
	}
	if err != nil {
		return nil, err
	}
	if token == nil || subtle.ConstantTimeCompare([]byte(*token), []byte(p.RunnersToken)) != 1 {
		return nil, forbidden()
	}
	return p, nil
}

func (s ciServer) ListLegacyCommits(ctx context.Context, req civ1api.ListLegacyCommitsRequestObject) (civ1api.ListLegacyCommitsResponseObject, error) {
	p, err := s.projectByToken(ctx, req.Params.ProjectID, req.Params.ProjectToken)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	pls, _, err := s.store.ListLegacyCommits(ctx, p.ID, pg.window())
	if err != nil {
		return nil, err
	}
	out, err := s.presentLegacyCommits(ctx, pls)
	return civ1api.ListLegacyCommits200JSONResponse(out), err
}

// CreateLegacyCommit builds a pushed commit as a push would, unless that
// commit was built on that ref already.
func (s ciServer) CreateLegacyCommit(ctx context.Context, req civ1api.CreateLegacyCommitRequestObject) (civ1api.CreateLegacyCommitResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.LegacyCommitBody{}
	}
	p, err := s.projectByToken(ctx, &b.ProjectID, &b.ProjectToken)
	if err != nil {
		return nil, err
	}
	originRef := strings.TrimSpace(deref(b.Data.Ref))
	sha := strings.TrimSpace(deref(b.Data.CheckoutSha))
	if sha == "" {
		sha = strings.TrimSpace(deref(b.Data.After))
	}
	switch {
	case originRef == "":
		return nil, renderAPIError(http.StatusBadRequest, "Ref can't be blank")
	case sha == "" || sha == gitstore.ZeroSHA:
		return nil, renderAPIError(http.StatusBadRequest, "Sha can't be blank")
	}
	tag := strings.HasPrefix(originRef, "refs/tags/")
	ref := strings.TrimPrefix(strings.TrimPrefix(originRef, "refs/heads/"), "refs/tags/")
	if s.cfg.Repos == nil {
		return nil, renderAPIError(http.StatusBadRequest, "Sha is not a commit of the repository")
	}
	full, err := s.cfg.Repos.ResolveCommit(ctx, p.ID, sha)
	if err != nil || !strings.HasPrefix(full, sha) {
		return nil, renderAPIError(http.StatusBadRequest, "Sha is not a commit of the repository")
	}
	pl, err := s.store.FindLegacyCommit(ctx, p.ID, full, ref)
	if errors.Is(err, persistence.ErrNotFound) {
		in := pipelineInput{Project: p, Ref: ref, SHA: full, BeforeSHA: strings.TrimSpace(deref(b.Data.Before)), Tag: tag}
		if pl, err = s.createPipeline(ctx, in); err == nil && pl == nil {
			return nil, renderAPIError(http.StatusBadRequest, "Missing .gitlab-ci.yml file")
		}
	}
	if err != nil {
		return nil, err
	}
	out, err := s.presentLegacyCommits(ctx, []persistence.Pipeline{*pl})
	if err != nil {
		return nil, err
	}
	return civ1api.CreateLegacyCommit201JSONResponse(out[0]), nil
}

// presentLegacyCommits is 8.0's Entities::CommitWithBuilds: the pipeline,
// its commit's git data, and its builds as raw records.
func (s ciServer) presentLegacyCommits(ctx context.Context, pls []persistence.Pipeline) ([]civ1api.LegacyCommit, error) {
	ids := make([]int64, len(pls))
	for i, pl := range pls {
		ids[i] = pl.ID
	}
	builds, err := s.store.LegacyCommitBuilds(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]civ1api.LegacyCommit, len(pls))
	for i, pl := range pls {
		c := civ1api.LegacyCommit{ID: int(pl.ID), Ref: pl.Ref, Sha: pl.SHA, ProjectID: int(pl.ProjectID), BeforeSha: pl.BeforeSHA,
			CreatedAt: pl.CreatedAt.UTC(), Status: pl.Status, FinishedAt: utcPtr(pl.FinishedAt), Builds: []civ1api.LegacyBuildRecord{}}
		if pl.Duration != nil {
			d := int(*pl.Duration)
			c.Duration = &d
		}
		if s.cfg.Repos != nil {
			if gc, err := s.cfg.Repos.Commit(ctx, pl.ProjectID, pl.SHA); err == nil {
				c.GitCommitMessage, c.GitAuthorName, c.GitAuthorEmail = &gc.Message, &gc.AuthorName, &gc.AuthorEmail
			}
		}
		for _, b := range builds[pl.ID] {
			c.Builds = append(c.Builds, presentLegacyBuild(&b, pl.ID))
		}
		out[i] = c
	}
	return out, nil
}

func presentLegacyBuild(b *persistence.CommitStatus, pipelineID int64) civ1api.LegacyBuildRecord {
	r := civ1api.LegacyBuildRecord{ID: int(b.ID), ProjectID: int(b.ProjectID), Ref: b.Ref, Status: b.Status,
		FinishedAt: utcPtr(b.FinishedAt), CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(), Sha: b.SHA,
		StartedAt: utcPtr(b.StartedAt), CommitID: int(pipelineID), Name: b.Name, Stage: b.Stage}
	if b.RunnerID != nil {
		id := int(*b.RunnerID)
		r.RunnerID = &id
	}
	if b.Coverage != nil {
		c := float32(*b.Coverage)
		r.Coverage = &c
	}
	r.Tag, r.AllowFailure = b.Tag, b.AllowFailure
	return r
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateLegacyFork enables builds on a fork with its origin's CI settings,
// as standalone GitLab CI's CreateProjectService did for forks.
func (s ciServer) CreateLegacyFork(ctx context.Context, req civ1api.CreateLegacyForkRequestObject) (civ1api.CreateLegacyForkResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.LegacyForkBody{}
	}
	if given, _ := ctx.Value(tokenGivenKey).(bool); !given {
		return nil, badRequestNotGiven("private_token")
	}
	origin, err := s.store.GetProject(ctx, int64(b.ProjectID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(b.ProjectToken), []byte(origin.RunnersToken)) != 1 {
		return nil, forbidden()
	}
	user := currentUser(ctx)
	if user == nil {
		return nil, notFound()
	}
	fork, err := s.forkNamed(ctx, b.Data)
	if err != nil || fork == nil || fork.ID == origin.ID {
		return nil, orNotFound(err)
	}
	rel, err := s.store.ProjectRelations(ctx, user.ID, []persistence.Project{*fork})
	if err != nil {
		return nil, err
	}
	if from, ok := rel.ForkedFrom[fork.ID]; !ok || from.ID != origin.ID {
		return nil, notFound()
	}
	scope, err := s.scopeOf(ctx, fork, user)
	if err != nil {
		return nil, err
	}
	if !scope.canRead() || !scope.canAdmin() {
		return nil, notFound()
	}
	p, _, err := s.store.EnableCI(ctx, fork.ID, &origin.ID)
	if err != nil {
		return nil, err
	}
	return civ1api.CreateLegacyFork201JSONResponse(s.presentLegacyProject(p)), nil
}

// forkNamed finds the GitLab project that the fork data names: by the path
// of web_url on this server, else by name_with_namespace.
func (s ciServer) forkNamed(ctx context.Context, d civ1api.LegacyForkData) (*persistence.Project, error) {
	path := ""
	if raw := strings.TrimSpace(deref(d.WebURL)); raw != "" {
		if u, err := url.Parse(raw); err == nil {
			path = strings.Trim(u.Path, "/")
			if base, err := url.Parse(s.cfg.ExternalURL); err == nil && base.Path != "" {
				path = strings.Trim(strings.TrimPrefix("/"+path, strings.TrimSuffix(base.Path, "/")), "/")
			}
		}
	}
	if path == "" {
		if ns, name, ok := strings.Cut(deref(d.NameWithNamespace), " / "); ok {
			path = strings.TrimSpace(ns) + "/" + strings.TrimSpace(name)
		}
	}
	if path == "" {
		return nil, nil
	}
	p, err := s.store.FindProject(ctx, path)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// orNotFound passes a real error on, and answers 404 Not Found otherwise.
func orNotFound(err error) error {
	if err != nil {
		return err
	}
	return notFound()
}
