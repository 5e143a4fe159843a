package server

// Commit comments: doc/api/commits.md, "Get the comments of a commit" and
// "Post comment to commit" (GitLab CE 8.7, lib/api/commits.rb with
// Notes::CreateService and Gitlab::Diff::Parser).

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

func (s *Server) ListCommitComments(ctx context.Context, req v3api.ListCommitCommentsRequestObject) (v3api.ListCommitCommentsResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	sha, err := s.findCommit(ctx, scope.project.ID, req.Sha)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	list, total, err := s.store.ListCommitNotes(ctx, scope.project.ID, sha, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.CommitNote, len(list))
	for i := range list {
		body[i] = s.presentCommitNote(&list[i])
	}
	return v3api.ListCommitComments200JSONResponse{Body: body, Headers: v3api.ListCommitComments200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}

func (s *Server) CreateCommitComment(ctx context.Context, req v3api.CreateCommitCommentRequestObject) (v3api.CreateCommitCommentResponseObject, error) {
	scope, err := s.codeProject(ctx, req.ID, false)
	if err != nil {
		return nil, err
	}
	if err := paramsChecked(ctx); err != nil {
		return nil, err
	}
	b := req.JSONBody
	sha, err := s.findCommit(ctx, scope.project.ID, req.Sha)
	if err != nil {
		return nil, err
	}
	n := &persistence.Note{NoteableType: persistence.NoteableCommit, CommitID: &sha, Note: b.Note}
	var lineDiff *gitstore.Diff
	if b.Path != nil && b.Line != nil && b.LineType != nil {
		if lineDiff, err = s.attachToLine(ctx, scope.project.ID, sha, n, *b.Path, rubyToI(*b.Line), *b.LineType); err != nil {
			return nil, err
		}
	}
	commit, err := s.cfg.Repos.Commit(ctx, scope.project.ID, sha)
	if err != nil {
		return nil, err
	}
	err = s.comment(ctx, scope, n, nil, func(d *noteHookData) {
		web := s.projectWebURL(scope.project)
		d.ObjectAttributes.URL = web + "/commit/" + sha + "#note_" + strconv.FormatInt(n.ID, 10)
		d.ObjectAttributes.StDiff = noteHookDiffOf(lineDiff)
		d.Commit = &noteHookCommit{ID: commit.ID, Message: commit.Message,
			Timestamp: commit.CommittedDate.Format("2006-01-02T15:04:05-07:00"), URL: web + "/commit/" + commit.ID,
			Author: pushAuthor{Name: commit.AuthorName, Email: commit.AuthorEmail}}
	})
	if err != nil {
		return nil, err
	}
	return v3api.CreateCommitComment201JSONResponse(s.presentCommitNote(n)), nil
}

// attachToLine makes n a line comment when a line of the commit's diff in
// the file whose new path is path has the type lineType and the new-side
// number line (8.7 compared new_pos whatever the type); it returns that
// file's diff, or nil when no line matched.
func (s *Server) attachToLine(ctx context.Context, projectID int64, sha string, n *persistence.Note, path string, line int, lineType string) (*gitstore.Diff, error) {
	commits, err := s.cfg.Repos.Log(ctx, projectID, sha, 0, 1)
	if err != nil {
		return nil, err
	}
	var parent string
	if len(commits) == 1 && len(commits[0].ParentIDs) > 0 {
		parent = commits[0].ParentIDs[0]
	}
	diffs, err := s.cfg.Repos.Diffs(ctx, projectID, sha, parent)
	if err != nil {
		return nil, err
	}
	for i := range diffs {
		d := &diffs[i]
		if d.NewPath != path {
			continue
		}
		for _, l := range gitstore.DiffLines(d.Text) {
			if l.NewPos == line && l.Type == lineType {
				code := gitstore.LineCode(d.NewPath, l.OldPos, l.NewPos)
				ln, typ, p := int64(l.NewPos), l.Type, d.NewPath
				n.LineCode, n.Line, n.LineType, n.Path = &code, &ln, &typ, &p
				return d, nil
			}
		}
	}
	return nil, nil
}

// rubyToI is Ruby's String#to_i: leading white space, an optional sign,
// then digits; 0 without any.
func rubyToI(v string) int {
	v = strings.TrimLeftFunc(v, unicode.IsSpace)
	end := 0
	if end < len(v) && (v[end] == '-' || v[end] == '+') {
		end++
	}
	start := end
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == start {
		return 0
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0
	}
	return n
}
