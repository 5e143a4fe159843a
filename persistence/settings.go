package persistence

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ApplicationSetting is the one row of instance-wide settings.
type ApplicationSetting struct {
	ID                       int64 `gorm:"primaryKey"`
	RunnersRegistrationToken string
	DefaultProjectsLimit     int
	MaxAttachmentSize        int // megabytes
	MaxArtifactsSize         int // megabytes
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// DefaultMaxAttachmentSize is 8.7's default upload limit, in megabytes.
const DefaultMaxAttachmentSize = 10

// DefaultMaxArtifactsSize is 8.7's default build artifacts limit, in megabytes.
const DefaultMaxArtifactsSize = 100

// Bootstrap is what the first start of an empty database creates.
type Bootstrap struct {
	RootPassword             string
	RunnersRegistrationToken string
}

// BootstrapResult says what Bootstrap created (empty fields: nothing new).
type BootstrapResult struct {
	RootCreated              bool
	RunnersRegistrationToken string
}

// Bootstrap creates, on an empty database, the admin `root` and the
// application settings with the shared runner registration token. On a
// database that has them it changes nothing, so every process of a
// scale-out deployment may call it at start.
func (s *Store) Bootstrap(ctx context.Context, b Bootstrap) (BootstrapResult, error) {
	var res BootstrapResult
	n, err := s.CountUsers(ctx)
	if err != nil {
		return res, err
	}
	if n == 0 {
		limit, admin := 100000, true
		name, user, email := "Administrator", "root", "admin@example.com"
		_, err := s.CreateUser(ctx, UserParams{
			Email: &email, Name: &name, Username: &user, Password: &b.RootPassword,
			Admin: &admin, ProjectsLimit: &limit, SkipConfirmation: true,
		})
		var v *ValidationError
		switch {
		case errors.As(err, &v) && v.Has("username", msgTaken):
			// Another process created root first.
		case err != nil:
			return res, err
		default:
			res.RootCreated = true
		}
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var cnt int64
		if err := tx.Model(&ApplicationSetting{}).Count(&cnt).Error; err != nil || cnt > 0 {
			return err
		}
		now := s.now()
		res.RunnersRegistrationToken = b.RunnersRegistrationToken
		return tx.Create(&ApplicationSetting{
			RunnersRegistrationToken: b.RunnersRegistrationToken,
			DefaultProjectsLimit:     DefaultProjectsLimit,
			MaxAttachmentSize:        DefaultMaxAttachmentSize,
			MaxArtifactsSize:         DefaultMaxArtifactsSize,
			CreatedAt:                now, UpdatedAt: now,
		}).Error
	})
	return res, err
}

// Settings loads the application settings.
func (s *Store) Settings(ctx context.Context) (*ApplicationSetting, error) {
	var a ApplicationSetting
	if err := s.read(ctx).Order("id").Take(&a).Error; err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}
