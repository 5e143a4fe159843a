package persistence

// Notes: comments on issues, snippets and commits (GitLab 8.7's Note
// model), system notes among them. The store functions of each noteable
// live with it; this file holds the row and what every noteable shares.

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The noteable types, as 8.7 stored and exposed them.
const (
	NoteableIssue        = "Issue"
	NoteableMergeRequest = "MergeRequest"
	NoteableSnippet      = "Snippet"
	NoteableCommit       = "Commit"
)

// Note is one comment. Commit comments have NoteableType "Commit", no
// NoteableID and the commit's SHA in CommitID; line comments on a commit
// also carry Path, Line and LineType.
type Note struct {
	ID           int64 `gorm:"primaryKey"`
	ProjectID    *int64
	NoteableType string
	NoteableID   *int64
	CommitID     *string
	Note         string
	AuthorID     *int64
	Author       *User `gorm:"foreignKey:AuthorID"`
	System       bool
	Attachment   *string
	LineCode     *string
	Path         *string
	Line         *int64
	LineType     *string
	UpdatedByID  *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ListNotes returns one page of the notes on a noteable, oldest first,
// with their authors, and the total.
func (s *Store) ListNotes(ctx context.Context, noteableType string, noteableID int64, page Page) ([]Note, int64, error) {
	q := s.read(ctx).Model(&Note{}).Where("noteable_type = ? AND noteable_id = ?", noteableType, noteableID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Note
	err := q.Preload("Author").Order("id").Offset(page.Offset).Limit(page.Limit).Find(&out).Error
	return out, total, err
}

// GetNote loads one note on a noteable, with its author, or ErrNotFound.
func (s *Store) GetNote(ctx context.Context, noteableType string, noteableID, id int64) (*Note, error) {
	var n Note
	err := s.read(ctx).Preload("Author").
		Where("id = ? AND noteable_type = ? AND noteable_id = ?", id, noteableType, noteableID).Take(&n).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &n, nil
}

// CreateNote inserts a note as given (ID and timestamps are set) and loads
// its author.
func (s *Store) CreateNote(ctx context.Context, n *Note) error {
	if err := s.write(ctx).Create(n).Error; err != nil {
		return err
	}
	if n.AuthorID != nil {
		var u User
		if err := s.read(ctx).Take(&u, *n.AuthorID).Error; err == nil {
			n.Author = &u
		}
	}
	return nil
}

// UpdateNoteBody changes a note's text and who last edited it.
func (s *Store) UpdateNoteBody(ctx context.Context, n *Note, body string, editorID int64) error {
	now := time.Now().UTC()
	err := s.write(ctx).Model(&Note{}).Where("id = ?", n.ID).
		Updates(map[string]any{"note": body, "updated_by_id": editorID, "updated_at": now}).Error
	if err != nil {
		return err
	}
	n.Note, n.UpdatedByID, n.UpdatedAt = body, &editorID, now
	return nil
}

// DeleteNote removes one note.
func (s *Store) DeleteNote(ctx context.Context, id int64) error {
	return s.write(ctx).Delete(&Note{}, id).Error
}

// GetProjectNote loads one of the project's notes, whatever it is on, with
// its author, or ErrNotFound (8.7's user_project.notes.find).
func (s *Store) GetProjectNote(ctx context.Context, projectID, id int64) (*Note, error) {
	var n Note
	err := s.read(ctx).Preload("Author").Where("id = ? AND project_id = ?", id, projectID).Take(&n).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &n, nil
}

// GetNoteByID loads a note by id alone, with its author (an event's note).
func (s *Store) GetNoteByID(ctx context.Context, id int64) (*Note, error) {
	var n Note
	if err := s.read(ctx).Preload("Author").Take(&n, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &n, nil
}

// ListCommitNotes returns one page of the project's comments on a commit,
// oldest first, with their authors, and the total.
func (s *Store) ListCommitNotes(ctx context.Context, projectID int64, sha string, page Page) ([]Note, int64, error) {
	q := s.read(ctx).Model(&Note{}).Where("project_id = ? AND noteable_type = ? AND commit_id = ?", projectID, NoteableCommit, sha)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []Note{}
	if total == 0 {
		return out, 0, nil
	}
	err := q.Preload("Author").Order("created_at, id").Offset(page.Offset).Limit(page.Limit).Find(&out).Error
	return out, total, err
}

// noteableTables are the tables whose row a new note touches (8.7's
// belongs_to :noteable, touch: true).
var noteableTables = map[string]string{NoteableIssue: "issues", NoteableSnippet: "snippets"}

// Comment saves a user's note as 8.7's Notes::CreateService did, in one
// transaction: the note (its CreatedAt kept when set, else now), a
// "commented on" event of the project for it, the project's last activity,
// and the noteable's updated_at. The note comes back with its author.
func (s *Store) Comment(ctx context.Context, n *Note) error {
	now := s.now()
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now
	}
	// A given created_at is kept; updated_at is always now, as Rails'
	// timestamps set only the missing one.
	n.UpdatedAt = now
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("Author").Create(n).Error; err != nil {
			return err
		}
		noteType := "Note"
		e := &Event{ProjectID: n.ProjectID, AuthorID: deref64(n.AuthorID), Action: EventCommented,
			TargetType: &noteType, TargetID: &n.ID, CreatedAt: now, UpdatedAt: now}
		if err := createEvent(tx, e); err != nil {
			return err
		}
		if n.ProjectID != nil {
			if err := tx.Model(&Project{}).Where("id = ?", *n.ProjectID).Update("last_activity_at", now).Error; err != nil {
				return err
			}
		}
		if table, ok := noteableTables[n.NoteableType]; ok && n.NoteableID != nil {
			return tx.Table(table).Where("id = ?", *n.NoteableID).Update("updated_at", now).Error
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n.AuthorID != nil {
		var u User
		if err := s.read(ctx).Take(&u, *n.AuthorID).Error; err == nil {
			n.Author = &u
		}
	}
	return nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
