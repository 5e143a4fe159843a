package server

// Pipelines from .gitlab-ci.yml (doc/ci/yaml/README.md at 8.7; what the
// 8.7 code did is in shared/reference/ci-config.md): a push, a trigger or a
// CI v1 commit creates a pipeline and its first stage's builds; each
// build's status change sends a Build Hook, advances the pipeline to its
// next stage when a stage finished, and refreshes the pipeline's status.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server/ciconfig"
)

// ciConfigFile is where 8.7 read a commit's CI configuration.
const ciConfigFile = ".gitlab-ci.yml"

// maxCIConfigBytes bounds the configuration read from a commit.
const maxCIConfigBytes = 4 << 20

// pipelineInput is what a pipeline is created for: a pushed ref (Tag for
// refs/tags/), a trigger request, or a CI v1 commit. Ref is the short
// name.
type pipelineInput struct {
	Project          *persistence.Project
	Ref, SHA         string
	BeforeSHA        string
	Tag              bool
	UserID           *int64
	TriggerRequestID *int64
}

// createPipeline reads .gitlab-ci.yml at the sha and creates the pipeline
// with its first stage's builds. It creates nothing (nil, nil) when the
// project has builds disabled, or, for a push, when the commit has no
// .gitlab-ci.yml (a trigger makes the pipeline anyway, as 8.7 did). An
// invalid file makes a pipeline with yaml_errors and no builds, so the
// commit's status is failed.
func (s *Server) createPipeline(ctx context.Context, in pipelineInput) (*persistence.Pipeline, error) {
	pl, _, err := s.createPipelineBuilds(ctx, in)
	return pl, err
}

// createPipelineBuilds is createPipeline that also tells which builds it
// created (a trigger answers 400 when none).
func (s *Server) createPipelineBuilds(ctx context.Context, in pipelineInput) (*persistence.Pipeline, []persistence.CommitStatus, error) {
	p := in.Project
	if !p.BuildsEnabled || in.SHA == "" || in.SHA == gitstore.ZeroSHA || in.Ref == "" {
		return nil, nil, nil
	}
	content, found, err := s.ciConfig(ctx, p.ID, in.SHA)
	if err != nil {
		return nil, nil, err
	}
	if !found && in.TriggerRequestID == nil {
		return nil, nil, nil
	}
	np := persistence.NewPipeline{
		Pipeline:         persistence.Pipeline{ProjectID: p.ID, Ref: in.Ref, SHA: in.SHA, Tag: in.Tag, UserID: in.UserID},
		TriggerRequestID: in.TriggerRequestID,
	}
	if in.BeforeSHA != "" {
		before := in.BeforeSHA
		np.Pipeline.BeforeSHA = &before
	}
	if found {
		cfg, err := ciconfig.Parse(content)
		switch {
		case err != nil:
			msg := err.Error()
			np.Pipeline.YAMLErrors = &msg
		case in.TriggerRequestID == nil && s.ciSkipped(ctx, p.ID, in.SHA):
			// [ci skip]: the pipeline is kept, without builds.
		default:
			np.Jobs = jobBuilds(cfg, p, in.Ref, in.Tag, in.TriggerRequestID != nil, in.UserID)
		}
	}
	pl, created, err := s.store.CreatePipeline(ctx, np)
	if err != nil {
		return nil, nil, err
	}
	for i := range created {
		s.buildHook(ctx, p, pl, &created[i])
	}
	return pl, created, nil
}

// ciConfig reads .gitlab-ci.yml at sha; found is false when the commit
// has none.
func (s *Server) ciConfig(ctx context.Context, projectID int64, sha string) (content string, found bool, err error) {
	if s.cfg.Repos == nil {
		return "", false, nil
	}
	blob, err := s.cfg.Repos.BlobAt(ctx, projectID, sha, ciConfigFile)
	if errors.Is(err, gitstore.ErrBlobNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer blob.Close()
	b, err := io.ReadAll(io.LimitReader(blob, maxCIConfigBytes))
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

// ciSkipped tells whether the commit's message asks for no builds.
func (s *Server) ciSkipped(ctx context.Context, projectID int64, sha string) bool {
	c, err := s.cfg.Repos.Commit(ctx, projectID, sha)
	return err == nil && strings.Contains(c.Message, "[ci skip]")
}

// ciVariable is one entry of yaml_variables, as the runner receives it.
type ciVariable struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Public bool   `json:"public"`
}

// jobBuilds are the builds the configuration's jobs would become for the
// ref: only the jobs whose only/except select it, with 8.7's columns.
func jobBuilds(cfg *ciconfig.Config, p *persistence.Project, ref string, tag, triggered bool, userID *int64) []persistence.CommitStatus {
	match := ciconfig.Ref{Name: ref, Tag: tag, Triggered: triggered, ProjectPath: p.PathWithNamespace()}
	var out []persistence.CommitStatus
	for i := range cfg.Jobs {
		j := &cfg.Jobs[i]
		if !j.Matches(match) {
			continue
		}
		stage, commands, options := j.Stage, j.Commands, j.OptionsJSON()
		vars := []ciVariable{}
		for _, v := range cfg.Variables {
			vars = append(vars, ciVariable{Key: v.Key, Value: v.Value, Public: true})
		}
		for _, v := range j.Variables {
			vars = append(vars, ciVariable{Key: v.Key, Value: v.Value, Public: true})
		}
		vb, _ := json.Marshal(vars)
		yamlVars := string(vb)
		out = append(out, persistence.CommitStatus{
			Name: j.Name, Stage: &stage, StageIdx: j.StageIdx, RunWhen: j.When, AllowFailure: j.AllowFailure,
			TagList: strings.Join(j.Tags, ","), Commands: &commands, Options: &options, YAMLVariables: &yamlVars,
			AuthorID: userID,
		})
	}
	return out
}

// buildUpdated is called after a build's status changed (by a runner, a
// cancel, a retry, an erase or a timeout): it sends the Build Hook and,
// when the build finished, creates the pipeline's next due stage (whose
// builds get their own hooks), then refreshes the pipeline's status.
func (s *Server) buildUpdated(ctx context.Context, buildID int64) error {
	b, pl, err := s.store.BuildWithPipeline(ctx, buildID)
	if err != nil {
		return err
	}
	p, err := s.store.GetProject(ctx, b.ProjectID)
	if err != nil {
		return err
	}
	if pl == nil {
		s.buildHook(ctx, p, nil, b)
		return nil
	}
	var jobs []persistence.CommitStatus
	switch b.Status {
	case persistence.StatusSuccess, persistence.StatusFailed, persistence.StatusCanceled:
		content, found, err := s.ciConfig(ctx, p.ID, pl.SHA)
		if err != nil {
			return err
		}
		if found {
			if cfg, err := ciconfig.Parse(content); err == nil {
				jobs = jobBuilds(cfg, p, pl.Ref, b.Tag, b.TriggerRequestID != nil, b.AuthorID)
			}
		}
	}
	pl, created, err := s.store.AdvancePipeline(ctx, buildID, jobs)
	if err != nil {
		return err
	}
	s.buildHook(ctx, p, pl, b)
	for i := range created {
		s.buildHook(ctx, p, pl, &created[i])
	}
	return nil
}

// buildHookData is Gitlab::BuildDataBuilder.build's hash, in its order.
type buildHookData struct {
	ObjectKind        string          `json:"object_kind"`
	Ref               string          `json:"ref"`
	Tag               bool            `json:"tag"`
	BeforeSHA         string          `json:"before_sha"`
	SHA               string          `json:"sha"`
	BuildID           int64           `json:"build_id"`
	BuildName         string          `json:"build_name"`
	BuildStage        *string         `json:"build_stage"`
	BuildStatus       string          `json:"build_status"`
	BuildStartedAt    *string         `json:"build_started_at"`
	BuildFinishedAt   *string         `json:"build_finished_at"`
	BuildDuration     *float64        `json:"build_duration"`
	BuildAllowFailure bool            `json:"build_allow_failure"`
	ProjectID         int64           `json:"project_id"`
	ProjectName       string          `json:"project_name"`
	User              buildHookUser   `json:"user"`
	Commit            buildHookCommit `json:"commit"`
	Repository        pushRepository  `json:"repository"`
}

type buildHookUser struct {
	ID    *int64  `json:"id"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

type buildHookCommit struct {
	ID          int64   `json:"id"`
	SHA         string  `json:"sha"`
	Message     string  `json:"message"`
	AuthorName  string  `json:"author_name"`
	AuthorEmail string  `json:"author_email"`
	Status      *string `json:"status"`
	Duration    *int64  `json:"duration"`
	StartedAt   *string `json:"started_at"`
	FinishedAt  *string `json:"finished_at"`
}

// hookTimePtr is hookTime for a time that may be unset (null).
func hookTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := hookTime(*t)
	return &v
}

// buildHook queues the Build Hook of a build for the project's hooks with
// build_events. A failure is logged: the build changed either way.
func (s *Server) buildHook(ctx context.Context, p *persistence.Project, pl *persistence.Pipeline, b *persistence.CommitStatus) {
	// The payload reads the commit from git: look for hooks first, as
	// most builds of most projects have none.
	hooks, err := s.store.HooksFor(context.WithoutCancel(ctx), &p.ID, "build_events")
	if err != nil {
		s.log.Error("list hooks", "err", err)
		return
	}
	if len(hooks) == 0 {
		return
	}
	d := buildHookData{
		// 8.7's Ci::Build#before_sha was always the blank sha.
		ObjectKind: "build", Ref: deref(b.Ref), Tag: b.Tag, BeforeSHA: gitstore.ZeroSHA, SHA: b.SHA,
		BuildID: b.ID, BuildName: b.Name, BuildStage: b.Stage, BuildStatus: b.Status,
		BuildStartedAt: hookTimePtr(b.StartedAt), BuildFinishedAt: hookTimePtr(b.FinishedAt),
		BuildAllowFailure: b.AllowFailure, ProjectID: p.ID, ProjectName: p.NameWithNamespace(),
		Repository: s.pushRepositoryOf(p),
		Commit:     buildHookCommit{SHA: b.SHA},
	}
	if b.StartedAt != nil {
		end := time.Now()
		if b.FinishedAt != nil {
			end = *b.FinishedAt
		}
		dur := end.Sub(*b.StartedAt).Seconds()
		d.BuildDuration = &dur
	}
	if b.AuthorID != nil {
		u := b.Author
		if u == nil {
			u, _ = s.store.GetUser(ctx, *b.AuthorID)
		}
		if u != nil {
			d.User = buildHookUser{ID: &u.ID, Name: &u.Name, Email: &u.Email}
		}
	}
	if pl != nil {
		d.Commit.ID, d.Commit.Status, d.Commit.Duration = pl.ID, pl.Status, pl.Duration
		d.Commit.StartedAt, d.Commit.FinishedAt = hookTimePtr(pl.StartedAt), hookTimePtr(pl.FinishedAt)
	}
	if s.cfg.Repos != nil {
		if c, err := s.cfg.Repos.Commit(ctx, p.ID, b.SHA); err == nil {
			d.Commit.Message, d.Commit.AuthorName, d.Commit.AuthorEmail = c.Message, c.AuthorName, c.AuthorEmail
		} else {
			s.log.Error("build hook commit", "project_id", p.ID, "sha", b.SHA, "err", err)
		}
	}
	ptrs := make([]*persistence.WebHook, len(hooks))
	for i := range hooks {
		ptrs[i] = &hooks[i]
	}
	s.enqueue(ctx, ptrs, "Build Hook", d)
}
