package persistence

// Commit statuses: what external CI systems report about a commit
// (GitLab 8.7's GenericCommitStatus, lib/api/commit_statuses.rb), with the
// state machine of 8.7's CommitStatus.

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// The states of a commit status.
const (
	StatusPending  = "pending"
	StatusRunning  = "running"
	StatusSuccess  = "success"
	StatusFailed   = "failed"
	StatusCanceled = "canceled"
)

// CommitStatus is one status of a commit.
type CommitStatus struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	SHA       string `gorm:"column:sha"`
	// PipelineRef is the ref of the CI commit the status belongs to (8.7
	// kept one ci_commits row per sha and ref): the ref given, else the
	// first branch holding the commit.
	PipelineRef  string
	Ref          *string
	Name         string
	Stage        *string
	Status       string
	Description  *string
	TargetURL    *string `gorm:"column:target_url"`
	AuthorID     *int64
	Author       *User `gorm:"foreignKey:AuthorID"`
	AllowFailure bool
	StartedAt    *time.Time
	FinishedAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// Type is StatusTypeGeneric for a reported status, StatusTypeBuild for
	// a CI build; the fields below it are the build's (see migrate_ci.go).
	Type              string
	PipelineID        *int64
	StageIdx          int
	RunWhen           string
	Tag               bool
	TagList           string
	Commands          *string
	Options           *string
	YAMLVariables     *string `gorm:"column:yaml_variables"`
	Token             *string
	RunnerID          *int64
	TriggerRequestID  *int64
	Coverage          *float64
	ArtifactsFile     *string
	ArtifactsMetadata *string
	ArtifactsSize     *int64
	ErasedAt          *time.Time
	ErasedByID        *int64
	LockVersion       int64
}

// The two kinds of commit status rows (8.7's single-table inheritance).
const (
	StatusTypeGeneric = "GenericCommitStatus"
	StatusTypeBuild   = "Ci::Build"
)

// CommitStatusFilter narrows a commit's statuses; empty strings do not.
type CommitStatusFilter struct {
	Ref, Stage, Name string
	// All lists every status, not only the latest of each name per CI
	// commit.
	All bool
}

// ListCommitStatuses returns one page of a commit's statuses, oldest
// first, with their authors, and the total.
func (s *Store) ListCommitStatuses(ctx context.Context, projectID int64, sha string, f CommitStatusFilter, page Page) ([]CommitStatus, int64, error) {
	q := s.read(ctx).Model(&CommitStatus{}).Where("project_id = ? AND sha = ?", projectID, sha)
	if !f.All {
		q = q.Where("id IN (?)", s.read(ctx).Model(&CommitStatus{}).Select("MAX(id)").
			Where("project_id = ? AND sha = ?", projectID, sha).Group("name, pipeline_ref"))
	}
	if f.Ref != "" {
		q = q.Where("ref = ?", f.Ref)
	}
	if f.Stage != "" {
		q = q.Where("stage = ?", f.Stage)
	}
	if f.Name != "" {
		q = q.Where("name = ?", f.Name)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []CommitStatus
	if err := q.Preload("Author").Order("id").Offset(page.Offset).Limit(page.Limit).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CommitState is the status of a commit's CI (8.7's Ci::Status.get_status
// over the latest status of each name and ref, builds and reported
// statuses alike): failed when a pipeline of the commit has YAML errors,
// skipped when it has pipelines but no status, nil when it has neither.
func (s *Store) CommitState(ctx context.Context, projectID int64, sha string) (*string, error) {
	var latest []StatusOf
	err := s.read(ctx).Model(&CommitStatus{}).Select("status, allow_failure").
		Where("id IN (?)", s.read(ctx).Model(&CommitStatus{}).Select("MAX(id)").
			Where("project_id = ? AND sha = ?", projectID, sha).Group("name, pipeline_ref")).
		Scan(&latest).Error
	if err != nil {
		return nil, err
	}
	var pipelines []Pipeline
	if err := s.read(ctx).Select("id, yaml_errors").Where("project_id = ? AND sha = ?", projectID, sha).
		Find(&pipelines).Error; err != nil {
		return nil, err
	}
	if len(latest) == 0 && len(pipelines) == 0 {
		return nil, nil
	}
	for _, pl := range pipelines {
		if pl.YAMLErrors != nil {
			st := StatusFailed
			return &st, nil
		}
	}
	st := AggregateStatus(latest)
	return &st, nil
}

// CommitStatusReport is a POST /projects/:id/statuses/:sha. Nil fields
// were not given.
type CommitStatusReport struct {
	ProjectID   int64
	SHA         string
	PipelineRef string
	AuthorID    int64
	State       string
	// LookupName and LookupRef find the status to update: `name` (else
	// `context`) and `ref` as given, nil when absent (8.7's find_by then
	// looked for NULL).
	LookupName, LookupRef *string
	// The fields to save, nil when not given or blank (8.7's
	// attributes_for_keys kept only present values); Name is `name`, else
	// `context`.
	Name, Ref, TargetURL, Description *string
}

// ReportCommitStatus records a status as 8.7 did: it reuses the pending or
// running status of the CI commit with the same name and ref (none when no
// name is given: 8.7 looked for a NULL name), else starts a pending one by
// the caller; it saves the given fields (name defaulting to "default",
// stage to "external"), then moves the state: running starts a pending
// status, success/failed/canceled finish it, pending (or anything else) is
// written as it is. A state that is none of the five answers a
// *ValidationError {"status":["is invalid"]}, after the fields were saved,
// as 8.7's two saves did.
func (s *Store) ReportCommitStatus(ctx context.Context, in CommitStatusReport) (*CommitStatus, error) {
	var cs CommitStatus
	var invalid error
	err := s.tx(ctx, func(tx *gorm.DB) error {
		found := false
		if in.LookupName != nil {
			q := tx.Where("project_id = ? AND sha = ? AND pipeline_ref = ? AND name = ? AND status IN ?",
				in.ProjectID, in.SHA, in.PipelineRef, *in.LookupName, []string{StatusPending, StatusRunning})
			if in.LookupRef != nil {
				q = q.Where("ref = ?", *in.LookupRef)
			} else {
				q = q.Where("ref IS NULL")
			}
			switch err := q.Order("id").Take(&cs).Error; {
			case err == nil:
				found = true
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			}
		}
		now := s.now()
		if !found {
			author := in.AuthorID
			cs = CommitStatus{ProjectID: in.ProjectID, SHA: in.SHA, PipelineRef: in.PipelineRef,
				AuthorID: &author, Status: StatusPending, CreatedAt: now,
				Type: StatusTypeGeneric, RunWhen: "on_success"}
		}
		if in.Name != nil {
			cs.Name = *in.Name
		}
		if cs.Name == "" {
			cs.Name = "default"
		}
		if cs.Stage == nil {
			external := "external"
			cs.Stage = &external
		}
		if in.Ref != nil {
			cs.Ref = in.Ref
		}
		if in.TargetURL != nil {
			cs.TargetURL = in.TargetURL
		}
		if in.Description != nil {
			cs.Description = in.Description
		}
		switch in.State {
		case StatusRunning:
			if cs.Status == StatusPending {
				cs.Status, cs.StartedAt = StatusRunning, &now
			}
		case StatusSuccess, StatusFailed, StatusCanceled:
			cs.Status, cs.FinishedAt = in.State, &now
		case StatusPending:
			cs.Status = StatusPending
		default:
			v := &ValidationError{}
			v.Add("status", "is invalid")
			invalid = v
		}
		cs.UpdatedAt = now
		return tx.Omit("Author").Save(&cs).Error
	})
	if err != nil {
		return nil, err
	}
	if invalid != nil {
		return nil, invalid
	}
	if err := s.read(ctx).Preload("Author").Take(&cs, cs.ID).Error; err != nil {
		return nil, err
	}
	return &cs, nil
}
