package persistence

// Releases: the release notes of a repository tag (GitLab 8.7's Release
// model), one per project and tag name.

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ErrReleaseExists is a release created for a tag that has one.
var ErrReleaseExists = errors.New("persistence: release exists already")

// Release is a tag's release notes.
type Release struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   int64
	Tag         string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GetRelease loads the release of a project's tag, or ErrNotFound.
func (s *Store) GetRelease(ctx context.Context, projectID int64, tag string) (*Release, error) {
	var r Release
	if err := s.read(ctx).Where("project_id = ? AND tag = ?", projectID, tag).Take(&r).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// ListReleases loads the releases of a project's tags, by tag name; tags
// without one are absent.
func (s *Store) ListReleases(ctx context.Context, projectID int64, tags []string) (map[string]*Release, error) {
	out := map[string]*Release{}
	if len(tags) == 0 {
		return out, nil
	}
	var rs []Release
	// One query per chunk keeps the bound parameters within every driver's limit.
	for start := 0; start < len(tags); start += 500 {
		end := min(start+500, len(tags))
		var chunk []Release
		if err := s.read(ctx).Where("project_id = ? AND tag IN ?", projectID, tags[start:end]).Find(&chunk).Error; err != nil {
			return nil, err
		}
		rs = append(rs, chunk...)
	}
	for i := range rs {
		out[rs[i].Tag] = &rs[i]
	}
	return out, nil
}

// CreateRelease adds a tag's release; ErrReleaseExists when it has one.
func (s *Store) CreateRelease(ctx context.Context, projectID int64, tag, description string) (*Release, error) {
	now := s.now()
	r := &Release{ProjectID: projectID, Tag: tag, Description: description, CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx).Create(r).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrReleaseExists
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRelease changes a tag's release notes, or answers ErrNotFound.
func (s *Store) UpdateRelease(ctx context.Context, projectID int64, tag, description string) (*Release, error) {
	var r Release
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Release{}).Where("project_id = ? AND tag = ?", projectID, tag).
			Updates(map[string]any{"description": description, "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Where("project_id = ? AND tag = ?", projectID, tag).Take(&r).Error
	})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// SetRelease creates or replaces a tag's release notes (8.7's
// find_or_initialize_by(tag:) then update, when a tag is created with them).
func (s *Store) SetRelease(ctx context.Context, projectID int64, tag, description string) (*Release, error) {
	r, err := s.UpdateRelease(ctx, projectID, tag, description)
	if !errors.Is(err, ErrNotFound) {
		return r, err
	}
	r, err = s.CreateRelease(ctx, projectID, tag, description)
	if errors.Is(err, ErrReleaseExists) { // made meanwhile
		return s.UpdateRelease(ctx, projectID, tag, description)
	}
	return r, err
}

// DeleteRelease removes a tag's release, if it has one.
func (s *Store) DeleteRelease(ctx context.Context, projectID int64, tag string) error {
	return s.write(ctx).Where("project_id = ? AND tag = ?", projectID, tag).Delete(&Release{}).Error
}
