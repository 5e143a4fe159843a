package persistence

// Issues (GitLab 8.7's Issue model and its services' writes): a global id
// and a per-project iid allocated without gaps, labels through
// label_links, system notes and events written in the same transaction as
// the change they report.

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Issue states.
const (
	IssueOpened   = "opened"
	IssueClosed   = "closed"
	IssueReopened = "reopened"
)

// Issue is a row of issues with, after loading, its author, assignee,
// milestone and label titles.
type Issue struct {
	ID           int64 `gorm:"primaryKey"`
	ProjectID    int64
	IID          int64 `gorm:"column:iid"`
	Title        string
	Description  *string
	AuthorID     int64
	AssigneeID   *int64
	MilestoneID  *int64
	State        string
	Position     int
	BranchName   *string
	Confidential bool
	MovedToID    *int64
	UpdatedByID  *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time

	Author    *User      `gorm:"-"`
	Assignee  *User      `gorm:"-"`
	Milestone *Milestone `gorm:"-"`
	Labels    []string   `gorm:"-"`
}

// Open reports whether the issue counts as open (opened or reopened).
func (i *Issue) Open() bool { return i.State != IssueClosed }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IssueFilter narrows ListIssues; zero values do not filter.
type IssueFilter struct {
	ProjectID   *int64
	AuthorID    *int64
	MilestoneID *int64
	// State is opened (opened and reopened) or closed; anything else lists all.
	State string
	// Labels keeps issues that have any of these label titles (8.7's
	// includes(:labels).where('labels.title' => list)).
	Labels []string
	IID    *int64
	// Milestone keeps issues whose milestone has this title.
	Milestone *string
	// ByState orders as Project#issues did (state DESC, created_at DESC);
	// otherwise by id.
	ByState bool
}

// apply adds the filter's conditions to q. The label condition takes the
// labels' ids (looked up first): for a page it is a correlated EXISTS, so
// that walking the (project, state, created_at) index in the list's order
// stops after a page of matches; for the count, the labels' links
// (a range of their index) probe issues by primary key.
func (f IssueFilter) apply(q *gorm.DB, labelIDs []int64, forCount bool) *gorm.DB {
	if f.ProjectID != nil {
		q = q.Where("issues.project_id = ?", *f.ProjectID)
	}
	if f.AuthorID != nil {
		q = q.Where("issues.author_id = ?", *f.AuthorID)
	}
	if f.MilestoneID != nil {
		q = q.Where("issues.milestone_id = ?", *f.MilestoneID)
	}
	switch f.State {
	case IssueOpened:
		q = q.Where("issues.state IN ('opened', 'reopened')")
	case IssueClosed:
		q = q.Where("issues.state = 'closed'")
	}
	if f.IID != nil {
		q = q.Where("issues.iid = ?", *f.IID)
	}
	if f.Labels != nil {
		switch {
		case len(labelIDs) == 0:
			q = q.Where("1 = 0")
		case forCount:
			q = q.Where("issues.id IN (SELECT ll.target_id FROM label_links ll WHERE ll.label_id IN ? AND ll.target_type = 'Issue')", labelIDs)
		default:
			q = q.Where("EXISTS (SELECT 1 FROM label_links ll WHERE ll.target_type = 'Issue' AND ll.target_id = issues.id AND ll.label_id IN ?)", labelIDs)
		}
	}
	if f.Milestone != nil {
		sub := "SELECT m.id FROM milestones m WHERE m.title = ?"
		args := []any{*f.Milestone}
		if f.ProjectID != nil {
			sub += " AND m.project_id = ?"
			args = append(args, *f.ProjectID)
		}
		q = q.Where("issues.milestone_id IN ("+sub+")", args...)
	}
	return q
}

// ListIssues returns one page of issues with their associations, and the total.
func (s *Store) ListIssues(ctx context.Context, f IssueFilter, pg Page) ([]Issue, int64, error) {
	labelIDs, err := s.labelIDs(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := f.countQuery(s.read(ctx), labelIDs).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	q := f.apply(s.read(ctx).Model(&Issue{}), labelIDs, false)
	out := []Issue{}
	if total == 0 || int64(pg.Offset) >= total {
		return out, total, nil
	}
	if f.ByState {
		q = q.Order("issues.state DESC, issues.created_at DESC, issues.id DESC")
	} else {
		q = q.Order("issues.id")
	}
	if err := q.Offset(pg.Offset).Limit(pg.Limit).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	return out, total, s.loadIssues(ctx, s.read(ctx), out)
}

// countQuery counts the filter's issues. Filtered by a project's labels
// (and state) alone, it reads only the labels' links, which carry their
// issue's state: one range of index_label_links_on_label_and_state per
// label, no issue rows.
func (f IssueFilter) countQuery(db *gorm.DB, labelIDs []int64) *gorm.DB {
	linksOnly := f.Labels != nil && len(labelIDs) > 0 && f.ProjectID != nil &&
		f.AuthorID == nil && f.MilestoneID == nil && f.IID == nil && f.Milestone == nil
	if !linksOnly {
		return f.apply(db.Model(&Issue{}), labelIDs, true).Select("count(*)")
	}
	q := db.Table("label_links").Select("count(DISTINCT target_id)").Where("label_id IN ? AND target_type = 'Issue'", labelIDs)
	switch f.State {
	case IssueOpened:
		q = q.Where("target_state IN ('opened', 'reopened')")
	case IssueClosed:
		q = q.Where("target_state = 'closed'")
	}
	return q
}

// labelIDs looks up the ids of the filter's label titles (in its project
// when it has one).
func (s *Store) labelIDs(ctx context.Context, f IssueFilter) ([]int64, error) {
	if len(f.Labels) == 0 {
		return nil, nil
	}
	q := s.read(ctx).Model(&Label{}).Where("title IN ?", f.Labels)
	if f.ProjectID != nil {
		q = q.Where("project_id = ?", *f.ProjectID)
	}
	var ids []int64
	err := q.Pluck("id", &ids).Error
	return ids, err
}

// IssueQueryPlan is the database's plan for ListIssues' count and page
// queries, for the benchmark to print.
func (s *Store) IssueQueryPlan(ctx context.Context, f IssueFilter, pg Page) (string, []string, error) {
	labelIDs, err := s.labelIDs(ctx, f)
	if err != nil {
		return "", nil, err
	}
	db := s.read(ctx)
	var n int64
	count := db.ToSQL(func(tx *gorm.DB) *gorm.DB { return f.countQuery(tx, labelIDs).Scan(&n) })
	page := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		q := f.apply(tx.Model(&Issue{}), labelIDs, false)
		if f.ByState {
			q = q.Order("issues.state DESC, issues.created_at DESC, issues.id DESC")
		}
		return q.Offset(pg.Offset).Limit(pg.Limit).Find(&[]Issue{})
	})
	var sqlText string
	var plan []string
	for _, q := range []struct{ kind, sql string }{{"count: ", count}, {"page: ", page}} {
		lines, err := s.explain(ctx, q.sql)
		if err != nil {
			return sqlText, nil, err
		}
		sqlText += q.kind + q.sql + "\n"
		plan = append(plan, q.kind)
		for _, l := range lines {
			plan = append(plan, "  "+l)
		}
	}
	return sqlText, plan, nil
}

// explain is the database's plan for a statement.
func (s *Store) explain(ctx context.Context, sqlText string) ([]string, error) {
	explain := "EXPLAIN QUERY PLAN "
	if s.dialect == "postgres" {
		explain = "EXPLAIN "
	}
	rows, err := s.read(ctx).Raw(explain + sqlText).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var parts []string
		for _, v := range vals {
			switch x := v.(type) {
			case []byte:
				parts = append(parts, string(x))
			case string:
				parts = append(parts, x)
			}
		}
		plan = append(plan, strings.Join(parts, " "))
	}
	return plan, rows.Err()
}

// loadIssues fills in the authors, assignees, milestones and label titles
// (by title, as label_names) of issues, one query per association.
func (s *Store) loadIssues(ctx context.Context, db *gorm.DB, issues []Issue) error {
	if len(issues) == 0 {
		return nil
	}
	userIDs, milestoneIDs, issueIDs := []int64{}, []int64{}, make([]int64, len(issues))
	for i := range issues {
		is := &issues[i]
		issueIDs[i] = is.ID
		userIDs = append(userIDs, is.AuthorID)
		if is.AssigneeID != nil {
			userIDs = append(userIDs, *is.AssigneeID)
		}
		if is.MilestoneID != nil {
			milestoneIDs = append(milestoneIDs, *is.MilestoneID)
		}
	}
	var users []User
	if err := db.Where("id IN ?", userIDs).Find(&users).Error; err != nil {
		return err
	}
	byUser := map[int64]*User{}
	for i := range users {
		byUser[users[i].ID] = &users[i]
	}
	byMilestone := map[int64]*Milestone{}
	if len(milestoneIDs) > 0 {
		var ms []Milestone
		if err := db.Where("id IN ?", milestoneIDs).Find(&ms).Error; err != nil {
			return err
		}
		for i := range ms {
			byMilestone[ms[i].ID] = &ms[i]
		}
	}
	var links []struct {
		TargetID int64
		Title    string
	}
	err := db.Raw(`SELECT ll.target_id, l.title FROM label_links ll JOIN labels l ON l.id = ll.label_id
		WHERE ll.target_type = 'Issue' AND ll.target_id IN ? ORDER BY l.title`, issueIDs).Scan(&links).Error
	if err != nil {
		return err
	}
	byIssue := map[int64][]string{}
	for _, l := range links {
		byIssue[l.TargetID] = append(byIssue[l.TargetID], l.Title)
	}
	for i := range issues {
		is := &issues[i]
		is.Author = byUser[is.AuthorID]
		is.Assignee, is.Milestone = nil, nil
		if is.AssigneeID != nil {
			is.Assignee = byUser[*is.AssigneeID]
		}
		if is.MilestoneID != nil {
			is.Milestone = byMilestone[*is.MilestoneID]
		}
		is.Labels = byIssue[is.ID]
		if is.Labels == nil {
			is.Labels = []string{}
		}
	}
	return nil
}

// GetIssue loads a project's issue by its global id, with its
// associations, or ErrNotFound (an issue of another project included).
func (s *Store) GetIssue(ctx context.Context, projectID, id int64) (*Issue, error) {
	return s.getIssue(ctx, s.read(ctx), projectID, id)
}

func (s *Store) getIssue(_ context.Context, db *gorm.DB, projectID, id int64) (*Issue, error) {
	var is Issue
	if err := db.Where("project_id = ? AND id = ?", projectID, id).Take(&is).Error; err != nil {
		return nil, notFound(err)
	}
	list := []Issue{is}
	if err := s.loadIssues(context.Background(), db, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// NewIssue is what CreateIssue inserts.
type NewIssue struct {
	ProjectID   int64
	AuthorID    int64
	Title       string
	Description *string
	AssigneeID  *int64
	MilestoneID *int64
	// Labels are titles, found or made (with the default color).
	Labels    []string
	CreatedAt *time.Time
	// State defaults to opened (a moved issue keeps its state).
	State string
}

// CreateIssue inserts an issue with the next iid of its project, its
// labels and its "opened" event, in one transaction. An assignee who does
// not exist, or a milestone of another project, is left out.
func (s *Store) CreateIssue(ctx context.Context, n NewIssue) (*Issue, error) {
	var out *Issue
	err := s.tx(ctx, func(tx *gorm.DB) error {
		is, err := s.createIssueTx(tx, n)
		if err != nil {
			return err
		}
		out, err = s.getIssue(ctx, tx, is.ProjectID, is.ID)
		return err
	})
	return out, err
}

func (s *Store) createIssueTx(tx *gorm.DB, n NewIssue) (*Issue, error) {
	if strings.TrimSpace(n.Title) == "" {
		v := &ValidationError{}
		v.Add("title", msgBlank)
		return nil, v
	}
	now := s.now()
	created := now
	if n.CreatedAt != nil {
		created = n.CreatedAt.UTC()
	}
	state := n.State
	if state == "" {
		state = IssueOpened
	}
	is := &Issue{ProjectID: n.ProjectID, AuthorID: n.AuthorID, Title: n.Title, Description: n.Description,
		State: state, CreatedAt: created, UpdatedAt: now}
	var err error
	if is.AssigneeID, err = existingUser(tx, n.AssigneeID); err != nil {
		return nil, err
	}
	if is.MilestoneID, err = projectMilestone(tx, n.ProjectID, n.MilestoneID); err != nil {
		return nil, err
	}
	if is.IID, err = s.nextIID(tx, "issues", n.ProjectID); err != nil {
		return nil, err
	}
	if err := tx.Create(is).Error; err != nil {
		return nil, err
	}
	if len(n.Labels) > 0 {
		labels, err := s.findOrCreateLabels(tx, n.ProjectID, n.Labels)
		if err != nil {
			return nil, err
		}
		if err := linkLabels(tx, is.ID, is.State, labels, now); err != nil {
			return nil, err
		}
	}
	if err := s.recordEventTx(tx, n.ProjectID, n.AuthorID, EventCreated, NoteableIssue, is.ID, now); err != nil {
		return nil, err
	}
	return is, nil
}

func existingUser(tx *gorm.DB, id *int64) (*int64, error) {
	if id == nil || *id == 0 {
		return nil, nil
	}
	var n int64
	if err := tx.Model(&User{}).Where("id = ?", *id).Count(&n).Error; err != nil || n == 0 {
		return nil, err
	}
	return id, nil
}

func projectMilestone(tx *gorm.DB, projectID int64, id *int64) (*int64, error) {
	if id == nil || *id == 0 {
		return nil, nil
	}
	var n int64
	if err := tx.Model(&Milestone{}).Where("id = ? AND project_id = ?", *id, projectID).Count(&n).Error; err != nil || n == 0 {
		return nil, err
	}
	return id, nil
}

func linkLabels(tx *gorm.DB, issueID int64, state string, labels []Label, now time.Time) error {
	for _, l := range labels {
		link := LabelLink{LabelID: l.ID, TargetType: NoteableIssue, TargetID: issueID, TargetState: &state, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&link).Error; err != nil {
			return err
		}
	}
	return nil
}

func issueLabels(tx *gorm.DB, issueID int64) ([]Label, error) {
	var out []Label
	err := tx.Raw(`SELECT l.* FROM labels l JOIN label_links ll ON ll.label_id = l.id
		WHERE ll.target_type = 'Issue' AND ll.target_id = ? ORDER BY l.id`, issueID).Scan(&out).Error
	return out, err
}

// IssueUpdate holds the changes to make; nil leaves a field as it is.
type IssueUpdate struct {
	Title       *string
	Description *string
	// AssigneeID and MilestoneID: a pointer to 0 removes the assignee or milestone.
	AssigneeID  *int64
	MilestoneID *int64
	// Labels replaces the issue's labels (titles, found or made) when non-nil.
	Labels []string
	// StateEvent is close or reopen; anything else is ignored.
	StateEvent string
	UpdatedAt  *time.Time
	EditorID   int64
}

// IssueChanges is what an update changed, for the system notes and hooks.
type IssueChanges struct {
	// State is the new state when the state changed (closed, reopened).
	State            string
	OldTitle         *string
	AssigneeChanged  bool
	Assignee         *User
	MilestoneChanged bool
	Milestone        *Milestone
	AddedLabels      []Label
	RemovedLabels    []Label
	// Updated reports whether attributes other than the state were given.
	Updated bool
}

// SystemNotes turns an issue's changes into the bodies of its system
// notes, in order; the server words them (it knows the URLs).
type SystemNotes func(is *Issue, ch *IssueChanges) []string

// UpdateIssue applies u as 8.7's Issues::UpdateService did: the state event
// first (with its close or reopen event), then the attributes and labels;
// the system notes that notes words are written by the editor, all in one
// transaction.
func (s *Store) UpdateIssue(ctx context.Context, is *Issue, u IssueUpdate, notes SystemNotes) (*Issue, *IssueChanges, error) {
	ch := &IssueChanges{}
	var out *Issue
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := s.getIssue(ctx, tx, is.ProjectID, is.ID)
		if err != nil {
			return err
		}
		now := s.now()
		set := map[string]any{}
		switch {
		case u.StateEvent == "close" && cur.Open():
			ch.State = IssueClosed
		case u.StateEvent == "reopen" && !cur.Open():
			ch.State = IssueReopened
		}
		if ch.State != "" {
			set["state"] = ch.State
			action := EventClosed
			if ch.State == IssueReopened {
				action = EventReopened
			}
			if err := s.recordEventTx(tx, cur.ProjectID, u.EditorID, action, NoteableIssue, cur.ID, now); err != nil {
				return err
			}
		}
		if u.Title != nil {
			ch.Updated = true
			if strings.TrimSpace(*u.Title) == "" {
				v := &ValidationError{}
				v.Add("title", msgBlank)
				return v
			}
			if *u.Title != cur.Title {
				old := cur.Title
				ch.OldTitle = &old
				set["title"] = *u.Title
			}
		}
		if u.Description != nil {
			ch.Updated = true
			set["description"] = *u.Description
		}
		if u.AssigneeID != nil {
			ch.Updated = true
			id, err := existingUser(tx, u.AssigneeID)
			if err != nil {
				return err
			}
			if !sameID(id, cur.AssigneeID) {
				ch.AssigneeChanged = true
				set["assignee_id"] = id
				if id != nil {
					var a User
					if err := tx.Take(&a, *id).Error; err != nil {
						return err
					}
					ch.Assignee = &a
				}
			}
		}
		if u.MilestoneID != nil {
			ch.Updated = true
			id, err := projectMilestone(tx, cur.ProjectID, u.MilestoneID)
			if err != nil {
				return err
			}
			if !sameID(id, cur.MilestoneID) {
				ch.MilestoneChanged = true
				set["milestone_id"] = id
				if id != nil {
					var m Milestone
					if err := tx.Take(&m, *id).Error; err != nil {
						return err
					}
					ch.Milestone = &m
				}
			}
		}
		if u.Labels != nil {
			ch.Updated = true
			if err := s.replaceLabels(tx, cur, u.Labels, ch, now); err != nil {
				return err
			}
		}
		if u.UpdatedAt != nil {
			ch.Updated = true
		}
		if len(set) > 0 || ch.Updated {
			set["updated_at"] = now
			if u.UpdatedAt != nil {
				set["updated_at"] = u.UpdatedAt.UTC()
			}
			set["updated_by_id"] = u.EditorID
			if err := tx.Model(&Issue{}).Where("id = ?", cur.ID).Updates(set).Error; err != nil {
				return err
			}
		}
		if ch.State != "" {
			if err := setLinksState(tx, cur.ID, ch.State); err != nil {
				return err
			}
		}
		if out, err = s.getIssue(ctx, tx, cur.ProjectID, cur.ID); err != nil {
			return err
		}
		if notes != nil {
			for _, body := range notes(out, ch) {
				if err := s.systemNote(tx, out.ProjectID, out.ID, u.EditorID, body, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, ch, nil
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (s *Store) replaceLabels(tx *gorm.DB, is *Issue, titles []string, ch *IssueChanges, now time.Time) error {
	old, err := issueLabels(tx, is.ID)
	if err != nil {
		return err
	}
	var names []string
	for _, t := range titles {
		if strings.TrimSpace(t) != "" {
			names = append(names, t)
		}
	}
	next, err := s.findOrCreateLabels(tx, is.ProjectID, names)
	if err != nil {
		return err
	}
	oldByID, nextByID := map[int64]bool{}, map[int64]bool{}
	for _, l := range old {
		oldByID[l.ID] = true
	}
	for _, l := range next {
		nextByID[l.ID] = true
		if !oldByID[l.ID] {
			ch.AddedLabels = append(ch.AddedLabels, l)
		}
	}
	for _, l := range old {
		if !nextByID[l.ID] {
			ch.RemovedLabels = append(ch.RemovedLabels, l)
		}
	}
	sort.Slice(ch.AddedLabels, func(i, j int) bool { return ch.AddedLabels[i].ID < ch.AddedLabels[j].ID })
	if err := tx.Where("target_type = 'Issue' AND target_id = ?", is.ID).Delete(&LabelLink{}).Error; err != nil {
		return err
	}
	return linkLabels(tx, is.ID, is.State, next, now)
}

// setLinksState keeps an issue's label links in step with its state.
func setLinksState(tx *gorm.DB, issueID int64, state string) error {
	return tx.Exec("UPDATE label_links SET target_state = ? WHERE target_type = 'Issue' AND target_id = ?", state, issueID).Error
}

// systemNote writes a system note on an issue.
func (s *Store) systemNote(tx *gorm.DB, projectID, issueID, authorID int64, body string, at time.Time) error {
	n := &Note{ProjectID: &projectID, NoteableType: NoteableIssue, NoteableID: &issueID, Note: body,
		AuthorID: &authorID, System: true, CreatedAt: at, UpdatedAt: at}
	return tx.Create(n).Error
}

// DeleteIssue removes an issue with its label links, notes and
// subscriptions.
func (s *Store) DeleteIssue(ctx context.Context, is *Issue) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"DELETE FROM label_links WHERE target_type = 'Issue' AND target_id = ?", []any{is.ID}},
			{"DELETE FROM notes WHERE noteable_type = 'Issue' AND noteable_id = ?", []any{is.ID}},
			{"DELETE FROM subscriptions WHERE subscribable_type = 'Issue' AND subscribable_id = ?", []any{is.ID}},
			{"DELETE FROM issues WHERE id = ?", []any{is.ID}},
		} {
			if err := tx.Exec(q.sql, q.args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// MoveNotes words the two notes of a move: on the new issue ("Moved from
// …") and on the old one ("Moved to …").
type MoveNotes func(old, moved *Issue) (from, to string)

// MoveIssue is 8.7's Issues::MoveService: in one transaction, a new issue
// in the target project (next iid there; title, description, state,
// assignee and author kept, labels and milestone dropped, created_at kept)
// with the old issue's notes copied, a "Moved from" note on it, a "Moved
// to" note on the old issue, which is closed (with its event) and marked
// as moved. It returns the new issue and the old one as closed.
func (s *Store) MoveIssue(ctx context.Context, is *Issue, toProjectID, userID int64, notes MoveNotes) (*Issue, *Issue, error) {
	var moved, old *Issue
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := s.getIssue(ctx, tx, is.ProjectID, is.ID)
		if err != nil {
			return err
		}
		created := cur.CreatedAt
		n, err := s.createIssueTx(tx, NewIssue{ProjectID: toProjectID, AuthorID: cur.AuthorID, Title: cur.Title,
			Description: cur.Description, AssigneeID: cur.AssigneeID, CreatedAt: &created, State: cur.State})
		if err != nil {
			return err
		}
		// The opened event is the mover's, as CreateService's was.
		if err := tx.Exec("UPDATE events SET author_id = ? WHERE target_type = 'Issue' AND target_id = ?", userID, n.ID).Error; err != nil {
			return err
		}
		var copied []Note
		if err := tx.Where("noteable_type = 'Issue' AND noteable_id = ?", cur.ID).Order("id").Find(&copied).Error; err != nil {
			return err
		}
		for _, c := range copied {
			c.ID = 0
			c.ProjectID = &toProjectID
			c.NoteableID = &n.ID
			c.Author = nil
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
		}
		if moved, err = s.getIssue(ctx, tx, toProjectID, n.ID); err != nil {
			return err
		}
		now := s.now()
		from, to := notes(cur, moved)
		if err := s.systemNote(tx, toProjectID, moved.ID, userID, from, now); err != nil {
			return err
		}
		if err := s.systemNote(tx, cur.ProjectID, cur.ID, userID, to, now); err != nil {
			return err
		}
		set := map[string]any{"moved_to_id": moved.ID, "updated_at": now}
		if cur.Open() {
			set["state"] = IssueClosed
			if err := s.recordEventTx(tx, cur.ProjectID, userID, EventClosed, NoteableIssue, cur.ID, now); err != nil {
				return err
			}
			if err := setLinksState(tx, cur.ID, IssueClosed); err != nil {
				return err
			}
		}
		if err := tx.Model(&Issue{}).Where("id = ?", cur.ID).Updates(set).Error; err != nil {
			return err
		}
		old, err = s.getIssue(ctx, tx, cur.ProjectID, cur.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return moved, old, nil
}

// Subscribed reports, for each issue, whether the user is subscribed: the
// user's subscription when there is one, otherwise whether they take
// part (author, assignee, or author of a comment), as 8.7's
// Subscribable#subscribed? decided.
func (s *Store) Subscribed(ctx context.Context, userID int64, issues []Issue) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(issues) == 0 {
		return out, nil
	}
	ids := make([]int64, len(issues))
	for i, is := range issues {
		ids[i] = is.ID
		out[is.ID] = is.AuthorID == userID || (is.AssigneeID != nil && *is.AssigneeID == userID)
	}
	var commented []int64
	err := s.read(ctx).Raw(`SELECT DISTINCT noteable_id FROM notes WHERE noteable_type = 'Issue' AND noteable_id IN ?
		AND author_id = ? AND system = ?`, ids, userID, false).Scan(&commented).Error
	if err != nil {
		return nil, err
	}
	for _, id := range commented {
		out[id] = true
	}
	var subs []struct {
		SubscribableID int64
		Subscribed     bool
	}
	err = s.read(ctx).Raw(`SELECT subscribable_id, subscribed FROM subscriptions
		WHERE subscribable_type = 'Issue' AND subscribable_id IN ? AND user_id = ?`, ids, userID).Scan(&subs).Error
	if err != nil {
		return nil, err
	}
	for _, sb := range subs {
		out[sb.SubscribableID] = sb.Subscribed
	}
	return out, nil
}

// SetSubscription records the user's choice on a subscribable.
func (s *Store) SetSubscription(ctx context.Context, userID int64, subscribableType string, id int64, subscribed bool) error {
	now := s.now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE subscriptions SET subscribed = ?, updated_at = ?
			WHERE subscribable_type = ? AND subscribable_id = ? AND user_id = ?`, subscribed, now, subscribableType, id, userID)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Exec(`INSERT INTO subscriptions (user_id, subscribable_type, subscribable_id, subscribed, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, userID, subscribableType, id, subscribed, now, now).Error
	})
}

// OpenIssueCounts counts the open issues of each project.
func (s *Store) OpenIssueCounts(ctx context.Context, projectIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(projectIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ProjectID int64
		N         int64
	}
	err := s.read(ctx).Raw(`SELECT project_id, count(*) AS n FROM issues WHERE project_id IN ?
		AND state IN ('opened', 'reopened') GROUP BY project_id`, projectIDs).Scan(&rows).Error
	for _, r := range rows {
		out[r.ProjectID] = r.N
	}
	return out, err
}
