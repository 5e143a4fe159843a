package persistence

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"
)

// Key is a row of keys: a user's SSH key (Type nil) or, later, a deploy key.
type Key struct {
	ID          int64 `gorm:"primaryKey"`
	UserID      *int64
	Title       string
	Key         string
	Fingerprint string
	Type        *string
	Public      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// keyFormatRE is the format 8.7's Key model required.
var keyFormatRE = regexp.MustCompile(`^(ssh|ecdsa)-.*$`)

// Fingerprint returns the MD5 fingerprint GitLab 8.7 stored
// ("aa:bb:…"), or "" when the text is not a parseable public key.
func Fingerprint(key string) string {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	if err != nil {
		return ""
	}
	return ssh.FingerprintLegacyMD5(pk)
}

// validateKey checks a key as the model did; it fills in the fingerprint.
func validateKey(k *Key) *ValidationError {
	v := &ValidationError{}
	k.Key = strings.TrimSpace(k.Key)
	switch {
	case strings.TrimSpace(k.Title) == "":
		v.Add("title", msgBlank)
	case len(k.Title) > 255:
		v.Add("title", msgTooLong(255))
	}
	switch {
	case k.Key == "":
		v.Add("key", msgBlank)
	case len(k.Key) > 5000:
		v.Add("key", msgTooLong(5000))
	case strings.ContainsAny(k.Key, "\r\n"):
		v.Add("key", "should be a single line")
	case !keyFormatRE.MatchString(k.Key):
		v.Add("key", msgInvalid)
	}
	k.Fingerprint = Fingerprint(k.Key)
	if k.Fingerprint == "" {
		v.Add("fingerprint", "cannot be generated")
	}
	return v
}

// CreateKey validates and stores an SSH key for userID.
func (s *Store) CreateKey(ctx context.Context, userID int64, title, key string) (*Key, error) {
	now := s.now()
	k := &Key{UserID: &userID, Title: title, Key: key, CreatedAt: now, UpdatedAt: now}
	v := validateKey(k)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if k.Fingerprint != "" {
			if err := checkFingerprintFree(tx, k.Fingerprint, v); err != nil {
				return err
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		return tx.Create(k).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v.Add("fingerprint", msgTaken)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ListUserKeys returns all SSH keys of a user, oldest first.
func (s *Store) ListUserKeys(ctx context.Context, userID int64) ([]Key, error) {
	keys := []Key{}
	err := s.read(ctx).Where("user_id = ? AND type IS NULL", userID).Order("id").Find(&keys).Error
	return keys, err
}

// GetKey loads any key by id.
func (s *Store) GetKey(ctx context.Context, id int64) (*Key, error) {
	var k Key
	if err := s.read(ctx).Take(&k, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &k, nil
}

// GetUserKey loads a user's SSH key; another user's key is ErrNotFound.
func (s *Store) GetUserKey(ctx context.Context, userID, id int64) (*Key, error) {
	var k Key
	if err := s.read(ctx).Where("user_id = ? AND type IS NULL", userID).Take(&k, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &k, nil
}

// DeleteUserKey removes a user's SSH key and returns it.
func (s *Store) DeleteUserKey(ctx context.Context, userID, id int64) (*Key, error) {
	var k Key
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND type IS NULL", userID).Take(&k, id).Error; err != nil {
			return notFound(err)
		}
		return tx.Delete(&Key{}, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// checkFingerprintFree adds "has already been taken" when any key, a user's
// or a deploy key, has the fingerprint: 8.7 kept them unique across both.
func checkFingerprintFree(tx *gorm.DB, fingerprint string, v *ValidationError) error {
	var n int64
	if err := tx.Model(&Key{}).Where("fingerprint = ?", fingerprint).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		v.Add("fingerprint", msgTaken)
	}
	return nil
}
