package persistence

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Hook types, as GitLab's STI column named them.
const (
	ProjectHookType = "ProjectHook"
	SystemHookType  = "SystemHook"
)

// WebHook is a project hook or a system hook.
type WebHook struct {
	ID                    int64 `gorm:"primaryKey"`
	URL                   string
	ProjectID             *int64
	Type                  string
	PushEvents            bool
	IssuesEvents          bool
	MergeRequestsEvents   bool
	TagPushEvents         bool
	NoteEvents            bool
	BuildEvents           bool
	EnableSSLVerification bool `gorm:"column:enable_ssl_verification"`
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// HookParams are a project hook's settings; nil fields stay (or default).
type HookParams struct {
	URL                                                           *string
	PushEvents, IssuesEvents, MergeRequestsEvents                 *bool
	TagPushEvents, NoteEvents, BuildEvents, EnableSSLVerification *bool
}

func (p HookParams) apply(h *WebHook) {
	if p.URL != nil {
		h.URL = *p.URL
	}
	setBool(&h.PushEvents, p.PushEvents)
	setBool(&h.IssuesEvents, p.IssuesEvents)
	setBool(&h.MergeRequestsEvents, p.MergeRequestsEvents)
	setBool(&h.TagPushEvents, p.TagPushEvents)
	setBool(&h.NoteEvents, p.NoteEvents)
	setBool(&h.BuildEvents, p.BuildEvents)
	setBool(&h.EnableSSLVerification, p.EnableSSLVerification)
}

// CreateHook stores a hook: a project hook when projectID is set, else a
// system hook. New hooks fire on pushes and verify SSL, as 8.7's defaults.
func (s *Store) CreateHook(ctx context.Context, projectID *int64, p HookParams) (*WebHook, error) {
	now := s.now()
	h := &WebHook{ProjectID: projectID, Type: SystemHookType, PushEvents: true, EnableSSLVerification: true, CreatedAt: now, UpdatedAt: now}
	if projectID != nil {
		h.Type = ProjectHookType
	}
	p.apply(h)
	if err := s.write(ctx).Create(h).Error; err != nil {
		return nil, err
	}
	return h, nil
}

// UpdateProjectHook edits a project's hook.
func (s *Store) UpdateProjectHook(ctx context.Context, projectID, id int64, p HookParams) (*WebHook, error) {
	var h WebHook
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("project_id = ? AND type = ?", projectID, ProjectHookType).Take(&h, id).Error; err != nil {
			return notFound(err)
		}
		p.apply(&h)
		h.UpdatedAt = s.now()
		return tx.Select("*").Save(&h).Error
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// ListHooks lists a project's hooks (projectID set) or the system hooks.
func (s *Store) ListHooks(ctx context.Context, projectID *int64, pg Page) ([]WebHook, int64, error) {
	q := s.read(ctx).Model(&WebHook{})
	if projectID != nil {
		q = q.Where("project_id = ? AND type = ?", *projectID, ProjectHookType)
	} else {
		q = q.Where("type = ?", SystemHookType)
	}
	return listPage[WebHook](q, pg)
}

// GetHook loads a project's hook (projectID set) or a system hook.
func (s *Store) GetHook(ctx context.Context, projectID *int64, id int64) (*WebHook, error) {
	q := s.read(ctx)
	if projectID != nil {
		q = q.Where("project_id = ? AND type = ?", *projectID, ProjectHookType)
	} else {
		q = q.Where("type = ?", SystemHookType)
	}
	var h WebHook
	if err := q.Take(&h, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &h, nil
}

// DeleteHook removes a hook and returns it.
func (s *Store) DeleteHook(ctx context.Context, projectID *int64, id int64) (*WebHook, error) {
	h, err := s.GetHook(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx).Delete(&WebHook{}, id).Error; err != nil {
		return nil, err
	}
	return h, nil
}

// HooksFor lists the hooks an event goes to: the system hooks, or a
// project's hooks that take the event (column names push_events, …).
func (s *Store) HooksFor(ctx context.Context, projectID *int64, eventColumn string) ([]WebHook, error) {
	var hooks []WebHook
	q := s.read(ctx)
	if projectID == nil {
		q = q.Where("type = ?", SystemHookType)
	} else {
		switch eventColumn {
		case "push_events", "issues_events", "merge_requests_events", "tag_push_events", "note_events", "build_events":
		default:
			return nil, errors.New("persistence: unknown hook event " + eventColumn)
		}
		q = q.Where("project_id = ? AND type = ? AND "+eventColumn+" = ?", *projectID, ProjectHookType, true)
	}
	err := q.Order("id").Find(&hooks).Error
	return hooks, err
}

// DeployKeyProject enables a deploy key on a project.
type DeployKeyProject struct {
	ID          int64 `gorm:"primaryKey"`
	DeployKeyID int64
	ProjectID   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DeployKeyType is the keys.type of a deploy key.
const DeployKeyType = "DeployKey"

// ListDeployKeys lists the deploy keys enabled on a project.
func (s *Store) ListDeployKeys(ctx context.Context, projectID int64) ([]Key, error) {
	keys := []Key{}
	err := s.read(ctx).Where("type = ? AND id IN (SELECT deploy_key_id FROM deploy_keys_projects WHERE project_id = ?)", DeployKeyType, projectID).
		Order("id").Find(&keys).Error
	return keys, err
}

// GetDeployKey loads a deploy key enabled on a project.
func (s *Store) GetDeployKey(ctx context.Context, projectID, id int64) (*Key, error) {
	var k Key
	err := s.read(ctx).Where("type = ? AND id IN (SELECT deploy_key_id FROM deploy_keys_projects WHERE project_id = ?)", DeployKeyType, projectID).
		Take(&k, id).Error
	return &k, notFound(err)
}

// AddDeployKey enables a deploy key on a project, as 8.7 did: a key already
// on the project is returned; a key already used as a deploy key on one of
// reuseFrom's projects is linked rather than created again; otherwise a
// new deploy key is created.
func (s *Store) AddDeployKey(ctx context.Context, projectID int64, title, key string, reuseFrom []int64) (*Key, error) {
	now := s.now()
	k := &Key{Title: title, Key: key, CreatedAt: now, UpdatedAt: now}
	typ := DeployKeyType
	k.Type = &typ
	v := validateKey(k)
	var out Key
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if v.Empty() {
			var existing Key
			err := tx.Where("type = ? AND fingerprint = ?", DeployKeyType, k.Fingerprint).Take(&existing).Error
			switch {
			case err == nil:
				var onProject int64
				if err := tx.Model(&DeployKeyProject{}).Where("deploy_key_id = ? AND project_id = ?", existing.ID, projectID).Count(&onProject).Error; err != nil {
					return err
				}
				if onProject > 0 {
					out = existing
					return nil
				}
				var usable int64
				if len(reuseFrom) > 0 {
					if err := tx.Model(&DeployKeyProject{}).Where("deploy_key_id = ? AND project_id IN ?", existing.ID, reuseFrom).Count(&usable).Error; err != nil {
						return err
					}
				}
				if usable > 0 {
					out = existing
					return tx.Create(&DeployKeyProject{DeployKeyID: existing.ID, ProjectID: projectID, CreatedAt: now, UpdatedAt: now}).Error
				}
				v.Add("fingerprint", msgTaken)
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			default:
				if err := checkFingerprintFree(tx, k.Fingerprint, v); err != nil {
					return err
				}
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		out = *k
		return tx.Create(&DeployKeyProject{DeployKeyID: k.ID, ProjectID: projectID, CreatedAt: now, UpdatedAt: now}).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveDeployKey deletes a deploy key enabled on a project, from every
// project it is on, as 8.7's key.destroy did. It returns the key.
func (s *Store) RemoveDeployKey(ctx context.Context, projectID, id int64) (*Key, error) {
	var k Key
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("type = ? AND id IN (SELECT deploy_key_id FROM deploy_keys_projects WHERE project_id = ?)", DeployKeyType, projectID).
			Take(&k, id).Error; err != nil {
			return notFound(err)
		}
		// 8.7 destroyed the key itself, so it leaves every project it was on.
		if err := tx.Where("deploy_key_id = ?", id).Delete(&DeployKeyProject{}).Error; err != nil {
			return err
		}
		return tx.Delete(&Key{}, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// TableName is GitLab's name for the table.
func (DeployKeyProject) TableName() string { return "deploy_keys_projects" }
