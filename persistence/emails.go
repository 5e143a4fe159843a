package persistence

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Email is a user's secondary email address.
type Email struct {
	ID        int64 `gorm:"primaryKey"`
	UserID    int64
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CreateEmail adds a secondary address: lower-cased and trimmed as the model
// did, unique among secondary addresses and every user's primary one.
func (s *Store) CreateEmail(ctx context.Context, userID int64, email string) (*Email, error) {
	now := s.now()
	e := &Email{UserID: userID, Email: strings.ToLower(strings.TrimSpace(email)), CreatedAt: now, UpdatedAt: now}
	v := &ValidationError{}
	switch {
	case e.Email == "":
		v.Add("email", msgBlank)
	case !emailRE.MatchString(e.Email):
		v.Add("email", msgInvalid)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if v.Empty() {
			var n int64
			if err := tx.Model(&Email{}).Where("lower(email) = ?", e.Email).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				if err := tx.Model(&User{}).Where("lower(email) = ?", e.Email).Count(&n).Error; err != nil {
					return err
				}
			}
			if n > 0 {
				v.Add("email", msgTaken)
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		return tx.Create(e).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v.Add("email", msgTaken)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ListUserEmails returns a user's secondary addresses, oldest first.
func (s *Store) ListUserEmails(ctx context.Context, userID int64) ([]Email, error) {
	emails := []Email{}
	err := s.read(ctx).Where("user_id = ?", userID).Order("id").Find(&emails).Error
	return emails, err
}

// GetUserEmail loads one of a user's addresses.
func (s *Store) GetUserEmail(ctx context.Context, userID, id int64) (*Email, error) {
	var e Email
	if err := s.read(ctx).Where("user_id = ?", userID).Take(&e, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &e, nil
}

// DeleteUserEmail removes one of a user's addresses and returns it.
func (s *Store) DeleteUserEmail(ctx context.Context, userID, id int64) (*Email, error) {
	var e Email
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", userID).Take(&e, id).Error; err != nil {
			return notFound(err)
		}
		return tx.Delete(&Email{}, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}
