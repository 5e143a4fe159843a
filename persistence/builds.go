package persistence

// Builds as the v3 API shows and changes them (GitLab 8.7's lib/api/builds.rb
// and Ci::Build): lists by project or commit, cancel, retry, erase.

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// BuildFilter narrows a build list.
type BuildFilter struct {
	// PipelineID limits the list to one pipeline's builds.
	PipelineID *int64
	// Statuses keeps builds in any of them; empty keeps all.
	Statuses []string
}

// ListBuilds returns one page of a project's builds, newest first, with
// their authors, and the total.
func (s *Store) ListBuilds(ctx context.Context, projectID int64, f BuildFilter, pg Page) ([]CommitStatus, int64, error) {
	q := s.read(ctx).Model(&CommitStatus{}).Where("project_id = ? AND type = ?", projectID, StatusTypeBuild)
	if f.PipelineID != nil {
		q = q.Where("pipeline_id = ?", *f.PipelineID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []CommitStatus
	q = q.Preload("Author").Order("id DESC").Offset(pg.Offset)
	if pg.Limit > 0 {
		q = q.Limit(pg.Limit)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// FirstPipelineForSHA is the project's first pipeline of a commit (8.7's
// pipelines.find_by_sha), or ErrNotFound.
func (s *Store) FirstPipelineForSHA(ctx context.Context, projectID int64, sha string) (*Pipeline, error) {
	var p Pipeline
	if err := s.read(ctx).Where("project_id = ? AND sha = ?", projectID, sha).Order("id").Take(&p).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// CancelBuild moves a pending or running build to canceled (8.7's cancel
// event); it reports whether the build changed.
func (s *Store) CancelBuild(ctx context.Context, id int64) (bool, error) {
	now := s.now()
	res := s.write(ctx).Model(&CommitStatus{}).
		Where("id = ? AND type = ? AND status IN ?", id, StatusTypeBuild, []string{StatusPending, StatusRunning}).
		Updates(map[string]any{"status": StatusCanceled, "finished_at": now, "updated_at": now,
			"lock_version": gorm.Expr("lock_version + 1")})
	return res.RowsAffected == 1, res.Error
}

// RetryBuild creates a pending build copying old (8.7's Ci::Build.retry:
// the job, its stage, tags, options, variables and trigger), by user.
func (s *Store) RetryBuild(ctx context.Context, old *CommitStatus, userID int64) (*CommitStatus, error) {
	now := s.now()
	token := NewToken(20)
	uid := userID
	b := CommitStatus{ProjectID: old.ProjectID, SHA: old.SHA, PipelineRef: old.PipelineRef, Ref: old.Ref,
		Name: old.Name, Stage: old.Stage, Status: StatusPending, AuthorID: &uid, AllowFailure: old.AllowFailure,
		CreatedAt: now, UpdatedAt: now, Type: StatusTypeBuild, PipelineID: old.PipelineID, StageIdx: old.StageIdx,
		RunWhen: old.RunWhen, Tag: old.Tag, TagList: old.TagList, Commands: old.Commands, Options: old.Options,
		YAMLVariables: old.YAMLVariables, Token: &token, TriggerRequestID: old.TriggerRequestID}
	if b.RunWhen == "" {
		b.RunWhen = "on_success"
	}
	if err := s.write(ctx).Omit("Author").Create(&b).Error; err != nil {
		return nil, err
	}
	return s.GetBuild(ctx, b.ID)
}

// EraseBuild removes a finished build's trace and artifacts record and
// marks it erased by user (8.7's erase). ErrNotFound: no such build.
func (s *Store) EraseBuild(ctx context.Context, id, userID int64) (*CommitStatus, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("build_id = ?", id).Delete(&BuildTrace{}).Error; err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&CommitStatus{}).Where("id = ? AND type = ?", id, StatusTypeBuild).
			Updates(map[string]any{"artifacts_file": nil, "artifacts_size": nil, "artifacts_metadata": nil,
				"erased_at": now, "erased_by_id": userID, "updated_at": now})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return nil, err
	}
	return s.GetBuild(ctx, id)
}

// HasTrace says whether a build has a non-empty trace.
func (s *Store) HasTrace(ctx context.Context, id int64) (bool, error) {
	var t BuildTrace
	err := s.read(ctx).Select("build_id, size").Take(&t, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil && t.Size > 0, err
}
