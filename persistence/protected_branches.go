package persistence

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ProtectedBranch is a branch of a project that only masters and owners
// may push to, and nobody may force-push or delete (8.7's
// ProtectedBranch, matched by exact name).
type ProtectedBranch struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProtectBranch protects the project's branch name. Protecting a branch
// that is protected already changes nothing and returns its row, as 8.7's
// protect endpoint did.
func (s *Store) ProtectBranch(ctx context.Context, projectID int64, name string) (*ProtectedBranch, error) {
	if pb, err := s.protectedBranch(s.write(ctx), projectID, name); !errors.Is(err, ErrNotFound) {
		return pb, err
	}
	now := s.now()
	pb := &ProtectedBranch{ProjectID: projectID, Name: name, CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx).Create(pb).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Protected concurrently: the other request's row stands.
		return s.protectedBranch(s.write(ctx), projectID, name)
	}
	if err != nil {
		return nil, err
	}
	return pb, nil
}

// UnprotectBranch lifts the protection of the project's branch name; it
// reports whether there was one.
func (s *Store) UnprotectBranch(ctx context.Context, projectID int64, name string) (bool, error) {
	res := s.write(ctx).Where("project_id = ? AND name = ?", projectID, name).Delete(&ProtectedBranch{})
	return res.RowsAffected > 0, res.Error
}

// ListProtectedBranches lists the project's protected branches by name.
func (s *Store) ListProtectedBranches(ctx context.Context, projectID int64) ([]ProtectedBranch, error) {
	pbs := []ProtectedBranch{}
	err := s.read(ctx).Where("project_id = ?", projectID).Order("name").Find(&pbs).Error
	return pbs, err
}

// IsProtected reports whether the project's branch name is protected.
func (s *Store) IsProtected(ctx context.Context, projectID int64, name string) (bool, error) {
	_, err := s.protectedBranch(s.read(ctx), projectID, name)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) protectedBranch(db *gorm.DB, projectID int64, name string) (*ProtectedBranch, error) {
	var pb ProtectedBranch
	if err := db.Where("project_id = ? AND name = ?", projectID, name).Take(&pb).Error; err != nil {
		return nil, notFound(err)
	}
	return &pb, nil
}
