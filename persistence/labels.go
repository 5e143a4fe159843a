package persistence

// Labels of a project (GitLab 8.7's Label and LabelLink models) and the
// validations 8.7 applied to them.

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// DefaultLabelColor is the color of labels made on the fly (Label::DEFAULT_COLOR).
const DefaultLabelColor = "#428BCA"

// Label is a project's label; GitLab's column is title, the API calls it name.
type Label struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   int64
	Title       string
	Color       string
	Description *string
	Template    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// LabelLink attaches a label to an issue (or, later, a merge request).
type LabelLink struct {
	ID         int64 `gorm:"primaryKey"`
	LabelID    int64
	TargetType string
	TargetID   int64
	// TargetState is the issue's state, kept in step with it.
	TargetState *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// LabelWithCounts is a label with the numbers the API entity shows.
type LabelWithCounts struct {
	Label
	OpenIssues        int64
	ClosedIssues      int64
	OpenMergeRequests int64
}

var (
	// Label#title: no '&', '?' or ','.
	labelTitleFormat = regexp.MustCompile(`\A[^&?,]+\z`)
	// ColorValidator: '#' and three or six hex digits.
	labelColorFormat = regexp.MustCompile(`\A#(?:[0-9A-Fa-f]{3}){1,2}\z`)
)

const msgInvalidColor = "must be a valid color code"

// ValidateLabel applies Label's validations but uniqueness, in 8.7's
// order: color, then title.
func ValidateLabel(title, color string) *ValidationError {
	v := &ValidationError{}
	if !labelColorFormat.MatchString(color) {
		v.Add("color", msgInvalidColor)
	}
	if strings.TrimSpace(title) == "" {
		v.Add("title", msgBlank)
	}
	if !labelTitleFormat.MatchString(title) {
		v.Add("title", msgInvalid)
	}
	return v
}

// ListLabels returns a project's labels by title, with their counts.
func (s *Store) ListLabels(ctx context.Context, projectID int64) ([]LabelWithCounts, error) {
	out := []LabelWithCounts{}
	err := s.read(ctx).Raw(`SELECT l.*,
			(SELECT count(*) FROM label_links ll JOIN issues i ON i.id = ll.target_id
			 WHERE ll.label_id = l.id AND ll.target_type = 'Issue' AND i.state IN ('opened', 'reopened')) AS open_issues,
			(SELECT count(*) FROM label_links ll JOIN issues i ON i.id = ll.target_id
			 WHERE ll.label_id = l.id AND ll.target_type = 'Issue' AND i.state = 'closed') AS closed_issues,
			0 AS open_merge_requests
		FROM labels l WHERE l.project_id = ? ORDER BY l.title, l.id`, projectID).Scan(&out).Error
	return out, err
}

// LabelCounts returns one label with its counts.
func (s *Store) LabelCounts(ctx context.Context, l *Label) (*LabelWithCounts, error) {
	out := &LabelWithCounts{Label: *l}
	err := s.read(ctx).Raw(`SELECT
			(SELECT count(*) FROM label_links ll JOIN issues i ON i.id = ll.target_id
			 WHERE ll.label_id = ? AND ll.target_type = 'Issue' AND i.state IN ('opened', 'reopened')) AS open_issues,
			(SELECT count(*) FROM label_links ll JOIN issues i ON i.id = ll.target_id
			 WHERE ll.label_id = ? AND ll.target_type = 'Issue' AND i.state = 'closed') AS closed_issues`, l.ID, l.ID).
		Row().Scan(&out.OpenIssues, &out.ClosedIssues)
	return out, err
}

// FindLabel is Project#find_label: the label with exactly this title, or ErrNotFound.
func (s *Store) FindLabel(ctx context.Context, projectID int64, title string) (*Label, error) {
	var l Label
	if err := s.read(ctx).Where("project_id = ? AND title = ?", projectID, title).Take(&l).Error; err != nil {
		return nil, notFound(err)
	}
	return &l, nil
}

// ErrLabelExists is a label title taken in the project.
var ErrLabelExists = errors.New("persistence: label already exists")

// CreateLabel validates and inserts a label; a taken title is
// ErrLabelExists.
func (s *Store) CreateLabel(ctx context.Context, projectID int64, title, color string, description *string) (*Label, error) {
	if v := ValidateLabel(title, color); !v.Empty() {
		return nil, v
	}
	now := s.now()
	l := &Label{ProjectID: projectID, Title: title, Color: color, Description: description, CreatedAt: now, UpdatedAt: now}
	if err := s.write(ctx).Create(l).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, ErrLabelExists
		}
		return nil, err
	}
	return l, nil
}

// LabelUpdate holds the attributes to change; nil leaves one as it is.
type LabelUpdate struct {
	Title, Color, Description *string
}

// UpdateLabel validates and saves changes; a title taken by another label
// is the validation error "has already been taken".
func (s *Store) UpdateLabel(ctx context.Context, l *Label, u LabelUpdate) (*Label, error) {
	next := *l
	if u.Title != nil {
		next.Title = *u.Title
	}
	if u.Color != nil {
		next.Color = *u.Color
	}
	if u.Description != nil {
		next.Description = u.Description
	}
	v := ValidateLabel(next.Title, next.Color)
	if next.Title != l.Title && !v.Has("title", msgBlank) {
		var n int64
		if err := s.read(ctx).Model(&Label{}).Where("project_id = ? AND title = ? AND id <> ?", l.ProjectID, next.Title, l.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			v.Add("title", msgTaken)
		}
	}
	if !v.Empty() {
		return nil, v
	}
	next.UpdatedAt = s.now()
	err := s.write(ctx).Model(&Label{}).Where("id = ?", l.ID).Updates(map[string]any{
		"title": next.Title, "color": next.Color, "description": next.Description, "updated_at": next.UpdatedAt}).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v.Add("title", msgTaken)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// DeleteLabel removes a label and its links.
func (s *Store) DeleteLabel(ctx context.Context, l *Label) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("label_id = ?", l.ID).Delete(&LabelLink{}).Error; err != nil {
			return err
		}
		return tx.Delete(&Label{}, l.ID).Error
	})
}

// findOrCreateLabels is add_labels_by_names' lookup: each title (stripped)
// is the project's label of that title, made with the default color when
// missing. Duplicates are dropped; the order is the titles'.
func (s *Store) findOrCreateLabels(tx *gorm.DB, projectID int64, titles []string) ([]Label, error) {
	out := []Label{}
	seen := map[string]bool{}
	for _, t := range titles {
		t = strings.TrimSpace(t)
		if seen[t] {
			continue
		}
		seen[t] = true
		var l Label
		err := tx.Where("project_id = ? AND title = ?", projectID, t).Take(&l).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			now := s.now()
			l = Label{ProjectID: projectID, Title: t, Color: DefaultLabelColor, CreatedAt: now, UpdatedAt: now}
			err = tx.Create(&l).Error
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// InvalidLabelTitles is validate_label_params: for each comma-separated
// title (stripped) that names no existing label and would not make a valid
// one, its validation errors, keyed by the title.
func (s *Store) InvalidLabelTitles(ctx context.Context, projectID int64, titles []string) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for _, t := range titles {
		t = strings.TrimSpace(t)
		v := ValidateLabel(t, DefaultLabelColor)
		if v.Empty() {
			continue
		}
		if _, err := s.FindLabel(ctx, projectID, t); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out[t] = v.Fields
	}
	return out, nil
}
