package server

// Notes on project snippets and issues: doc/api/notes.md (GitLab CE 8.7,
// lib/api/notes.rb with Notes::CreateService, Notes::UpdateService and
// Notes::DeleteService; the Note abilities of app/models/ability.rb), and
// the note hook payload of Gitlab::NoteDataBuilder
// (doc/web_hooks/web_hooks.md, "Comment events").

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server/apitime"
)

// canAdminNote is admin_note on a note: its author, or masters, owners and
// admins of the project.
func (p *projectScope) canAdminNote(n *persistence.Note) bool {
	if p.user != nil && n.AuthorID != nil && *n.AuthorID == p.user.ID {
		return true
	}
	return p.canAdmin()
}

// projectNote is user_project.notes.find: any note of the project, or
// 8.7's failed find.
func (s *Server) projectNote(ctx context.Context, scope *projectScope, id int) (*persistence.Note, error) {
	n, err := s.store.GetProjectNote(ctx, scope.project.ID, int64(id))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	return n, err
}

// noteOn is @noteable.notes.find.
func (s *Server) noteOn(ctx context.Context, noteableType string, noteableID int64, id int) (*persistence.Note, error) {
	n, err := s.store.GetNote(ctx, noteableType, noteableID, int64(id))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	return n, err
}

// listNotes is one page of a noteable's notes.
func (s *Server) listNotes(ctx context.Context, noteableType string, noteableID int64, pg pager) ([]v3api.Note, pageHeaders, error) {
	list, total, err := s.store.ListNotes(ctx, noteableType, noteableID, pg.window())
	if err != nil {
		return nil, pageHeaders{}, err
	}
	body := make([]v3api.Note, len(list))
	for i := range list {
		body[i] = s.presentNote(&list[i])
	}
	return body, s.headers(ctx, pg, total), nil
}

// comment saves the caller's note on a noteable of scope's project, with
// its event, and queues its note hook; hookFor adds the noteable's part of
// the payload.
func (s *Server) comment(ctx context.Context, scope *projectScope, n *persistence.Note, createdAt *string, noteable func(*noteHookData)) error {
	user := currentUser(ctx)
	projectID := scope.project.ID
	n.ProjectID, n.AuthorID = &projectID, &user.ID
	if t := parseTime(createdAt); t != nil && scope.ownsProject() {
		n.CreatedAt = t.UTC().Truncate(time.Millisecond)
	}
	if err := s.store.Comment(ctx, n); err != nil {
		return err
	}
	data := s.noteHookData(scope.project, user, n)
	noteable(&data)
	s.projectHook(ctx, projectID, "note_events", "Note Hook", data)
	return nil
}

// updateNote and deleteNote are the PUT and DELETE of every noteable: the
// note among all of the project's, admin_note, then the change.
func (s *Server) updateNote(ctx context.Context, projectRef string, noteID int, body string) (*persistence.Note, error) {
	scope, err := s.findProject(ctx, projectRef)
	if err != nil {
		return nil, err
	}
	n, err := s.projectNote(ctx, scope, noteID)
	if err != nil {
		return nil, err
	}
	if !scope.canAdminNote(n) {
		return nil, forbidden()
	}
	if n.System {
		return n, nil // 8.7's UpdateService left system notes (not editable?) as they were
	}
	if err := s.store.UpdateNoteBody(ctx, n, body, currentUser(ctx).ID); err != nil {
		return nil, err
	}
	return n, nil
}

func (s *Server) deleteNote(ctx context.Context, projectRef string, noteID int) (*persistence.Note, error) {
	scope, err := s.findProject(ctx, projectRef)
	if err != nil {
		return nil, err
	}
	n, err := s.projectNote(ctx, scope, noteID)
	if err != nil {
		return nil, err
	}
	if !scope.canAdminNote(n) {
		return nil, forbidden()
	}
	if err := s.store.DeleteNote(ctx, n.ID); err != nil {
		return nil, err
	}
	return n, nil
}

// ---- snippet notes ----

// snippetNoteable finds the project and the snippet the caller sees.
func (s *Server) snippetNoteable(ctx context.Context, projectRef string, snippetID int) (*projectScope, *persistence.Snippet, error) {
	scope, err := s.findProject(ctx, projectRef)
	if err != nil {
		return nil, nil, err
	}
	sn, err := s.findSnippet(ctx, scope, snippetID)
	if err != nil {
		return nil, nil, err
	}
	return scope, sn, nil
}

func (s *Server) ListSnippetNotes(ctx context.Context, req v3api.ListSnippetNotesRequestObject) (v3api.ListSnippetNotesResponseObject, error) {
	_, sn, err := s.snippetNoteable(ctx, req.ID, req.SnippetID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	body, h, err := s.listNotes(ctx, persistence.NoteableSnippet, sn.ID, pg)
	if err != nil {
		return nil, err
	}
	return v3api.ListSnippetNotes200JSONResponse{Body: body, Headers: v3api.ListSnippetNotes200ResponseHeaders(h)}, nil
}

func (s *Server) GetSnippetNote(ctx context.Context, req v3api.GetSnippetNoteRequestObject) (v3api.GetSnippetNoteResponseObject, error) {
	_, sn, err := s.snippetNoteable(ctx, req.ID, req.SnippetID)
	if err != nil {
		return nil, err
	}
	n, err := s.noteOn(ctx, persistence.NoteableSnippet, sn.ID, req.NoteID)
	if err != nil {
		return nil, err
	}
	return v3api.GetSnippetNote200JSONResponse(s.presentNote(n)), nil
}

func (s *Server) CreateSnippetNote(ctx context.Context, req v3api.CreateSnippetNoteRequestObject) (v3api.CreateSnippetNoteResponseObject, error) {
	scope, sn, err := s.snippetNoteable(ctx, req.ID, req.SnippetID)
	if err != nil {
		return nil, err
	}
	n := &persistence.Note{NoteableType: persistence.NoteableSnippet, NoteableID: &sn.ID, Note: req.JSONBody.Body}
	err = s.comment(ctx, scope, n, req.JSONBody.CreatedAt, func(d *noteHookData) {
		d.ObjectAttributes.URL = s.projectWebURL(scope.project) + "/snippets/" + strconv.FormatInt(sn.ID, 10) + "#note_" + strconv.FormatInt(n.ID, 10)
		d.Snippet = snippetHookAttrs(sn)
	})
	if err != nil {
		return nil, err
	}
	return v3api.CreateSnippetNote201JSONResponse(s.presentNote(n)), nil
}

func (s *Server) UpdateSnippetNote(ctx context.Context, req v3api.UpdateSnippetNoteRequestObject) (v3api.UpdateSnippetNoteResponseObject, error) {
	n, err := s.updateNote(ctx, req.ID, req.NoteID, req.JSONBody.Body)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateSnippetNote200JSONResponse(s.presentNote(n)), nil
}

func (s *Server) DeleteSnippetNote(ctx context.Context, req v3api.DeleteSnippetNoteRequestObject) (v3api.DeleteSnippetNoteResponseObject, error) {
	n, err := s.deleteNote(ctx, req.ID, req.NoteID)
	if err != nil {
		return nil, err
	}
	return v3api.DeleteSnippetNote200JSONResponse(s.presentNote(n)), nil
}

// ---- issue notes ----

// issueNoteable finds the project and its issue as GET shows it
// (readableIssue: with the issue tracker off, 404 "404 Not Found").
func (s *Server) issueNoteable(ctx context.Context, projectRef string, issueID int) (*projectScope, *persistence.Issue, error) {
	scope, err := s.findProject(ctx, projectRef)
	if err != nil {
		return nil, nil, err
	}
	is, err := s.readableIssue(ctx, scope, issueID)
	if err != nil {
		return nil, nil, err
	}
	return scope, is, nil
}

func (s *Server) ListIssueNotes(ctx context.Context, req v3api.ListIssueNotesRequestObject) (v3api.ListIssueNotesResponseObject, error) {
	_, is, err := s.issueNoteable(ctx, req.ID, req.IssueID)
	if err != nil {
		return nil, err
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	body, h, err := s.listNotes(ctx, persistence.NoteableIssue, is.ID, pg)
	if err != nil {
		return nil, err
	}
	return v3api.ListIssueNotes200JSONResponse{Body: body, Headers: v3api.ListIssueNotes200ResponseHeaders(h)}, nil
}

func (s *Server) GetIssueNote(ctx context.Context, req v3api.GetIssueNoteRequestObject) (v3api.GetIssueNoteResponseObject, error) {
	_, is, err := s.issueNoteable(ctx, req.ID, req.IssueID)
	if err != nil {
		return nil, err
	}
	n, err := s.noteOn(ctx, persistence.NoteableIssue, is.ID, req.NoteID)
	if err != nil {
		return nil, err
	}
	return v3api.GetIssueNote200JSONResponse(s.presentNote(n)), nil
}

func (s *Server) CreateIssueNote(ctx context.Context, req v3api.CreateIssueNoteRequestObject) (v3api.CreateIssueNoteResponseObject, error) {
	scope, is, err := s.issueNoteable(ctx, req.ID, req.IssueID)
	if err != nil {
		return nil, err
	}
	n := &persistence.Note{NoteableType: persistence.NoteableIssue, NoteableID: &is.ID, Note: req.JSONBody.Body}
	err = s.comment(ctx, scope, n, req.JSONBody.CreatedAt, func(d *noteHookData) {
		d.ObjectAttributes.URL = s.projectWebURL(scope.project) + "/issues/" + strconv.FormatInt(is.IID, 10) + "#note_" + strconv.FormatInt(n.ID, 10)
		d.Issue = issueColumnsOf(is)
	})
	if err != nil {
		return nil, err
	}
	return v3api.CreateIssueNote201JSONResponse(s.presentNote(n)), nil
}

func (s *Server) UpdateIssueNote(ctx context.Context, req v3api.UpdateIssueNoteRequestObject) (v3api.UpdateIssueNoteResponseObject, error) {
	n, err := s.updateNote(ctx, req.ID, req.NoteID, req.JSONBody.Body)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateIssueNote200JSONResponse(s.presentNote(n)), nil
}

func (s *Server) DeleteIssueNote(ctx context.Context, req v3api.DeleteIssueNoteRequestObject) (v3api.DeleteIssueNoteResponseObject, error) {
	n, err := s.deleteNote(ctx, req.ID, req.NoteID)
	if err != nil {
		return nil, err
	}
	return v3api.DeleteIssueNote200JSONResponse(s.presentNote(n)), nil
}

// ---- the note hook (Gitlab::NoteDataBuilder) ----

// hookTime is how a model's attributes showed their times in 8.7's hook
// payloads (ActiveSupport's JSON: UTC with milliseconds).
func hookTime(t time.Time) string { return apitime.From(t).String() }

type noteHookData struct {
	ObjectKind       string          `json:"object_kind"`
	User             hookUser        `json:"user"`
	ProjectID        int64           `json:"project_id"`
	Project          hookProject     `json:"project"`
	Repository       hookRepository  `json:"repository"`
	ObjectAttributes noteHookAttrs   `json:"object_attributes"`
	Commit           *noteHookCommit `json:"commit,omitempty"`
	Issue            *issueColumns   `json:"issue,omitempty"`
	Snippet          *snippetHook    `json:"snippet,omitempty"`
}

// noteHookAttrs is the note's columns (Note#hook_attrs) and its url.
type noteHookAttrs struct {
	ID           int64         `json:"id"`
	Note         string        `json:"note"`
	NoteableType string        `json:"noteable_type"`
	AuthorID     *int64        `json:"author_id"`
	CreatedAt    string        `json:"created_at"`
	UpdatedAt    string        `json:"updated_at"`
	ProjectID    *int64        `json:"project_id"`
	Attachment   *string       `json:"attachment"`
	LineCode     *string       `json:"line_code"`
	CommitID     *string       `json:"commit_id"`
	NoteableID   *int64        `json:"noteable_id"`
	System       bool          `json:"system"`
	StDiff       *noteHookDiff `json:"st_diff"`
	UpdatedByID  *int64        `json:"updated_by_id"`
	IsAward      bool          `json:"is_award"`
	URL          string        `json:"url"`
}

// noteHookDiff is the diff of a line comment's file (Gitlab::Git::Diff#to_hash).
type noteHookDiff struct {
	Diff        string `json:"diff"`
	NewPath     string `json:"new_path"`
	OldPath     string `json:"old_path"`
	AMode       string `json:"a_mode"`
	BMode       string `json:"b_mode"`
	NewFile     bool   `json:"new_file"`
	RenamedFile bool   `json:"renamed_file"`
	DeletedFile bool   `json:"deleted_file"`
}

// noteHookCommit is Commit#hook_attrs without the changed files.
type noteHookCommit struct {
	ID        string     `json:"id"`
	Message   string     `json:"message"`
	Timestamp string     `json:"timestamp"`
	URL       string     `json:"url"`
	Author    pushAuthor `json:"author"`
}

// snippetHook is the snippet's columns (Snippet#hook_attrs).
type snippetHook struct {
	ID              int64   `json:"id"`
	Title           string  `json:"title"`
	Content         string  `json:"content"`
	AuthorID        int64   `json:"author_id"`
	ProjectID       *int64  `json:"project_id"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	FileName        string  `json:"file_name"`
	ExpiresAt       *string `json:"expires_at"`
	Type            string  `json:"type"`
	VisibilityLevel int     `json:"visibility_level"`
}

func snippetHookAttrs(sn *persistence.Snippet) *snippetHook {
	return &snippetHook{ID: sn.ID, Title: sn.Title, Content: sn.Content, AuthorID: sn.AuthorID, ProjectID: sn.ProjectID,
		CreatedAt: hookTime(sn.CreatedAt), UpdatedAt: hookTime(sn.UpdatedAt), FileName: sn.FileName,
		Type: sn.Type, VisibilityLevel: sn.VisibilityLevel}
}

func noteHookDiffOf(d *gitstore.Diff) *noteHookDiff {
	if d == nil {
		return nil
	}
	return &noteHookDiff{Diff: d.Text, NewPath: d.NewPath, OldPath: d.OldPath, AMode: d.AMode, BMode: d.BMode,
		NewFile: d.NewFile, RenamedFile: d.Renamed, DeletedFile: d.Deleted}
}

// noteHookData is the payload's common part (build_base_data).
func (s *Server) noteHookData(p *persistence.Project, user *persistence.User, n *persistence.Note) noteHookData {
	proj, repo := s.hookProjectOf(p)
	return noteHookData{
		ObjectKind: "note", User: hookUserOf(user), ProjectID: p.ID, Project: proj, Repository: repo,
		ObjectAttributes: noteHookAttrs{
			ID: n.ID, Note: n.Note, NoteableType: n.NoteableType, AuthorID: n.AuthorID,
			CreatedAt: hookTime(n.CreatedAt), UpdatedAt: hookTime(n.UpdatedAt), ProjectID: n.ProjectID,
			Attachment: n.Attachment, LineCode: n.LineCode, CommitID: n.CommitID, NoteableID: n.NoteableID,
			System: n.System, UpdatedByID: n.UpdatedByID,
		},
	}
}

// issueColumns is the issue's columns (Issue#hook_attrs, without the url
// and action the issue hook adds).
type issueColumns struct {
	ID           int64   `json:"id"`
	Title        string  `json:"title"`
	AssigneeID   *int64  `json:"assignee_id"`
	AuthorID     int64   `json:"author_id"`
	ProjectID    int64   `json:"project_id"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	Position     int     `json:"position"`
	BranchName   *string `json:"branch_name"`
	Description  *string `json:"description"`
	MilestoneID  *int64  `json:"milestone_id"`
	State        string  `json:"state"`
	IID          int64   `json:"iid"`
	UpdatedByID  *int64  `json:"updated_by_id"`
	MovedToID    *int64  `json:"moved_to_id"`
	Confidential bool    `json:"confidential"`
}

func issueColumnsOf(is *persistence.Issue) *issueColumns {
	return &issueColumns{ID: is.ID, Title: is.Title, AssigneeID: is.AssigneeID, AuthorID: is.AuthorID, ProjectID: is.ProjectID,
		CreatedAt: hookTime(is.CreatedAt), UpdatedAt: hookTime(is.UpdatedAt), Position: is.Position, BranchName: is.BranchName,
		Description: is.Description, MilestoneID: is.MilestoneID, State: is.State, IID: is.IID, UpdatedByID: is.UpdatedByID,
		MovedToID: is.MovedToID, Confidential: is.Confidential}
}
