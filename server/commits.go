package server

// Repository commits, their diffs and statuses: doc/api/commits.md
// (GitLab CE 8.7, lib/api/commits.rb and lib/api/commit_statuses.rb).

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server/apitime"
)

// commitTitle is 8.7's Commit#title: the first line, or the first 80
// characters and "…" when that line is longer than 100.
func commitTitle(message string) string {
	if strings.TrimSpace(message) == "" {
		return "--no commit message"
	}
	first, _, hasBreak := strings.Cut(message, "\n")
	if (!hasBreak && utf8.RuneCountInString(message) > 100) || (hasBreak && utf8.RuneCountInString(first) > 100) {
		return string([]rune(message)[:80]) + "…"
	}
	return first
}

func presentRepoCommit(c *gitstore.Commit) v3api.RepoCommit {
	return v3api.RepoCommit{ID: c.ID, ShortID: c.ID[:min(11, len(c.ID))], Title: commitTitle(c.Message),
		AuthorName: c.AuthorName, AuthorEmail: c.AuthorEmail, CreatedAt: c.CommittedDate.Format(rawTime), Message: c.Message}
}

func presentRepoCommitDetail(c *gitstore.Commit, status *string) v3api.RepoCommitDetail {
	b := presentRepoCommit(c)
	return v3api.RepoCommitDetail{ID: b.ID, ShortID: b.ShortID, Title: b.Title, AuthorName: b.AuthorName,
		AuthorEmail: b.AuthorEmail, CreatedAt: b.CreatedAt, Message: b.Message, ParentIDs: c.ParentIDs,
		CommittedDate: c.CommittedDate.Format(rawTime), AuthoredDate: c.AuthoredDate.Format(rawTime), Status: status}
}

func presentRepoDiff(d *gitstore.Diff) v3api.RepoDiff {
	a, b := d.AMode, d.BMode
	return v3api.RepoDiff{OldPath: d.OldPath, NewPath: d.NewPath, AMode: &a, BMode: &b, Diff: d.Text,
		NewFile: d.NewFile, RenamedFile: d.Renamed, DeletedFile: d.Deleted}
}

func (s *Server) presentCommitStatus(cs *persistence.CommitStatus) v3api.CommitStatus {
	out := v3api.CommitStatus{ID: int(cs.ID), Sha: cs.SHA, Ref: cs.Ref, Status: cs.Status, Name: cs.Name,
		TargetURL: cs.TargetURL, Description: cs.Description, CreatedAt: apitime.From(cs.CreatedAt),
		StartedAt: apitime.FromPtr(cs.StartedAt), FinishedAt: apitime.FromPtr(cs.FinishedAt), AllowFailure: cs.AllowFailure}
	if cs.Author != nil {
		a := s.presentUserBasic(cs.Author)
		out.Author = &a
	}
	return out
}

// findCommit is 8.7's `not_found!('Commit') unless user_project.commit(sha)`:
// the full SHA of the commit rev names.
func (s *Server) findCommit(ctx context.Context, projectID int64, rev string) (string, error) {
	if s.cfg.Repos == nil {
		return "", notFound("Commit")
	}
	sha, err := s.cfg.Repos.ResolveCommit(ctx, projectID, rev)
	if errors.Is(err, gitstore.ErrCommitNotFound) {
		return "", notFound("Commit")
	}
	return sha, err
}

func (s *Server) ListCommits(ctx context.Context, req v3api.ListCommitsRequestObject) (v3api.ListCommitsResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	body := []v3api.RepoCommit{}
	if s.cfg.Repos == nil {
		return v3api.ListCommits200JSONResponse(body), nil
	}
	ref := deref(req.Params.RefName)
	if ref == "" {
		ref = deref(scope.project.DefaultBranch)
	}
	if ref == "" {
		ref = gitstore.DefaultBranch
	}
	page, perPage := 0, 20
	if req.Params.Page != nil {
		page = *req.Params.Page
	}
	if req.Params.PerPage != nil {
		perPage = *req.Params.PerPage
	}
	commits, err := s.cfg.Repos.Log(ctx, scope.project.ID, ref, page*perPage, perPage)
	if err != nil {
		return nil, err
	}
	for i := range commits {
		body = append(body, presentRepoCommit(&commits[i]))
	}
	return v3api.ListCommits200JSONResponse(body), nil
}

func (s *Server) GetCommit(ctx context.Context, req v3api.GetCommitRequestObject) (v3api.GetCommitResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	sha, err := s.findCommit(ctx, scope.project.ID, req.Sha)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Repos.Commit(ctx, scope.project.ID, sha)
	if err != nil {
		return nil, err
	}
	status, err := s.store.CommitState(ctx, scope.project.ID, sha)
	if err != nil {
		return nil, err
	}
	return v3api.GetCommit200JSONResponse(presentRepoCommitDetail(c, status)), nil
}

func (s *Server) GetCommitDiff(ctx context.Context, req v3api.GetCommitDiffRequestObject) (v3api.GetCommitDiffResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	sha, err := s.findCommit(ctx, scope.project.ID, req.Sha)
	if err != nil {
		return nil, err
	}
	// One log record gives the first parent.
	commits, err := s.cfg.Repos.Log(ctx, scope.project.ID, sha, 0, 1)
	if err != nil {
		return nil, err
	}
	var parent string
	if len(commits) == 1 && len(commits[0].ParentIDs) > 0 {
		parent = commits[0].ParentIDs[0]
	}
	diffs, err := s.cfg.Repos.Diffs(ctx, scope.project.ID, sha, parent)
	if err != nil {
		return nil, err
	}
	body := make([]v3api.RepoDiff, len(diffs))
	for i := range diffs {
		body[i] = presentRepoDiff(&diffs[i])
	}
	return v3api.GetCommitDiff200JSONResponse(body), nil
}

// parseBoolean is Grape's parse_boolean.
func parseBoolean(v string) bool {
	switch v {
	case "true", "1", "t", "T", "TRUE", "on", "ON":
		return true
	}
	return false
}

func (s *Server) ListCommitStatuses(ctx context.Context, req v3api.ListCommitStatusesRequestObject) (v3api.ListCommitStatusesResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false) // read_commit_status is granted as download_code
	if err != nil {
		return nil, err
	}
	if _, err := s.findCommit(ctx, scope.project.ID, req.Sha); err != nil {
		return nil, err
	}
	// 8.7 looked the statuses up by the sha as given (ci_commits.where(sha:)),
	// so a branch name or a short SHA finds none.
	sha := req.Sha
	f := persistence.CommitStatusFilter{Ref: deref(req.Params.Ref), Stage: deref(req.Params.Stage),
		Name: deref(req.Params.Name), All: parseBoolean(deref(req.Params.All))}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListCommitStatuses(ctx, scope.project.ID, sha, f, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.CommitStatus, len(list))
	for i := range list {
		body[i] = s.presentCommitStatus(&list[i])
	}
	return v3api.ListCommitStatuses200JSONResponse{Body: body, Headers: v3api.ListCommitStatuses200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

// canCreateCommitStatus is create_commit_status: developers and up,
// admins; unlike push_code, archiving does not take it away in 8.7.
func (p *projectScope) canCreateCommitStatus() bool {
	return p.isAdmin() || p.level() >= persistence.AccessDeveloper
}

func (s *Server) CreateCommitStatus(ctx context.Context, req v3api.CreateCommitStatusRequestObject) (v3api.CreateCommitStatusResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if !scope.canCreateCommitStatus() {
		return nil, forbidden()
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	if strings.TrimSpace(b.State) == "" {
		return nil, badRequestNotGiven("state")
	}
	sha, err := s.findCommit(ctx, scope.project.ID, req.Sha)
	if err != nil {
		return nil, err
	}
	pipelineRef := deref(b.Ref)
	if b.Ref == nil {
		pipelineRef, err = s.cfg.Repos.FirstBranchContaining(ctx, scope.project.ID, sha)
		if err != nil {
			return nil, err
		}
		if pipelineRef == "" {
			return nil, notFound("References for commit")
		}
	}
	lookupName := b.Name
	if lookupName == nil {
		lookupName = b.Context
	}
	name := present(b.Name)
	if name == nil {
		name = present(b.Context)
	}
	cs, err := s.store.ReportCommitStatus(ctx, persistence.CommitStatusReport{
		ProjectID: scope.project.ID, SHA: sha, PipelineRef: pipelineRef, AuthorID: currentUser(ctx).ID,
		State: b.State, LookupName: lookupName, LookupRef: b.Ref,
		Name: name, Ref: present(b.Ref), TargetURL: present(b.TargetURL), Description: present(b.Description),
	})
	if err != nil {
		return nil, err
	}
	return v3api.CreateCommitStatus201JSONResponse(s.presentCommitStatus(cs)), nil
}

// present is a parameter 8.7's attributes_for_keys kept: given and not
// blank.
func present(v *string) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	return v
}
