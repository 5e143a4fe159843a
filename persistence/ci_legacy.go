package persistence

// The legacy CI v1 resources (GitLab CI 7.x and GitLab CE 8.0–8.2): a CI
// project is the GitLab project with builds enabled, as GitLab 8.3's
// migration made it; its commits are the project's pipelines.

import (
	"context"

	"gorm.io/gorm"
)

// EnableCI turns builds on for a project (creating its "CI project"). When
// from is set, the CI settings are copied from that project, as standalone
// GitLab CI's fork service copied the origin's. It reports whether builds
// were off before.
func (s *Store) EnableCI(ctx context.Context, projectID int64, from *int64) (*Project, bool, error) {
	var p Project
	var wasOff bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&p, projectID).Error; err != nil {
			return notFound(err)
		}
		wasOff = !p.BuildsEnabled
		cols := map[string]any{"builds_enabled": true, "updated_at": s.now()}
		if from != nil {
			var o Project
			if err := tx.Take(&o, *from).Error; err != nil {
				return notFound(err)
			}
			cols["build_timeout"] = o.BuildTimeout
			cols["build_allow_git_fetch"] = o.BuildAllowGitFetch
			cols["build_coverage_regex"] = o.BuildCoverageRegex
			cols["shared_runners_enabled"] = o.SharedRunnersEnabled
			cols["public_builds"] = o.PublicBuilds
		}
		return tx.Model(&Project{}).Where("id = ?", projectID).Updates(cols).Error
	})
	if err != nil {
		return nil, false, err
	}
	out, err := s.GetProject(ctx, projectID)
	return out, wasOff, err
}

// ListLegacyCommits returns one page of a project's pipelines, newest first,
// and the total.
func (s *Store) ListLegacyCommits(ctx context.Context, projectID int64, pg Page) ([]Pipeline, int64, error) {
	q := s.read(ctx).Model(&Pipeline{}).Where("project_id = ?", projectID)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	items := []Pipeline{}
	if total == 0 {
		return items, 0, nil
	}
	q = q.Order("id DESC").Offset(pg.Offset)
	if pg.Limit > 0 {
		q = q.Limit(pg.Limit)
	}
	return items, total, q.Find(&items).Error
}

// FindLegacyCommit finds the pipeline of a sha on a ref (8.7 kept one CI
// commit per sha and ref; the newest wins when there are more).
func (s *Store) FindLegacyCommit(ctx context.Context, projectID int64, sha, ref string) (*Pipeline, error) {
	var p Pipeline
	err := s.read(ctx).Where("project_id = ? AND sha = ? AND ref = ?", projectID, sha, ref).Order("id DESC").Take(&p).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// LegacyCommitBuilds returns the builds of pipelines, by pipeline id, in
// the order they were created.
func (s *Store) LegacyCommitBuilds(ctx context.Context, pipelineIDs []int64) (map[int64][]CommitStatus, error) {
	out := map[int64][]CommitStatus{}
	if len(pipelineIDs) == 0 {
		return out, nil
	}
	var rows []CommitStatus
	err := s.read(ctx).Where("type = ? AND pipeline_id IN ?", StatusTypeBuild, pipelineIDs).Order("id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, b := range rows {
		out[*b.PipelineID] = append(out[*b.PipelineID], b)
	}
	return out, nil
}
