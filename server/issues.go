package server

// Issues: doc/api/issues.md (GitLab CE 8.7, lib/api/issues.rb with
// Issues::CreateService, UpdateService, CloseService, ReopenService and
// MoveService, SystemNoteService's wording and Issue#to_hook_data).

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

// The issue abilities of 8.7's Ability, on top of the project's. With the
// issue tracker off (project_disabled_features_rules) nobody reads, opens
// or updates issues.

// canCreateIssue is create_issue: whoever may read the project.
func (p *projectScope) canCreateIssue() bool { return p.project.IssuesEnabled && p.canRead() }

// canAdminIssue is admin_issue: reporters and up.
func (p *projectScope) canAdminIssue() bool {
	return p.project.IssuesEnabled && (p.isAdmin() || p.level() >= persistence.AccessReporter)
}

// canUpdateIssue is update_issue: admin_issue, or the issue's author or
// assignee.
func (p *projectScope) canUpdateIssue(is *persistence.Issue) bool {
	if p.canAdminIssue() {
		return true
	}
	if !p.project.IssuesEnabled || p.user == nil {
		return false
	}
	return is.AuthorID == p.user.ID || (is.AssigneeID != nil && *is.AssigneeID == p.user.ID)
}

// ownsProject is 8.7's `current_user.admin? || user_project.owner ==
// current_user`: a group project's owner is the group, never a user.
func (p *projectScope) ownsProject() bool {
	return p.isAdmin() || (p.project.Personal() && p.project.Namespace.OwnerID != nil && p.user != nil && *p.project.Namespace.OwnerID == p.user.ID)
}

// findIssue is user_project.issues.find: 404 "Not found" for an unknown
// issue or another project's.
func (s *Server) findIssue(ctx context.Context, scope *projectScope, id int) (*persistence.Issue, error) {
	is, err := s.store.GetIssue(ctx, scope.project.ID, int64(id))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, recordNotFound()
	}
	return is, err
}

// readableIssue is the issue as GET shows it: findIssue, then
// can?(current_user, :read_issue, issue), which fails with the issue
// tracker off: 404 "404 Not Found". The notes of an issue are behind it.
func (s *Server) readableIssue(ctx context.Context, scope *projectScope, id int) (*persistence.Issue, error) {
	is, err := s.findIssue(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if !scope.project.IssuesEnabled {
		return nil, notFound()
	}
	return is, nil
}

// Move service failures (MoveError, rendered with render_api_error!).
var (
	errMoveForbidden   = renderAPIError(http.StatusBadRequest, "Cannot move issue due to insufficient permissions!")
	errMoveSameProject = renderAPIError(http.StatusBadRequest, "Cannot move issue to project it originates from!")
)

// splitLabels is params[:labels].split(','), Ruby's way: trailing empty
// fields are dropped.
func splitLabels(s string) []string {
	parts := strings.Split(s, ",")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// checkLabels is validate_label_params: 400 with the nested errors of
// every title that makes no valid label.
func (s *Server) checkLabels(ctx context.Context, projectID int64, labels *string) error {
	if labels == nil || strings.TrimSpace(*labels) == "" {
		return nil
	}
	bad, err := s.store.InvalidLabelTitles(ctx, projectID, splitLabels(*labels))
	if err != nil || len(bad) == 0 {
		return err
	}
	return &apiError{status: http.StatusBadRequest, body: message{map[string]any{"labels": bad}}}
}

// parseTime reads an ISO 8601 time as Grape's attributes did; what is no
// time is ignored.
func parseTime(v *string) *time.Time {
	if v == nil {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, *v); err == nil {
			return &t
		}
	}
	return nil
}

func int64Ptr(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

func (s *Server) ListUserIssues(ctx context.Context, req v3api.ListUserIssuesRequestObject) (v3api.ListUserIssuesResponseObject, error) {
	u := currentUser(ctx)
	f := persistence.IssueFilter{AuthorID: &u.ID, State: deref(req.Params.State)}
	if req.Params.Labels != nil {
		f.Labels = splitLabels(*req.Params.Labels)
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	body, headers, err := s.issuePage(ctx, f, pg)
	if err != nil {
		return nil, err
	}
	return v3api.ListUserIssues200JSONResponse{IssueListJSONResponse: v3api.IssueListJSONResponse{Body: body, Headers: v3api.IssueListResponseHeaders(headers)}}, nil
}

func (s *Server) issuePage(ctx context.Context, f persistence.IssueFilter, pg pager) ([]v3api.Issue, pageHeaders, error) {
	issues, total, err := s.store.ListIssues(ctx, f, pg.window())
	if err != nil {
		return nil, pageHeaders{}, err
	}
	body, err := s.presentIssues(ctx, issues)
	if err != nil {
		return nil, pageHeaders{}, err
	}
	return body, s.headers(ctx, pg, total), nil
}

func (s *Server) ListProjectIssues(ctx context.Context, req v3api.ListProjectIssuesRequestObject) (v3api.ListProjectIssuesResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	f := persistence.IssueFilter{ProjectID: &scope.project.ID, State: deref(req.Params.State),
		IID: int64Ptr(req.Params.Iid), Milestone: req.Params.Milestone, ByState: true}
	if req.Params.Labels != nil {
		f.Labels = splitLabels(*req.Params.Labels)
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	body, headers, err := s.issuePage(ctx, f, pg)
	if err != nil {
		return nil, err
	}
	return v3api.ListProjectIssues200JSONResponse{IssueListJSONResponse: v3api.IssueListJSONResponse{Body: body, Headers: v3api.IssueListResponseHeaders(headers)}}, nil
}

func (s *Server) GetIssue(ctx context.Context, req v3api.GetIssueRequestObject) (v3api.GetIssueResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	is, err := s.readableIssue(ctx, scope, req.IssueID)
	if err != nil {
		return nil, err
	}
	out, err := s.presentOneIssue(ctx, is)
	if err != nil {
		return nil, err
	}
	return v3api.GetIssue200JSONResponse(out), nil
}

func createIssueBody(req v3api.CreateIssueRequestObject) v3api.CreateIssueBody {
	if req.JSONBody != nil {
		return v3api.CreateIssueBody(*req.JSONBody)
	}
	if req.FormdataBody != nil {
		return v3api.CreateIssueBody(*req.FormdataBody)
	}
	return v3api.CreateIssueBody{}
}

func (s *Server) CreateIssue(ctx context.Context, req v3api.CreateIssueRequestObject) (v3api.CreateIssueResponseObject, error) {
	b := createIssueBody(req)
	if strings.TrimSpace(b.Title) == "" {
		return nil, badRequestNotGiven("title") // required_attributes! wants it present
	}
	scope, err := s.requireProject(ctx, req.ID, (*projectScope).canCreateIssue)
	if err != nil {
		return nil, err
	}
	if err := s.checkLabels(ctx, scope.project.ID, b.Labels); err != nil {
		return nil, err
	}
	user := currentUser(ctx)
	n := persistence.NewIssue{ProjectID: scope.project.ID, AuthorID: user.ID, Title: b.Title, Description: present(b.Description)}
	if scope.canAdminIssue() {
		n.AssigneeID, n.MilestoneID = int64Ptr(b.AssigneeID), int64Ptr(b.MilestoneID)
	}
	if b.Labels != nil && strings.TrimSpace(*b.Labels) != "" {
		n.Labels = splitLabels(*b.Labels)
	}
	if scope.ownsProject() {
		n.CreatedAt = parseTime(b.CreatedAt)
	}
	is, err := s.store.CreateIssue(ctx, n)
	if err != nil {
		return nil, err
	}
	s.issueHook(ctx, scope.project, is, user, "open")
	out, err := s.presentOneIssue(ctx, is)
	if err != nil {
		return nil, err
	}
	return v3api.CreateIssue201JSONResponse(out), nil
}

func updateIssueBody(req v3api.UpdateIssueRequestObject) v3api.UpdateIssueBody {
	if req.JSONBody != nil {
		return v3api.UpdateIssueBody(*req.JSONBody)
	}
	if req.FormdataBody != nil {
		return v3api.UpdateIssueBody(*req.FormdataBody)
	}
	return v3api.UpdateIssueBody{}
}

func (s *Server) UpdateIssue(ctx context.Context, req v3api.UpdateIssueRequestObject) (v3api.UpdateIssueResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	is, err := s.findIssue(ctx, scope, req.IssueID)
	if err != nil {
		return nil, err
	}
	if !scope.canUpdateIssue(is) {
		return nil, forbidden()
	}
	b := updateIssueBody(req)
	if err := s.checkLabels(ctx, scope.project.ID, b.Labels); err != nil {
		return nil, err
	}
	user := currentUser(ctx)
	// attributes_for_keys took only present (non-blank) values.
	u := persistence.IssueUpdate{Title: present(b.Title), Description: present(b.Description), StateEvent: deref(b.StateEvent), EditorID: user.ID}
	// filter_params: only admin_issue sets the assignee and milestone;
	// the API replaced labels only for it too.
	if scope.canAdminIssue() {
		u.AssigneeID, u.MilestoneID = int64Ptr(b.AssigneeID), int64Ptr(b.MilestoneID)
		if b.Labels != nil {
			u.Labels = splitLabels(*b.Labels)
			if u.Labels == nil {
				u.Labels = []string{}
			}
		}
	}
	if scope.ownsProject() {
		u.UpdatedAt = parseTime(b.UpdatedAt)
	}
	updated, ch, err := s.store.UpdateIssue(ctx, is, u, s.issueNotes(scope.project))
	if err != nil {
		return nil, err
	}
	switch ch.State {
	case persistence.IssueClosed:
		s.issueHook(ctx, scope.project, updated, user, "close")
	case persistence.IssueReopened:
		s.issueHook(ctx, scope.project, updated, user, "reopen")
	}
	if ch.Updated {
		s.issueHook(ctx, scope.project, updated, user, "update")
	}
	out, err := s.presentOneIssue(ctx, updated)
	if err != nil {
		return nil, err
	}
	return v3api.UpdateIssue200JSONResponse(out), nil
}

// issueNotes words SystemNoteService's notes for an update, in the order
// 8.7's services wrote them: status, title, labels, milestone, assignee.
func (s *Server) issueNotes(p *persistence.Project) persistence.SystemNotes {
	return func(is *persistence.Issue, ch *persistence.IssueChanges) []string {
		var notes []string
		if ch.State != "" {
			notes = append(notes, "Status changed to "+ch.State)
		}
		if ch.OldTitle != nil {
			notes = append(notes, "Title changed from **"+*ch.OldTitle+"** to **"+is.Title+"**")
		}
		if len(ch.AddedLabels)+len(ch.RemovedLabels) > 0 {
			notes = append(notes, labelsNote(ch.AddedLabels, ch.RemovedLabels))
		}
		if ch.MilestoneChanged {
			if ch.Milestone == nil {
				notes = append(notes, "Milestone removed")
			} else {
				// Milestone#to_reference of 8.7: a markdown link.
				url := s.url("/" + p.PathWithNamespace() + "/milestones/" + strconv.FormatInt(ch.Milestone.IID, 10))
				notes = append(notes, "Milestone changed to ["+strings.ReplaceAll(ch.Milestone.Title, "]", `\]`)+"]("+url+")")
			}
		}
		if ch.AssigneeChanged {
			if ch.Assignee == nil {
				notes = append(notes, "Assignee removed")
			} else {
				notes = append(notes, "Reassigned to @"+ch.Assignee.Username)
			}
		}
		return notes
	}
}

// labelsNote is SystemNoteService.change_label: label references by id
// (`~12`), "label" pluralized by the number changed, capitalized.
func labelsNote(added, removed []persistence.Label) string {
	refs := func(ls []persistence.Label) string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = "~" + strconv.FormatInt(l.ID, 10)
		}
		return strings.Join(out, " ")
	}
	var b strings.Builder
	if len(added) > 0 {
		b.WriteString("added " + refs(added))
		if len(removed) > 0 {
			b.WriteString(" and ")
		}
	}
	if len(removed) > 0 {
		b.WriteString("removed " + refs(removed))
	}
	if len(added)+len(removed) == 1 {
		b.WriteString(" label")
	} else {
		b.WriteString(" labels")
	}
	body := b.String()
	return strings.ToUpper(body[:1]) + body[1:]
}

func (s *Server) DeleteIssue(ctx context.Context, req v3api.DeleteIssueRequestObject) (v3api.DeleteIssueResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	// find_by, then authorize!(:destroy_issue, issue): no issue is
	// nothing anyone may destroy.
	is, err := s.store.GetIssue(ctx, scope.project.ID, int64(req.IssueID))
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && !scope.isOwner()) {
		return nil, forbidden()
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteIssue(ctx, is); err != nil {
		return nil, err
	}
	return v3api.DeleteIssue200JSONResponse(presentDeletedIssue(is)), nil
}

func (s *Server) MoveIssue(ctx context.Context, req v3api.MoveIssueRequestObject) (v3api.MoveIssueResponseObject, error) {
	var to int
	switch {
	case req.JSONBody != nil:
		to = req.JSONBody.ToProjectID
	case req.FormdataBody != nil:
		to = req.FormdataBody.ToProjectID
	}
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	is, err := s.findIssue(ctx, scope, req.IssueID)
	if err != nil {
		return nil, err
	}
	target, err := s.store.GetProject(ctx, int64(to))
	if err != nil {
		return nil, err // Project.find: 404 "Not found"
	}
	user := currentUser(ctx)
	targetScope, err := s.scopeOf(ctx, target, user)
	if err != nil {
		return nil, err
	}
	// Issue#can_move?: admin_issue on both sides, and not moved already.
	if !scope.canAdminIssue() || !targetScope.canAdminIssue() || is.MovedToID != nil {
		return nil, errMoveForbidden
	}
	if target.ID == scope.project.ID {
		return nil, errMoveSameProject
	}
	moved, old, err := s.store.MoveIssue(ctx, is, target.ID, user.ID, func(old, moved *persistence.Issue) (string, string) {
		return "Moved from " + scope.project.PathWithNamespace() + "#" + strconv.FormatInt(old.IID, 10),
			"Moved to " + target.PathWithNamespace() + "#" + strconv.FormatInt(moved.IID, 10)
	})
	if err != nil {
		return nil, err
	}
	s.issueHook(ctx, target, moved, user, "open")
	if is.Open() {
		s.issueHook(ctx, scope.project, old, user, "close")
	}
	out, err := s.presentOneIssue(ctx, moved)
	if err != nil {
		return nil, err
	}
	return v3api.MoveIssue201JSONResponse(out), nil
}

func (s *Server) SubscribeToIssue(ctx context.Context, req v3api.SubscribeToIssueRequestObject) (v3api.SubscribeToIssueResponseObject, error) {
	out, changed, err := s.setIssueSubscription(ctx, req.ID, req.IssueID, true)
	if err != nil || !changed {
		return v3api.SubscribeToIssue304Response{}, err
	}
	return v3api.SubscribeToIssue201JSONResponse(out), nil
}

func (s *Server) UnsubscribeFromIssue(ctx context.Context, req v3api.UnsubscribeFromIssueRequestObject) (v3api.UnsubscribeFromIssueResponseObject, error) {
	out, changed, err := s.setIssueSubscription(ctx, req.ID, req.IssueID, false)
	if err != nil || !changed {
		return v3api.UnsubscribeFromIssue304Response{}, err
	}
	return v3api.UnsubscribeFromIssue200JSONResponse(out), nil
}

// setIssueSubscription is toggle_subscription behind the 304 of 8.7: it
// changes nothing when the caller already is (or is not) subscribed.
func (s *Server) setIssueSubscription(ctx context.Context, ref string, id int, on bool) (v3api.Issue, bool, error) {
	scope, err := s.findProject(ctx, ref)
	if err != nil {
		return v3api.Issue{}, false, err
	}
	is, err := s.findIssue(ctx, scope, id)
	if err != nil {
		return v3api.Issue{}, false, err
	}
	user := currentUser(ctx)
	subs, err := s.store.Subscribed(ctx, user.ID, []persistence.Issue{*is})
	if err != nil {
		return v3api.Issue{}, false, err
	}
	if subs[is.ID] == on {
		return v3api.Issue{}, false, nil
	}
	if err := s.store.SetSubscription(ctx, user.ID, persistence.NoteableIssue, is.ID, on); err != nil {
		return v3api.Issue{}, false, err
	}
	out, err := s.presentOneIssue(ctx, is)
	return out, true, err
}

// Issue hooks (Issue#to_hook_data with IssuesService#hook_data's url and
// action), for the project's hooks with issues_events.

type hookUser struct {
	Name      string  `json:"name"`
	Username  string  `json:"username"`
	AvatarURL *string `json:"avatar_url"`
}

type hookProject struct {
	Name              string  `json:"name"`
	Description       *string `json:"description"`
	WebURL            string  `json:"web_url"`
	AvatarURL         *string `json:"avatar_url"`
	GitSSHURL         string  `json:"git_ssh_url"`
	GitHTTPURL        string  `json:"git_http_url"`
	Namespace         string  `json:"namespace"`
	VisibilityLevel   int     `json:"visibility_level"`
	PathWithNamespace string  `json:"path_with_namespace"`
	DefaultBranch     *string `json:"default_branch"`
	Homepage          string  `json:"homepage"`
	URL               string  `json:"url"`
	SSHURL            string  `json:"ssh_url"`
	HTTPURL           string  `json:"http_url"`
}

type hookRepository struct {
	Name        string  `json:"name"`
	URL         string  `json:"url"`
	Description *string `json:"description"`
	Homepage    string  `json:"homepage"`
}

type issueHookAttrs struct {
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
	URL          string  `json:"url"`
	Action       string  `json:"action"`
}

type issueHookData struct {
	ObjectKind       string         `json:"object_kind"`
	User             hookUser       `json:"user"`
	Project          hookProject    `json:"project"`
	Repository       hookRepository `json:"repository"`
	ObjectAttributes issueHookAttrs `json:"object_attributes"`
	Assignee         *hookUser      `json:"assignee,omitempty"`
}

func hookUserOf(u *persistence.User) hookUser {
	return hookUser{Name: u.Name, Username: u.Username, AvatarURL: avatarURL(u.Email)}
}

func (s *Server) hookProjectOf(p *persistence.Project) (hookProject, hookRepository) {
	web := s.projectWebURL(p)
	ssh := s.sshURL(p)
	return hookProject{Name: p.Name, Description: p.Description, WebURL: web, GitSSHURL: ssh, GitHTTPURL: web + ".git",
			Namespace: p.Namespace.Name, VisibilityLevel: p.VisibilityLevel, PathWithNamespace: p.PathWithNamespace(),
			DefaultBranch: p.DefaultBranch, Homepage: web, URL: ssh, SSHURL: ssh, HTTPURL: web + ".git"},
		hookRepository{Name: p.Name, URL: ssh, Description: p.Description, Homepage: web}
}

// issueHook queues the issue's hook payload for the project's hooks.
func (s *Server) issueHook(ctx context.Context, p *persistence.Project, is *persistence.Issue, user *persistence.User, action string) {
	proj, repo := s.hookProjectOf(p)
	d := issueHookData{ObjectKind: "issue", User: hookUserOf(user), Project: proj, Repository: repo,
		ObjectAttributes: issueHookAttrs{ID: is.ID, Title: is.Title, AssigneeID: is.AssigneeID, AuthorID: is.AuthorID,
			ProjectID: is.ProjectID, CreatedAt: apitime.From(is.CreatedAt).String(), UpdatedAt: apitime.From(is.UpdatedAt).String(),
			Position: is.Position, BranchName: is.BranchName, Description: is.Description, MilestoneID: is.MilestoneID,
			State: is.State, IID: is.IID, UpdatedByID: is.UpdatedByID, MovedToID: is.MovedToID, Confidential: is.Confidential,
			URL: s.url("/" + p.PathWithNamespace() + "/issues/" + strconv.FormatInt(is.IID, 10)), Action: action}}
	if is.Assignee != nil {
		a := hookUserOf(is.Assignee)
		d.Assignee = &a
	}
	s.projectHook(ctx, p.ID, "issues_events", "Issue Hook", d)
}
