package persistence

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Event actions, as GitLab 8.7's Event model numbered them.
const (
	EventCreated   = 1
	EventUpdated   = 2
	EventClosed    = 3
	EventReopened  = 4
	EventPushed    = 5
	EventCommented = 6
	EventMerged    = 7
	EventJoined    = 8
	EventLeft      = 9
	EventDestroyed = 10
)

// Event is one entry of a project's activity feed.
type Event struct {
	ID         int64 `gorm:"primaryKey"`
	TargetType *string
	TargetID   *int64
	Title      *string
	Data       *string // JSON (a push's payload)
	ProjectID  *int64
	AuthorID   int64
	Action     int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func createEvent(tx *gorm.DB, e *Event) error {
	return tx.Create(e).Error
}

// RecordEvent adds an event to a project's feed.
func (s *Store) RecordEvent(ctx context.Context, e *Event) error {
	now := s.now()
	e.CreatedAt, e.UpdatedAt = now, now
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := createEvent(tx, e); err != nil {
			return err
		}
		if e.ProjectID == nil {
			return nil
		}
		return tx.Model(&Project{}).Where("id = ?", *e.ProjectID).Update("last_activity_at", now).Error
	})
}

// ListProjectEvents returns one page of a project's events, newest first.
func (s *Store) ListProjectEvents(ctx context.Context, projectID int64, pg Page) ([]Event, int64, error) {
	var total int64
	q := s.read(ctx).Model(&Event{}).Where("project_id = ?", projectID)
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	events := []Event{}
	if total == 0 {
		return events, 0, nil
	}
	err := q.Order("id DESC").Offset(pg.Offset).Limit(pg.Limit).Find(&events).Error
	return events, total, err
}
