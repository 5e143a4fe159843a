package persistence

// Runners of the CI API v1 runner protocol: registration, lookup by token,
// unregistration (GitLab 8.7's lib/ci/api/runners.rb and Ci::Runner).

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RunnerInfo is what a runner reports about itself; nil fields were not sent.
type RunnerInfo struct {
	Name, Version, Revision, Platform, Architecture *string
}

// RunnerRegistration is a POST /runners/register.
type RunnerRegistration struct {
	// Token is the shared registration token or a project's runners_token.
	Token       string
	Description *string
	TagList     *string
	Info        RunnerInfo
}

// NormalizeTagList turns "a, b,,c" into "a,b,c" (8.7's acts_as_taggable
// parsed the string the same way), dropping duplicates.
func NormalizeTagList(s string) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

// Tags is the runner's tag list as a slice.
func (r *Runner) Tags() []string {
	if r.TagList == "" {
		return []string{}
	}
	return strings.Split(r.TagList, ",")
}

// RegisterRunner creates a shared runner when the token is the instance's
// registration token, or a specific runner enabled on the project whose
// runners_token it is. Any other token answers ErrNotFound.
func (s *Store) RegisterRunner(ctx context.Context, reg RunnerRegistration) (*Runner, error) {
	if reg.Token == "" {
		return nil, ErrNotFound
	}
	var r *Runner
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var shared int64
		if err := tx.Model(&ApplicationSetting{}).Where("runners_registration_token = ?", reg.Token).Count(&shared).Error; err != nil {
			return err
		}
		var projectID int64
		if shared == 0 {
			var p Project
			if err := tx.Select("id").Where("runners_token = ?", reg.Token).Take(&p).Error; err != nil {
				return notFound(err)
			}
			projectID = p.ID
		}
		now := s.now()
		r = &Runner{Token: NewToken(30), Description: reg.Description, Active: true, IsShared: shared > 0,
			Name: reg.Info.Name, Version: reg.Info.Version, Revision: reg.Info.Revision,
			Platform: reg.Info.Platform, Architecture: reg.Info.Architecture,
			CreatedAt: now, UpdatedAt: now}
		if reg.TagList != nil {
			r.TagList = NormalizeTagList(*reg.TagList)
		}
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		if projectID != 0 {
			return tx.Create(&RunnerProject{RunnerID: r.ID, ProjectID: projectID, CreatedAt: now, UpdatedAt: now}).Error
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RunnerByToken finds a runner by its token.
func (s *Store) RunnerByToken(ctx context.Context, token string) (*Runner, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	var r Runner
	if err := s.read(ctx).Where("token = ?", token).Take(&r).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// DeleteRunner removes a runner and its project links; builds keep their
// runner_id, as 8.7's did.
func (s *Store) DeleteRunner(ctx context.Context, id int64) (*Runner, error) {
	var r Runner
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&r, id).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Where("runner_id = ?", id).Delete(&RunnerProject{}).Error; err != nil {
			return err
		}
		return tx.Delete(&Runner{}, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ContactInterval is how stale a runner's contacted_at may get before a
// poll writes it again. 8.7 wrote it on every poll; later GitLab throttled
// it (40–80 minutes) to spare the database. A minute keeps the "last
// contact" the v3 runners API shows accurate enough.
const ContactInterval = time.Minute

// TouchRunner records a runner's contact and the info it sent; only the
// given info fields change.
func (s *Store) TouchRunner(ctx context.Context, id int64, info RunnerInfo) error {
	now := s.now()
	u := map[string]any{"contacted_at": now}
	for col, v := range map[string]*string{"name": info.Name, "version": info.Version,
		"revision": info.Revision, "platform": info.Platform, "architecture": info.Architecture} {
		if v != nil {
			u[col] = *v
		}
	}
	err := s.write(ctx).Model(&Runner{}).Where("id = ?", id).Updates(u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	return err
}
