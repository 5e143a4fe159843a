package persistence

// Milestones of a project (GitLab 8.7's Milestone model): an iid per
// project, state active or closed, and a due date kept as YYYY-MM-DD.

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Milestone states.
const (
	MilestoneActive = "active"
	MilestoneClosed = "closed"
)

// Milestone is a row of milestones.
type Milestone struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   int64
	IID         int64 `gorm:"column:iid"`
	Title       string
	Description *string
	DueDate     *string
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MilestoneFilter narrows ListMilestones; zero values do not filter.
type MilestoneFilter struct {
	State string // active or closed; anything else lists all
	IID   *int64
}

// ListMilestones returns one page of a project's milestones, oldest first.
func (s *Store) ListMilestones(ctx context.Context, projectID int64, f MilestoneFilter, pg Page) ([]Milestone, int64, error) {
	q := s.read(ctx).Model(&Milestone{}).Where("project_id = ?", projectID)
	if f.State == MilestoneActive || f.State == MilestoneClosed {
		q = q.Where("state = ?", f.State)
	}
	if f.IID != nil {
		q = q.Where("iid = ?", *f.IID)
	}
	return listPage[Milestone](q, pg)
}

// GetMilestone loads a project's milestone by its global id, or ErrNotFound.
func (s *Store) GetMilestone(ctx context.Context, projectID, id int64) (*Milestone, error) {
	var m Milestone
	if err := s.read(ctx).Where("project_id = ? AND id = ?", projectID, id).Take(&m).Error; err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}

// MilestoneParams are the attributes to set; nil leaves one as it is.
type MilestoneParams struct {
	Title, Description, DueDate *string
	// StateEvent is close or activate; anything else is ignored.
	StateEvent string
}

// milestoneTitleTaken adds the uniqueness error of Milestone#title.
func milestoneTitleTaken(tx *gorm.DB, projectID, exceptID int64, title string, v *ValidationError) error {
	var n int64
	if err := tx.Model(&Milestone{}).Where("project_id = ? AND title = ? AND id <> ?", projectID, title, exceptID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		v.Add("title", msgTaken)
	}
	return nil
}

// CreateMilestone allocates the next iid and inserts the milestone, with
// its "opened" event by authorID, in one transaction.
func (s *Store) CreateMilestone(ctx context.Context, projectID, authorID int64, p MilestoneParams) (*Milestone, error) {
	now := s.now()
	m := &Milestone{ProjectID: projectID, State: MilestoneActive, Description: p.Description, DueDate: p.DueDate, CreatedAt: now, UpdatedAt: now}
	if p.Title != nil {
		m.Title = *p.Title
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		v := &ValidationError{}
		if m.Title == "" {
			v.Add("title", msgBlank)
		} else if err := milestoneTitleTaken(tx, projectID, 0, m.Title, v); err != nil {
			return err
		}
		if !v.Empty() {
			return v
		}
		iid, err := s.nextIID(tx, "milestones", projectID)
		if err != nil {
			return err
		}
		m.IID = iid
		if err := tx.Create(m).Error; err != nil {
			return err
		}
		return s.recordEventTx(tx, projectID, authorID, EventCreated, "Milestone", m.ID, now)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateMilestone applies p (a state event first, as 8.7's service did)
// and records the close or reopen event.
func (s *Store) UpdateMilestone(ctx context.Context, m *Milestone, authorID int64, p MilestoneParams) (*Milestone, error) {
	next := *m
	now := s.now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		action := 0
		switch {
		case p.StateEvent == "close" && next.State == MilestoneActive:
			next.State, action = MilestoneClosed, EventClosed
		case p.StateEvent == "activate" && next.State == MilestoneClosed:
			next.State, action = MilestoneActive, EventReopened
		}
		if p.Title != nil {
			next.Title = *p.Title
		}
		if p.Description != nil {
			next.Description = p.Description
		}
		if p.DueDate != nil {
			next.DueDate = p.DueDate
			if *p.DueDate == "" {
				next.DueDate = nil
			}
		}
		v := &ValidationError{}
		if next.Title == "" {
			v.Add("title", msgBlank)
		} else if next.Title != m.Title {
			if err := milestoneTitleTaken(tx, m.ProjectID, m.ID, next.Title, v); err != nil {
				return err
			}
		}
		if !v.Empty() {
			return v
		}
		next.UpdatedAt = now
		err := tx.Model(&Milestone{}).Where("id = ?", m.ID).Updates(map[string]any{
			"title": next.Title, "description": next.Description, "due_date": next.DueDate,
			"state": next.State, "updated_at": now}).Error
		if err != nil {
			return err
		}
		if action != 0 {
			return s.recordEventTx(tx, m.ProjectID, authorID, action, "Milestone", m.ID, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// nextIID locks the project's row against concurrent allocations and
// returns one more than the highest iid in table (issues or milestones):
// iids are gap-free and unique under concurrency. On SQLite the write
// transaction already holds the database's only write lock.
func (s *Store) nextIID(tx *gorm.DB, table string, projectID int64) (int64, error) {
	if s.dialect == "postgres" {
		if err := tx.Exec("SELECT id FROM projects WHERE id = ? FOR UPDATE", projectID).Error; err != nil {
			return 0, err
		}
	}
	var max *int64
	if err := tx.Raw("SELECT max(iid) FROM "+table+" WHERE project_id = ?", projectID).Row().Scan(&max); err != nil {
		return 0, err
	}
	if max == nil {
		return 1, nil
	}
	return *max + 1, nil
}

// recordEventTx adds an event on a target to the project's feed inside tx.
func (s *Store) recordEventTx(tx *gorm.DB, projectID, authorID int64, action int, targetType string, targetID int64, at time.Time) error {
	e := &Event{ProjectID: &projectID, AuthorID: authorID, Action: action, TargetType: &targetType, TargetID: &targetID, CreatedAt: at, UpdatedAt: at}
	if err := createEvent(tx, e); err != nil {
		return err
	}
	return tx.Model(&Project{}).Where("id = ?", projectID).Update("last_activity_at", at).Error
}

// EventTargetTitle is Event#target_title: the title of an issue or
// milestone event's target, or nil.
func (s *Store) EventTargetTitle(ctx context.Context, e *Event) (*string, error) {
	if e.TargetType == nil || e.TargetID == nil {
		return nil, nil
	}
	table := map[string]string{"Issue": "issues", "Milestone": "milestones"}[*e.TargetType]
	if table == "" {
		return nil, nil
	}
	var title string
	err := s.read(ctx).Raw("SELECT title FROM "+table+" WHERE id = ?", *e.TargetID).Row().Scan(&title)
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) || isNoRows(err) {
			return nil, nil
		}
		return nil, err
	}
	return &title, nil
}
