package persistence

// Project snippets (GitLab 8.7's ProjectSnippet model and SnippetsFinder
// by_project): rows, visibility-scoped lookups, and their validations.

import (
	"context"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Snippet is one project snippet.
type Snippet struct {
	ID              int64 `gorm:"primaryKey"`
	Title           string
	Content         string
	AuthorID        int64
	Author          *User `gorm:"foreignKey:AuthorID"`
	ProjectID       *int64
	FileName        string
	VisibilityLevel int
	Type            string
	ExpiresAt       *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// SnippetScope says which snippets of a project a caller sees: all of them
// (members and admins), or those at the listed visibility levels.
type SnippetScope struct {
	All    bool
	Levels []int
}

func (sc SnippetScope) apply(q *gorm.DB) *gorm.DB {
	if sc.All {
		return q
	}
	return q.Where("visibility_level IN ?", sc.Levels)
}

// snippetFileName is 8.7's Gitlab::Regex.file_name_regex.
var snippetFileName = regexp.MustCompile(`\A[a-zA-Z0-9_\-\.\@]*\z`)

// validate is the Snippet model's validations, in 8.7's order.
func (sn *Snippet) validate() error {
	v := &ValidationError{}
	switch {
	case isBlank(sn.Title):
		v.Add("title", msgBlank)
	case len([]rune(sn.Title)) > 255:
		v.Add("title", "is too long (maximum is 255 characters)")
	}
	switch {
	case isBlank(sn.FileName):
		v.Add("file_name", msgBlank)
	case len([]rune(sn.FileName)) > 255:
		v.Add("file_name", "is too long (maximum is 255 characters)")
	}
	if !snippetFileName.MatchString(sn.FileName) {
		v.Add("file_name", "can contain only letters, digits, '_', '-', '@' and '.'. ")
	}
	if isBlank(sn.Content) {
		v.Add("content", msgBlank)
	}
	switch sn.VisibilityLevel {
	case VisibilityPrivate, VisibilityInternal, VisibilityPublic:
	default:
		v.Add("visibility_level", "is not included in the list")
	}
	return v.OrNil()
}

// ListProjectSnippets returns one page of the project's snippets the scope
// sees, newest first (8.7's `fresh`), with their authors, and the total.
func (s *Store) ListProjectSnippets(ctx context.Context, projectID int64, sc SnippetScope, pg Page) ([]Snippet, int64, error) {
	q := sc.apply(s.read(ctx).Model(&Snippet{}).Where("project_id = ?", projectID))
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []Snippet{}
	if total == 0 {
		return out, 0, nil
	}
	err := q.Preload("Author").Order("id DESC").Offset(pg.Offset).Limit(pg.Limit).Find(&out).Error
	return out, total, err
}

// GetProjectSnippet loads one of the project's snippets the scope sees, or
// ErrNotFound (for a snippet that exists but is hidden, too).
func (s *Store) GetProjectSnippet(ctx context.Context, projectID, id int64, sc SnippetScope) (*Snippet, error) {
	var sn Snippet
	err := sc.apply(s.read(ctx).Preload("Author").Where("id = ? AND project_id = ?", id, projectID)).Take(&sn).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &sn, nil
}

// CreateSnippet validates and inserts a project snippet.
func (s *Store) CreateSnippet(ctx context.Context, sn *Snippet) error {
	if err := sn.validate(); err != nil {
		return err
	}
	now := s.now()
	sn.CreatedAt, sn.UpdatedAt, sn.Type = now, now, "ProjectSnippet"
	if err := s.write(ctx).Omit("Author").Create(sn).Error; err != nil {
		return err
	}
	var u User
	if err := s.read(ctx).Take(&u, sn.AuthorID).Error; err == nil {
		sn.Author = &u
	}
	return nil
}

// SnippetChanges are the attributes an update may set (nil: unchanged).
type SnippetChanges struct {
	Title, FileName, Content *string
	VisibilityLevel          *int
}

// UpdateSnippet applies the changes, validated as a whole.
func (s *Store) UpdateSnippet(ctx context.Context, sn *Snippet, c SnippetChanges) error {
	next := *sn
	if c.Title != nil {
		next.Title = *c.Title
	}
	if c.FileName != nil {
		next.FileName = *c.FileName
	}
	if c.Content != nil {
		next.Content = *c.Content
	}
	if c.VisibilityLevel != nil {
		next.VisibilityLevel = *c.VisibilityLevel
	}
	if err := next.validate(); err != nil {
		return err
	}
	if next.Title == sn.Title && next.FileName == sn.FileName && next.Content == sn.Content && next.VisibilityLevel == sn.VisibilityLevel {
		return nil // Rails saves nothing, and keeps updated_at, when nothing changed
	}
	next.UpdatedAt = s.now()
	err := s.write(ctx).Model(&Snippet{}).Where("id = ?", sn.ID).Updates(map[string]any{
		"title": next.Title, "file_name": next.FileName, "content": next.Content,
		"visibility_level": next.VisibilityLevel, "updated_at": next.UpdatedAt,
	}).Error
	if err != nil {
		return err
	}
	*sn = next
	return nil
}

// DeleteSnippet removes a snippet and its notes (8.7's dependent: :destroy).
func (s *Store) DeleteSnippet(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("noteable_type = ? AND noteable_id = ?", NoteableSnippet, id).Delete(&Note{}).Error; err != nil {
			return err
		}
		return tx.Delete(&Snippet{}, id).Error
	})
}

// isBlank is Rails' blank? for a string.
func isBlank(v string) bool { return strings.TrimSpace(v) == "" }
