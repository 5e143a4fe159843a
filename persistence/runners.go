package persistence

// Runners as users and administrators manage them (8.7's lib/api/runners.rb
// and the legacy CI v1 runners and projects resources): lists with 8.7's
// scopes, who may reach a runner, editing, removing, and enabling a runner
// on a project. Registration and the runner's own calls live with the
// runner protocol.

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// RunnerOnlineTimeout is 8.7's Ci::Runner::ONLINE_CONTACT_TIMEOUT: a runner
// is online when it contacted the server within it.
const RunnerOnlineTimeout = time.Hour

// RunnerScopes are 8.7's Ci::Runner::AVAILABLE_SCOPES.
var RunnerScopes = []string{"specific", "shared", "active", "paused", "online"}

// RunnerFilter narrows a runner list. Zero fields do not filter.
type RunnerFilter struct {
	// Scope is one of RunnerScopes.
	Scope string
	// ManagedBy keeps the specific runners enabled on a project the user
	// is a master or owner of (8.7's User#ci_authorized_runners).
	ManagedBy int64
	// ProjectID keeps the runners enabled on the project and the shared
	// ones (8.7's Ci::Runner.owned_or_shared).
	ProjectID int64
}

// managedRunnerIDs is the subquery behind ci_authorized_runners.
const managedRunnerIDs = `SELECT rp.runner_id FROM ci_runner_projects rp
	JOIN project_authorizations pa ON pa.project_id = rp.project_id
	WHERE pa.user_id = ? AND pa.access_level >= ?`

func (s *Store) runnerQuery(ctx context.Context, f RunnerFilter) (*gorm.DB, error) {
	q := s.read(ctx).Model(&Runner{})
	if f.ManagedBy != 0 {
		q = q.Where("is_shared = ? AND id IN ("+managedRunnerIDs+")", false, f.ManagedBy, AccessMaster)
	}
	if f.ProjectID != 0 {
		q = q.Where("is_shared = ? OR id IN (SELECT runner_id FROM ci_runner_projects WHERE project_id = ?)", true, f.ProjectID)
	}
	switch f.Scope {
	case "":
	case "specific":
		q = q.Where("is_shared = ?", false)
	case "shared":
		q = q.Where("is_shared = ?", true)
	case "active":
		q = q.Where("active = ?", true)
	case "paused":
		q = q.Where("active = ?", false)
	case "online":
		q = q.Where("contacted_at > ?", s.now().Add(-RunnerOnlineTimeout))
	default:
		return nil, errors.New("persistence: unknown runner scope " + f.Scope)
	}
	return q, nil
}

// ListRunners returns one page of runners, oldest first, and the total.
func (s *Store) ListRunners(ctx context.Context, f RunnerFilter, pg Page) ([]Runner, int64, error) {
	q, err := s.runnerQuery(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	return listPage[Runner](q, pg)
}

// GetRunner finds a runner by id.
func (s *Store) GetRunner(ctx context.Context, id int64) (*Runner, error) {
	var r Runner
	if err := s.read(ctx).Take(&r, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// RunnerManagedBy is 8.7's user_can_access_runner?: the runner is a
// specific runner enabled on a project the user masters or owns.
func (s *Store) RunnerManagedBy(ctx context.Context, runnerID, userID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&Runner{}).
		Where("id = ? AND is_shared = ? AND id IN ("+managedRunnerIDs+")", runnerID, false, userID, AccessMaster).
		Count(&n).Error
	return n > 0, err
}

// RunnerProjectIDs lists the projects a runner is enabled on, in the order
// it was enabled on them.
func (s *Store) RunnerProjectIDs(ctx context.Context, runnerID int64) ([]int64, error) {
	ids := []int64{}
	err := s.read(ctx).Model(&RunnerProject{}).Where("runner_id = ?", runnerID).Order("id").Pluck("project_id", &ids).Error
	return ids, err
}

// RunnerUpdate edits a runner; nil fields stay. TagList is comma-separated.
type RunnerUpdate struct {
	Description *string
	Active      *bool
	TagList     *string
}

// UpdateRunner edits a runner.
func (s *Store) UpdateRunner(ctx context.Context, id int64, u RunnerUpdate) (*Runner, error) {
	var r Runner
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&r, id).Error; err != nil {
			return notFound(err)
		}
		if u.Description != nil {
			r.Description = u.Description
		}
		if u.Active != nil {
			r.Active = *u.Active
		}
		if u.TagList != nil {
			r.TagList = *u.TagList
		}
		r.UpdatedAt = s.now()
		return tx.Select("description", "active", "tag_list", "updated_at").Save(&r).Error
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// EnableRunner links a runner to a project. An existing link is returned
// as it is, with created false: enabling twice changes nothing.
func (s *Store) EnableRunner(ctx context.Context, runnerID, projectID int64) (rp *RunnerProject, created bool, err error) {
	rp = &RunnerProject{}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Where("runner_id = ? AND project_id = ?", runnerID, projectID).Take(rp).Error
		if err == nil {
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		now := s.now()
		*rp = RunnerProject{RunnerID: runnerID, ProjectID: projectID, CreatedAt: now, UpdatedAt: now}
		created = true
		return tx.Create(rp).Error
	})
	if err != nil {
		return nil, false, err
	}
	return rp, created, nil
}

// GetRunnerProject finds the link of a runner to a project.
func (s *Store) GetRunnerProject(ctx context.Context, projectID, runnerID int64) (*RunnerProject, error) {
	var rp RunnerProject
	if err := s.read(ctx).Where("runner_id = ? AND project_id = ?", runnerID, projectID).Take(&rp).Error; err != nil {
		return nil, notFound(err)
	}
	return &rp, nil
}

// ErrLastRunnerProject refuses to unlink a runner from its only project.
var ErrLastRunnerProject = errors.New("persistence: the runner's only project")

// DisableRunner removes a runner's link to a project. With keepLast it
// refuses (ErrLastRunnerProject) to remove the runner's last link, checked
// in the same transaction so two concurrent removals cannot orphan it.
func (s *Store) DisableRunner(ctx context.Context, projectID, runnerID int64, keepLast bool) (*RunnerProject, error) {
	var rp RunnerProject
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("runner_id = ? AND project_id = ?", runnerID, projectID).Take(&rp).Error; err != nil {
			return notFound(err)
		}
		if keepLast {
			var n int64
			if err := tx.Model(&RunnerProject{}).Where("runner_id = ?", runnerID).Count(&n).Error; err != nil {
				return err
			}
			if n == 1 {
				return ErrLastRunnerProject
			}
		}
		return tx.Delete(&RunnerProject{}, rp.ID).Error
	})
	if err != nil {
		return nil, err
	}
	return &rp, nil
}
