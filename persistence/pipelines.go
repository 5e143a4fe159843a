package persistence

// Pipelines (GitLab 8.7's Ci::Commit) and their stage progression: the
// builds of a stage are created only when the stages before it finished
// (Ci::Commit#create_builds and #create_next_builds), and the pipeline's
// status is derived from its latest builds (Ci::Status).

import (
	"context"
	"errors"
	"sort"
	"time"

	"gorm.io/gorm"
)

// StatusSkipped is the status of a pipeline without builds.
const StatusSkipped = "skipped"

// The `when` of a job.
const (
	WhenOnSuccess = "on_success"
	WhenOnFailure = "on_failure"
	WhenAlways    = "always"
)

// StatusOf is one status counted by AggregateStatus.
type StatusOf struct {
	Status       string
	AllowFailure bool
}

// AggregateStatus is 8.7's Ci::Status.get_status over the latest status
// of each name: success when every one succeeded or failed (or was
// canceled) while allowed to, pending when all are pending, running while
// any is pending or running, canceled when all are, else failed; skipped
// when there is none.
func AggregateStatus(statuses []StatusOf) string {
	if len(statuses) == 0 {
		return StatusSkipped
	}
	var success, pending, running, canceled int
	for _, s := range statuses {
		switch {
		case s.Status == StatusSuccess,
			s.AllowFailure && (s.Status == StatusFailed || s.Status == StatusCanceled):
			success++
		case s.Status == StatusPending:
			pending++
		case s.Status == StatusRunning:
			running++
		case s.Status == StatusCanceled:
			canceled++
		}
	}
	n := len(statuses)
	switch {
	case success == n:
		return StatusSuccess
	case pending == n:
		return StatusPending
	case running > 0 || pending > 0:
		return StatusRunning
	case canceled == n:
		return StatusCanceled
	}
	return StatusFailed
}

// BuildGroup is what makes builds "similar" in 8.7: builds of one
// pipeline with the same tag flag and trigger request run one stage
// sequence together.
type BuildGroup struct {
	Tag              bool
	TriggerRequestID *int64
}

func (g BuildGroup) where(q *gorm.DB) *gorm.DB {
	q = q.Where("tag = ?", g.Tag)
	if g.TriggerRequestID == nil {
		return q.Where("trigger_request_id IS NULL")
	}
	return q.Where("trigger_request_id = ?", *g.TriggerRequestID)
}

// NewPipeline is a push's, trigger's or API call's CI run of one sha.
type NewPipeline struct {
	// Pipeline carries ProjectID, Ref, SHA, BeforeSHA, Tag, UserID and,
	// for an invalid .gitlab-ci.yml, YAMLErrors.
	Pipeline Pipeline
	// Jobs are the builds that may be created: every job of the
	// configuration that matches the ref, each with Name, Stage, StageIdx,
	// RunWhen and the columns to copy; the first stage that has jobs due
	// is created now, the others as the stages before them finish.
	Jobs             []CommitStatus
	TriggerRequestID *int64
}

// CreatePipeline finds the pipeline of the project, sha and ref, or
// creates it, and creates the builds of its first due stage, in one
// transaction. It returns the pipeline and the builds it created; builds
// that already exist (the same name in the same group) are not created
// twice. An existing pipeline's yaml_errors are written once.
func (s *Store) CreatePipeline(ctx context.Context, in NewPipeline) (*Pipeline, []CommitStatus, error) {
	pl, created, err := s.createPipeline(ctx, in)
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another transaction created the pipeline meanwhile: use it.
		pl, created, err = s.createPipeline(ctx, in)
	}
	return pl, created, err
}

func (s *Store) createPipeline(ctx context.Context, in NewPipeline) (*Pipeline, []CommitStatus, error) {
	var pl Pipeline
	var created []CommitStatus
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		err := tx.Where("project_id = ? AND sha = ? AND ref = ?", in.Pipeline.ProjectID, in.Pipeline.SHA, in.Pipeline.Ref).
			Order("id").Take(&pl).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			pl = in.Pipeline
			pl.ID, pl.CreatedAt, pl.UpdatedAt = 0, now, now
			if err := tx.Create(&pl).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// Lock the pipeline: its stage progression is serialised.
			if err := tx.Model(&Pipeline{}).Where("id = ?", pl.ID).Update("updated_at", now).Error; err != nil {
				return err
			}
			if pl.YAMLErrors == nil && in.Pipeline.YAMLErrors != nil {
				pl.YAMLErrors = in.Pipeline.YAMLErrors
				if err := tx.Model(&Pipeline{}).Where("id = ?", pl.ID).Update("yaml_errors", pl.YAMLErrors).Error; err != nil {
					return err
				}
			}
		}
		if in.TriggerRequestID != nil {
			if err := tx.Model(&TriggerRequest{}).Where("id = ?", *in.TriggerRequestID).Update("pipeline_id", pl.ID).Error; err != nil {
				return err
			}
		}
		group := BuildGroup{Tag: in.Pipeline.Tag, TriggerRequestID: in.TriggerRequestID}
		created, err = s.createStage(tx, &pl, group, in.Jobs, -1, StatusSuccess)
		if err != nil {
			return err
		}
		return s.refreshPipeline(tx, &pl)
	})
	if err != nil {
		return nil, nil, err
	}
	return &pl, created, nil
}

// AdvancePipeline is what follows a change of build's status: when the
// build finished and is still the latest of its name in its group, the
// builds of the next due stage are created, chosen from jobs by their
// `when` against the status of this and the earlier stages (8.7's
// create_next_builds); then the pipeline's status is recomputed. It runs
// in one transaction that first locks the pipeline's row, so two builds
// finishing at once create the next stage exactly once.
func (s *Store) AdvancePipeline(ctx context.Context, buildID int64, jobs []CommitStatus) (*Pipeline, []CommitStatus, error) {
	var pl Pipeline
	var created []CommitStatus
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var b CommitStatus
		if err := tx.Omit("Author").Where("type = ?", StatusTypeBuild).Take(&b, buildID).Error; err != nil {
			return notFound(err)
		}
		if b.PipelineID == nil {
			return ErrNotFound
		}
		if err := tx.Model(&Pipeline{}).Where("id = ?", *b.PipelineID).Update("updated_at", s.now()).Error; err != nil {
			return err
		}
		if err := tx.Take(&pl, *b.PipelineID).Error; err != nil {
			return notFound(err)
		}
		// Re-read the build under the lock: its status is settled now.
		if err := tx.Omit("Author").Take(&b, buildID).Error; err != nil {
			return notFound(err)
		}
		switch b.Status {
		case StatusSuccess, StatusFailed, StatusCanceled:
		default:
			return s.refreshPipeline(tx, &pl)
		}
		group := BuildGroup{Tag: b.Tag, TriggerRequestID: b.TriggerRequestID}
		var newer int64
		if err := group.where(tx.Model(&CommitStatus{})).
			Where("pipeline_id = ? AND type = ? AND name = ? AND id > ?", pl.ID, StatusTypeBuild, b.Name, b.ID).
			Count(&newer).Error; err != nil {
			return err
		}
		if newer == 0 {
			prior, err := s.latestBuilds(tx, pl.ID, group, b.StageIdx)
			if err != nil {
				return err
			}
			if created, err = s.createStage(tx, &pl, group, jobs, b.StageIdx, AggregateStatus(prior)); err != nil {
				return err
			}
		}
		return s.refreshPipeline(tx, &pl)
	})
	if err != nil {
		return nil, nil, err
	}
	return &pl, created, nil
}

// latestBuilds are the statuses of the latest build of each name in the
// group, of the stages up to maxStage (all when negative).
func (s *Store) latestBuilds(tx *gorm.DB, pipelineID int64, g BuildGroup, maxStage int) ([]StatusOf, error) {
	latest := g.where(tx.Model(&CommitStatus{}).Select("MAX(id)").
		Where("pipeline_id = ? AND type = ?", pipelineID, StatusTypeBuild))
	if maxStage >= 0 {
		latest = latest.Where("stage_idx <= ?", maxStage)
	}
	var out []StatusOf
	err := tx.Model(&CommitStatus{}).Select("status, allow_failure").
		Where("id IN (?)", latest.Group("name")).Scan(&out).Error
	return out, err
}

// whenFits tells whether a job with when runs after stages that ended
// with status.
func whenFits(when, status string) bool {
	switch when {
	case WhenOnSuccess:
		return status == StatusSuccess
	case WhenOnFailure:
		return status == StatusFailed
	case WhenAlways:
		return status == StatusSuccess || status == StatusFailed
	}
	return false
}

// createStage walks the stages after afterStage in order and creates, as
// pending, the jobs of the first one that has jobs due for status; jobs
// already built in the group count as due but are not built again.
func (s *Store) createStage(tx *gorm.DB, pl *Pipeline, g BuildGroup, jobs []CommitStatus, afterStage int, status string) ([]CommitStatus, error) {
	byStage := map[int][]CommitStatus{}
	var stages []int
	for _, j := range jobs {
		if j.StageIdx <= afterStage || !whenFits(j.RunWhen, status) {
			continue
		}
		if _, ok := byStage[j.StageIdx]; !ok {
			stages = append(stages, j.StageIdx)
		}
		byStage[j.StageIdx] = append(byStage[j.StageIdx], j)
	}
	sort.Ints(stages)
	if len(stages) == 0 {
		return nil, nil
	}
	due := byStage[stages[0]]
	names := make([]string, len(due))
	for i, j := range due {
		names[i] = j.Name
	}
	var existing []string
	if err := g.where(tx.Model(&CommitStatus{})).
		Where("pipeline_id = ? AND type = ? AND name IN ?", pl.ID, StatusTypeBuild, names).
		Pluck("name", &existing).Error; err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	now := s.now()
	var created []CommitStatus
	for _, j := range due {
		if have[j.Name] {
			continue
		}
		have[j.Name] = true
		b := j
		ref := pl.Ref
		token := NewToken(20)
		b.ID, b.ProjectID, b.SHA, b.PipelineRef, b.Ref = 0, pl.ProjectID, pl.SHA, pl.Ref, &ref
		b.Type, b.PipelineID, b.Status, b.Token = StatusTypeBuild, &pl.ID, StatusPending, &token
		b.Tag, b.TriggerRequestID = g.Tag, g.TriggerRequestID
		b.RunnerID, b.StartedAt, b.FinishedAt, b.Author = nil, nil, nil, nil
		b.CreatedAt, b.UpdatedAt = now, now
		if err := tx.Omit("Author").Create(&b).Error; err != nil {
			return nil, err
		}
		created = append(created, b)
	}
	return created, nil
}

// refreshPipeline stores the pipeline's status, started_at, finished_at
// and duration, derived from its builds as 8.7 derived them: the status
// of the latest build of each name (8.7's latest of each name and ref; a
// pipeline has one ref), failed when the configuration was invalid, the earliest start, the latest finish, and the sum of every
// build's duration, retried ones included.
func (s *Store) refreshPipeline(tx *gorm.DB, pl *Pipeline) error {
	var status string
	if pl.YAMLErrors != nil {
		status = StatusFailed
	} else {
		var latest []StatusOf
		err := tx.Model(&CommitStatus{}).Select("status, allow_failure").
			Where("id IN (?)", tx.Model(&CommitStatus{}).Select("MAX(id)").
				Where("pipeline_id = ? AND type = ?", pl.ID, StatusTypeBuild).Group("name")).
			Scan(&latest).Error
		if err != nil {
			return err
		}
		status = AggregateStatus(latest)
	}
	var times []struct {
		StartedAt, FinishedAt *time.Time
	}
	if err := tx.Model(&CommitStatus{}).Select("started_at, finished_at").
		Where("pipeline_id = ? AND type = ?", pl.ID, StatusTypeBuild).Scan(&times).Error; err != nil {
		return err
	}
	pl.Status, pl.StartedAt, pl.FinishedAt, pl.Duration = &status, nil, nil, nil
	var duration int64
	hasDuration := false
	for _, t := range times {
		if t.StartedAt != nil && (pl.StartedAt == nil || t.StartedAt.Before(*pl.StartedAt)) {
			v := *t.StartedAt
			pl.StartedAt = &v
		}
		if t.FinishedAt != nil && (pl.FinishedAt == nil || t.FinishedAt.After(*pl.FinishedAt)) {
			v := *t.FinishedAt
			pl.FinishedAt = &v
		}
		if t.StartedAt != nil && t.FinishedAt != nil {
			duration += int64(t.FinishedAt.Sub(*t.StartedAt).Seconds())
			hasDuration = true
		}
	}
	if hasDuration {
		pl.Duration = &duration
	}
	pl.UpdatedAt = s.now()
	return tx.Model(&Pipeline{}).Where("id = ?", pl.ID).Updates(map[string]any{
		"status": pl.Status, "started_at": pl.StartedAt, "finished_at": pl.FinishedAt,
		"duration": pl.Duration, "updated_at": pl.UpdatedAt,
	}).Error
}

// GetPipeline returns a pipeline by id.
func (s *Store) GetPipeline(ctx context.Context, id int64) (*Pipeline, error) {
	var pl Pipeline
	if err := s.read(ctx).Take(&pl, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &pl, nil
}

// BuildWithPipeline returns a build, its user, and its pipeline.
func (s *Store) BuildWithPipeline(ctx context.Context, id int64) (*CommitStatus, *Pipeline, error) {
	var b CommitStatus
	if err := s.read(ctx).Preload("Author").Where("type = ?", StatusTypeBuild).Take(&b, id).Error; err != nil {
		return nil, nil, notFound(err)
	}
	if b.PipelineID == nil {
		return &b, nil, nil
	}
	pl, err := s.GetPipeline(ctx, *b.PipelineID)
	if err != nil {
		return nil, nil, err
	}
	return &b, pl, nil
}

// ListPipelineBuilds lists a pipeline's builds, oldest first.
func (s *Store) ListPipelineBuilds(ctx context.Context, pipelineID int64) ([]CommitStatus, error) {
	var out []CommitStatus
	err := s.read(ctx).Preload("Author").Where("pipeline_id = ? AND type = ?", pipelineID, StatusTypeBuild).
		Order("id").Find(&out).Error
	return out, err
}
