package server

// Repository tags and releases: doc/api/tags.md (GitLab CE 8.7,
// lib/api/tags.rb with CreateTagService, DeleteTagService,
// CreateReleaseService and UpdateReleaseService).

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// rawTime is how the commit object wrote its dates: milliseconds and the
// commit's own offset (Ruby's Time#xmlschema(3), never "Z").
const rawTime = "2006-01-02T15:04:05.000-07:00"

func presentRawCommit(c *gitstore.Commit) *v3api.RawCommit {
	if c == nil {
		return nil
	}
	return &v3api.RawCommit{ID: c.ID, Message: c.Message, ParentIDs: c.ParentIDs,
		AuthoredDate: c.AuthoredDate.Format(rawTime), AuthorName: c.AuthorName, AuthorEmail: c.AuthorEmail,
		CommittedDate: c.CommittedDate.Format(rawTime), CommitterName: c.CommitterName, CommitterEmail: c.CommitterEmail}
}

func presentRelease(r *persistence.Release) v3api.Release {
	return v3api.Release{TagName: r.Tag, Description: r.Description}
}

func presentRepoTag(t *gitstore.Tag, r *persistence.Release) v3api.RepoTag {
	out := v3api.RepoTag{Name: t.Name, Message: t.Message, Commit: presentRawCommit(t.Commit)}
	if r != nil {
		rel := presentRelease(r)
		out.Release = &rel
	}
	return out
}

// Tag service answers (8.7's services, rendered with render_api_error!).
var (
	errTagNameInvalid   = renderAPIError(http.StatusBadRequest, "Tag name invalid")
	errTagExists        = renderAPIError(http.StatusBadRequest, "Tag already exists")
	errInvalidReference = renderAPIError(http.StatusBadRequest, "Invalid reference name")
	errNoSuchTag        = renderAPIError(http.StatusNotFound, "No such tag")
	errTagNotRemoved    = renderAPIError(http.StatusBadRequest, "Failed to remove tag")
	errTagDoesNotExist  = renderAPIError(http.StatusNotFound, "Tag does not exist")
	errReleaseExists    = renderAPIError(http.StatusConflict, "Release already exists")
	errNoRelease        = renderAPIError(http.StatusNotFound, "Release does not exist")
)

// findTag reads a tag; a server without repositories has none.
func (s *Server) findTag(ctx context.Context, projectID int64, name string) (*gitstore.Tag, error) {
	if s.cfg.Repos == nil {
		return nil, gitstore.ErrTagNotFound
	}
	return s.cfg.Repos.Tag(ctx, projectID, name)
}

func (s *Server) ListTags(ctx context.Context, req v3api.ListTagsRequestObject) (v3api.ListTagsResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	body := []v3api.RepoTag{}
	if s.cfg.Repos == nil {
		return v3api.ListTags200JSONResponse(body), nil
	}
	tags, err := s.cfg.Repos.Tags(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(tags))
	for i := range tags {
		names[i] = tags[i].Name
	}
	releases, err := s.store.ListReleases(ctx, scope.project.ID, names)
	if err != nil {
		return nil, err
	}
	for i := range tags {
		body = append(body, presentRepoTag(&tags[i], releases[tags[i].Name]))
	}
	return v3api.ListTags200JSONResponse(body), nil
}

// release is a tag's release, or nil.
func (s *Server) release(ctx context.Context, projectID int64, tag string) (*persistence.Release, error) {
	r, err := s.store.GetRelease(ctx, projectID, tag)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

func (s *Server) GetTag(ctx context.Context, req v3api.GetTagRequestObject) (v3api.GetTagResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	tag, err := s.findTag(ctx, scope.project.ID, req.TagName)
	if errors.Is(err, gitstore.ErrTagNotFound) {
		return nil, notFound("Tag")
	}
	if err != nil {
		return nil, err
	}
	rel, err := s.release(ctx, scope.project.ID, tag.Name)
	if err != nil {
		return nil, err
	}
	return v3api.GetTag200JSONResponse(presentRepoTag(tag, rel)), nil
}

func (s *Server) CreateTag(ctx context.Context, req v3api.CreateTagRequestObject) (v3api.CreateTagResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, true)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	if s.cfg.Repos == nil {
		return nil, errInvalidReference
	}
	var message string
	if b.Message != nil {
		message = strings.TrimSpace(*b.Message)
	}
	u := currentUser(ctx)
	tagger := gitstore.Signature{Name: u.Name, Email: u.Email}
	if tagger.Name == "" {
		tagger.Name = u.Username
	}
	tag, err := s.cfg.Repos.CreateTag(ctx, scope.project.ID, b.TagName, b.Ref, message, tagger)
	switch {
	case errors.Is(err, gitstore.ErrInvalidTagName):
		return nil, errTagNameInvalid
	case errors.Is(err, gitstore.ErrTagExists):
		return nil, errTagExists
	case errors.Is(err, gitstore.ErrInvalidRef):
		return nil, errInvalidReference
	case err != nil:
		return nil, err
	}
	// The new tag is a push: 8.7's Repository#add_tag ran the git hooks
	// with the tagged commit as the new value, and its CreateTagService
	// built the commit (CreateCommitBuildsService).
	if tag.Commit != nil {
		s.afterPush(context.WithoutCancel(ctx), scope.project.ID, u, []gitstore.RefUpdate{
			{Old: gitstore.ZeroSHA, New: tag.Commit.ID, Ref: "refs/tags/" + tag.Name},
		}, true)
	}
	var rel *persistence.Release
	if b.ReleaseDescription != nil {
		rel, err = s.store.SetRelease(ctx, scope.project.ID, tag.Name, *b.ReleaseDescription)
	} else {
		rel, err = s.release(ctx, scope.project.ID, tag.Name)
	}
	if err != nil {
		return nil, err
	}
	return v3api.CreateTag201JSONResponse(presentRepoTag(tag, rel)), nil
}

// DeleteTag removes the tag, then its release; it answers the name as
// given.
func (s *Server) DeleteTag(ctx context.Context, req v3api.DeleteTagRequestObject) (v3api.DeleteTagResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, true)
	if err != nil {
		return nil, err
	}
	if s.cfg.Repos == nil {
		return nil, errNoSuchTag
	}
	// What the tag pointed at, for the push its removal is.
	target, _ := s.cfg.Repos.RefTarget(ctx, scope.project.ID, "refs/tags/"+req.TagName)
	err = s.cfg.Repos.DeleteTag(ctx, scope.project.ID, req.TagName)
	switch {
	case errors.Is(err, gitstore.ErrTagNotFound):
		return nil, errNoSuchTag
	case errors.Is(err, gitstore.ErrTagNotDeleted):
		s.log.Warn("delete tag", "project_id", scope.project.ID, "tag", req.TagName, "err", err)
		return nil, errTagNotRemoved
	case err != nil:
		return nil, err
	}
	if err := s.store.DeleteRelease(ctx, scope.project.ID, req.TagName); err != nil {
		return nil, err
	}
	if target != "" {
		s.afterPush(context.WithoutCancel(ctx), scope.project.ID, currentUser(ctx), []gitstore.RefUpdate{
			{Old: target, New: gitstore.ZeroSHA, Ref: "refs/tags/" + req.TagName},
		}, false)
	}
	return v3api.DeleteTag200JSONResponse{TagName: req.TagName}, nil
}

// releaseTarget runs the checks shared by creating and updating a
// release: access, parameters, then the tag.
func (s *Server) releaseTarget(ctx context.Context, ref, tagName string) (*projectScope, error) {
	scope, err := s.codeProject(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	_, err = s.findTag(ctx, scope.project.ID, tagName)
	if errors.Is(err, gitstore.ErrTagNotFound) {
		return nil, errTagDoesNotExist
	}
	if err != nil {
		return nil, err
	}
	return scope, nil
}

func (s *Server) CreateRelease(ctx context.Context, req v3api.CreateReleaseRequestObject) (v3api.CreateReleaseResponseObject, error) {
	scope, err := s.releaseTarget(ctx, req.ID, req.TagName)
	if err != nil {
		return nil, err
	}
	r, err := s.store.CreateRelease(ctx, scope.project.ID, req.TagName, req.JSONBody.Description)
	if errors.Is(err, persistence.ErrReleaseExists) {
		return nil, errReleaseExists
	}
	if err != nil {
		return nil, err
	}
	return v3api.CreateRelease201JSONResponse(presentRelease(r)), nil
}

func (s *Server) UpdateRelease(ctx context.Context, req v3api.UpdateReleaseRequestObject) (v3api.UpdateReleaseResponseObject, error) {
	scope, err := s.releaseTarget(ctx, req.ID, req.TagName)
	if err != nil {
		return nil, err
	}
	r, err := s.store.UpdateRelease(ctx, scope.project.ID, req.TagName, req.JSONBody.Description)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, errNoRelease
	}
	if err != nil {
		return nil, err
	}
	return v3api.UpdateRelease200JSONResponse(presentRelease(r)), nil
}
