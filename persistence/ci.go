package persistence

// CI models (issue 5): pipelines, runners, variables, triggers, build
// traces. Builds are CommitStatus rows of type StatusTypeBuild. The store
// functions of each live in files of their own.

import "time"

// Pipeline is 8.7's Ci::Commit: the CI run of one sha on one ref.
type Pipeline struct {
	ID         int64 `gorm:"primaryKey"`
	ProjectID  int64
	Ref        string
	SHA        string  `gorm:"column:sha"`
	BeforeSHA  *string `gorm:"column:before_sha"`
	Tag        bool
	YAMLErrors *string `gorm:"column:yaml_errors"`
	Status     *string
	UserID     *int64
	StartedAt  *time.Time
	FinishedAt *time.Time
	Duration   *int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TableName is 8.7's name for the table, ci_commits renamed.
func (Pipeline) TableName() string { return "ci_pipelines" }

// BuildTrace is a build's log, appended to as the runner sends it; Size
// is its length in bytes.
type BuildTrace struct {
	BuildID int64 `gorm:"primaryKey"`
	Trace   string
	Size    int64
}

// TableName names the table.
func (BuildTrace) TableName() string { return "ci_build_traces" }

// Runner is a registered runner: shared (is_shared) or specific to the
// projects of its RunnerProject rows. TagList is comma-separated.
type Runner struct {
	ID           int64 `gorm:"primaryKey"`
	Token        string
	Description  *string
	Name         *string
	Version      *string
	Revision     *string
	Platform     *string
	Architecture *string
	TagList      string
	Active       bool
	IsShared     bool
	ContactedAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName names the table.
func (Runner) TableName() string { return "ci_runners" }

// RunnerProject enables a specific runner on a project.
type RunnerProject struct {
	ID        int64 `gorm:"primaryKey"`
	RunnerID  int64
	ProjectID int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName names the table.
func (RunnerProject) TableName() string { return "ci_runner_projects" }

// Variable is a project's secret build variable.
type Variable struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	Key       string
	Value     *string
}

// TableName names the table.
func (Variable) TableName() string { return "ci_variables" }

// Trigger is a project's build trigger token; deleted ones are kept with
// DeletedAt set, as 8.7's paranoid model did.
type Trigger struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	Token     string
	DeletedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName names the table.
func (Trigger) TableName() string { return "ci_triggers" }

// TriggerRequest is one use of a trigger; Variables is JSON.
type TriggerRequest struct {
	ID         int64 `gorm:"primaryKey"`
	TriggerID  int64
	PipelineID *int64
	Variables  *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TableName names the table.
func (TriggerRequest) TableName() string { return "ci_trigger_requests" }
