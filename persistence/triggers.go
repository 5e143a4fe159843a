package persistence

// Build triggers (8.7's Ci::Trigger, paranoid, and Ci::TriggerRequest)
// and secure build variables (Ci::Variable).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// TriggerWithUse is a trigger and the time of its latest request (the
// entity's last_used).
type TriggerWithUse struct {
	Trigger
	LastUsed *time.Time
}

// newTriggerToken is 8.7's SecureRandom.hex(15).
func newTriggerToken() string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// CreateTrigger makes a trigger with a fresh token for the project.
func (s *Store) CreateTrigger(ctx context.Context, projectID int64) (*TriggerWithUse, error) {
	now := s.now()
	tr := Trigger{ProjectID: projectID, Token: newTriggerToken(), CreatedAt: now, UpdatedAt: now}
	if err := s.write(ctx).Create(&tr).Error; err != nil {
		return nil, err
	}
	return &TriggerWithUse{Trigger: tr}, nil
}

// lastUsed fills the triggers' LastUsed.
func (s *Store) lastUsed(ctx context.Context, ts []TriggerWithUse) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
	}
	var rows []TriggerRequest
	// The latest request of each trigger: the one with the highest id.
	err := s.read(ctx).Where("id IN (?)", s.read(ctx).Model(&TriggerRequest{}).Select("MAX(id)").
		Where("trigger_id IN ?", ids).Group("trigger_id")).Find(&rows).Error
	if err != nil {
		return err
	}
	last := map[int64]time.Time{}
	for _, r := range rows {
		last[r.TriggerID] = r.CreatedAt
	}
	for i := range ts {
		if t, ok := last[ts[i].ID]; ok {
			ts[i].LastUsed = &t
		}
	}
	return nil
}

// ListTriggers returns one page of the project's live triggers, oldest
// first, and their total.
func (s *Store) ListTriggers(ctx context.Context, projectID int64, pg Page) ([]TriggerWithUse, int64, error) {
	q := s.read(ctx).Model(&Trigger{}).Where("project_id = ? AND deleted_at IS NULL", projectID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var list []Trigger
	if err := q.Order("id").Offset(pg.Offset).Limit(pg.Limit).Find(&list).Error; err != nil {
		return nil, 0, err
	}
	out := make([]TriggerWithUse, len(list))
	for i := range list {
		out[i].Trigger = list[i]
	}
	return out, total, s.lastUsed(ctx, out)
}

// GetTrigger finds a live trigger of the project by its token.
func (s *Store) GetTrigger(ctx context.Context, projectID int64, token string) (*TriggerWithUse, error) {
	var tr Trigger
	err := s.read(ctx).Where("project_id = ? AND token = ? AND deleted_at IS NULL", projectID, token).Take(&tr).Error
	if err != nil {
		return nil, notFound(err)
	}
	out := []TriggerWithUse{{Trigger: tr}}
	if err := s.lastUsed(ctx, out); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// TriggerByToken finds a live trigger of any project by its token.
func (s *Store) TriggerByToken(ctx context.Context, token string) (*Trigger, error) {
	var tr Trigger
	if err := s.read(ctx).Where("token = ? AND deleted_at IS NULL", token).Take(&tr).Error; err != nil {
		return nil, notFound(err)
	}
	return &tr, nil
}

// DeleteTrigger marks a live trigger deleted (it is kept, as 8.7's
// paranoid model kept it) and returns it as it now is.
func (s *Store) DeleteTrigger(ctx context.Context, projectID int64, token string) (*TriggerWithUse, error) {
	tr, err := s.GetTrigger(ctx, projectID, token)
	if err != nil {
		return nil, err
	}
	now := s.now()
	res := s.write(ctx).Model(&Trigger{}).Where("id = ? AND deleted_at IS NULL", tr.ID).
		Updates(map[string]any{"deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	tr.DeletedAt, tr.UpdatedAt = &now, now
	return tr, nil
}

// CreateTriggerRequest records one use of a trigger with its variables
// (JSON, or nil).
func (s *Store) CreateTriggerRequest(ctx context.Context, triggerID int64, variables *string) (*TriggerRequest, error) {
	now := s.now()
	r := TriggerRequest{TriggerID: triggerID, Variables: variables, CreatedAt: now, UpdatedAt: now}
	if err := s.write(ctx).Create(&r).Error; err != nil {
		return nil, err
	}
	return &r, nil
}

// GetTriggerRequest returns a trigger request by id.
func (s *Store) GetTriggerRequest(ctx context.Context, id int64) (*TriggerRequest, error) {
	var r TriggerRequest
	if err := s.read(ctx).Take(&r, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// variableKey is Ci::Variable's key format.
var variableKey = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// ListVariables returns one page of the project's variables, in creation
// order, and their total.
func (s *Store) ListVariables(ctx context.Context, projectID int64, pg Page) ([]Variable, int64, error) {
	q := s.read(ctx).Model(&Variable{}).Where("project_id = ?", projectID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Variable
	err := q.Order("id").Offset(pg.Offset).Limit(pg.Limit).Find(&out).Error
	return out, total, err
}

// GetVariable finds a project's variable by key.
func (s *Store) GetVariable(ctx context.Context, projectID int64, key string) (*Variable, error) {
	var v Variable
	if err := s.read(ctx).Where("project_id = ? AND key = ?", projectID, key).Take(&v).Error; err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// CreateVariable adds a variable, validated as Ci::Variable was: the key
// unique in the project, present, at most 255 characters, of letters,
// digits and '_' (a *ValidationError with Rails' messages otherwise).
func (s *Store) CreateVariable(ctx context.Context, projectID int64, key string, value *string) (*Variable, error) {
	v := Variable{ProjectID: projectID, Key: key, Value: value}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		verr := &ValidationError{}
		var n int64
		if err := tx.Model(&Variable{}).Where("project_id = ? AND key = ?", projectID, key).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			verr.Add("key", msgTaken)
		}
		if key == "" {
			verr.Add("key", msgBlank)
		}
		if utf8.RuneCountInString(key) > 255 {
			verr.Add("key", "is too long (maximum is 255 characters)")
		}
		if !variableKey.MatchString(key) {
			verr.Add("key", "can contain only letters, digits and '_'.")
		}
		if err := verr.OrNil(); err != nil {
			return err
		}
		return tx.Create(&v).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		verr := &ValidationError{}
		verr.Add("key", msgTaken)
		return nil, verr
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// UpdateVariable sets a variable's value; nil leaves it.
func (s *Store) UpdateVariable(ctx context.Context, projectID int64, key string, value *string) (*Variable, error) {
	v, err := s.GetVariable(ctx, projectID, key)
	if err != nil {
		return nil, err
	}
	if value == nil {
		return v, nil
	}
	if err := s.write(ctx).Model(&Variable{}).Where("id = ?", v.ID).Update("value", *value).Error; err != nil {
		return nil, err
	}
	v.Value = value
	return v, nil
}

// DeleteVariable removes a variable and returns it.
func (s *Store) DeleteVariable(ctx context.Context, projectID int64, key string) (*Variable, error) {
	v, err := s.GetVariable(ctx, projectID, key)
	if err != nil {
		return nil, err
	}
	res := s.write(ctx).Where("id = ?", v.ID).Delete(&Variable{})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return v, nil
}
