package persistence

// Builds as the runner protocol sees them (GitLab 8.7's Ci::Build,
// Ci::RegisterBuildService, lib/ci/api/builds.rb): the poll, the atomic
// claim, state updates from the runner, traces, artifacts, timeouts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrBuildErased is an action on an erased build.
var ErrBuildErased = errors.New("persistence: build has been erased")

// RangeError is a trace append whose start is not the stored length.
type RangeError struct{ Length int64 }

func (e *RangeError) Error() string { return fmt.Sprintf("persistence: trace length is %d", e.Length) }

// pollSQL is the one statement of an idle runner's poll: the runner by its
// token (unique index) and the oldest build waiting for any runner (the
// runner-queue index), if there is one.
const pollSQL = `SELECT ci_runners.*, (SELECT id FROM commit_statuses
		WHERE status = ? AND type = ? AND runner_id IS NULL ORDER BY id LIMIT 1) AS pending_build_id
	FROM ci_runners WHERE token = ? LIMIT 1`

// PollRunner finds the runner of token and, in the same indexed read,
// whether any build at all waits for a runner: the poll of an idle runner
// costs this one statement.
func (s *Store) PollRunner(ctx context.Context, token string) (*Runner, bool, error) {
	if token == "" {
		return nil, false, ErrNotFound
	}
	var row struct {
		Runner
		PendingBuildID *int64
	}
	err := s.read(ctx).Raw(pollSQL, StatusPending, StatusTypeBuild, token).Scan(&row).Error
	if err != nil {
		return nil, false, err
	}
	if row.ID == 0 {
		return nil, false, ErrNotFound
	}
	return &row.Runner, row.PendingBuildID != nil, nil
}

// claimBatch is how many candidates one read of the queue fetches.
const claimBatch = 64

// ClaimBuild hands the oldest pending build the runner may take to it, and
// to no other runner: each candidate is claimed with a conditional UPDATE
// that only one caller can win (on SQLite and PostgreSQL alike); a lost
// race moves on to the next candidate. ErrNotFound: nothing to take.
func (s *Store) ClaimBuild(ctx context.Context, r *Runner) (*CommitStatus, error) {
	tags := map[string]bool{}
	for _, t := range r.Tags() {
		tags[t] = true
	}
	var after int64
	for {
		// The queue's index range first, then which of those builds'
		// projects this runner serves: a join lets the planner walk a
		// project's builds instead, which degrades as the queue drains.
		var cands []struct {
			ID        int64
			ProjectID int64
			TagList   string
		}
		err := s.read(ctx).Model(&CommitStatus{}).Select("id, project_id, tag_list").
			Where("status = ? AND type = ? AND runner_id IS NULL AND id > ?", StatusPending, StatusTypeBuild, after).
			Order("id").Limit(claimBatch).Scan(&cands).Error
		if err != nil {
			return nil, err
		}
		var pids []int64
		seen := map[int64]bool{}
		for _, c := range cands {
			if !seen[c.ProjectID] {
				seen[c.ProjectID] = true
				pids = append(pids, c.ProjectID)
			}
		}
		served := map[int64]bool{}
		if len(pids) > 0 {
			q := s.read(ctx).Model(&Project{}).Where("id IN ? AND builds_enabled = ?", pids, true)
			if r.IsShared {
				q = q.Where("shared_runners_enabled = ?", true)
			} else {
				q = q.Where("id IN (SELECT project_id FROM ci_runner_projects WHERE runner_id = ?)", r.ID)
			}
			var ids []int64
			if err := q.Pluck("id", &ids).Error; err != nil {
				return nil, err
			}
			for _, id := range ids {
				served[id] = true
			}
		}
		var ok []int64
		for _, c := range cands {
			after = c.ID
			if served[c.ProjectID] && tagsSubset(c.TagList, tags) {
				ok = append(ok, c.ID)
			}
		}
		// One statement claims the oldest of the candidates still pending,
		// so runners racing over the same list each take the next build
		// instead of failing on the same one (on SQLite's single writer
		// none fails at all). The status test sits in a CASE so that the
		// planner looks the ids up by primary key rather than walking the
		// queue index. On PostgreSQL a row claimed meanwhile by another
		// transaction fails the outer WHERE when re-checked: nothing is
		// returned and the candidates are tried again.
		for len(ok) > 0 {
			now := s.now()
			var claimed []int64
			err := s.write(ctx).Raw(`UPDATE commit_statuses SET status = ?, runner_id = ?, started_at = ?,
				updated_at = ?, lock_version = lock_version + 1
				WHERE id = (SELECT MIN(CASE WHEN status = ? THEN id END) FROM commit_statuses
					WHERE id IN ? AND runner_id IS NULL)
				AND status = ? AND runner_id IS NULL RETURNING id`,
				StatusRunning, r.ID, now, now, StatusPending, ok, StatusPending).Scan(&claimed).Error
			if err != nil {
				return nil, err
			}
			if len(claimed) == 1 {
				// Read back without the author: the payload does not show it.
				var b CommitStatus
				if err := s.read(ctx).Take(&b, claimed[0]).Error; err != nil {
					return nil, err
				}
				return &b, nil
			}
			var still []int64
			if err := s.write(ctx).Model(&CommitStatus{}).Where("id IN ? AND runner_id IS NULL", ok).
				Where("status = ?", StatusPending).Order("id").Pluck("id", &still).Error; err != nil {
				return nil, err
			}
			ok = still
		}
		if len(cands) < claimBatch {
			return nil, ErrNotFound
		}
	}
}

// tagsSubset says whether every tag of a build's list is the runner's.
func tagsSubset(list string, runner map[string]bool) bool {
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" && !runner[t] {
			return false
		}
	}
	return true
}

// GetBuild loads a build (not a generic status) by id, with its author.
func (s *Store) GetBuild(ctx context.Context, id int64) (*CommitStatus, error) {
	var b CommitStatus
	if err := s.write(ctx).Preload("Author").Where("type = ?", StatusTypeBuild).Take(&b, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &b, nil
}

// BuildEnv is what a build's payload needs besides the build: its
// pipeline's before_sha, the project's secret variables and the trigger
// request's variables, and the builds of earlier stages.
type BuildEnv struct {
	BeforeSHA        *string
	SecretVariables  []Variable
	TriggerVariables [][2]string
	DependsOn        []CommitStatus
}

// BuildEnvFor gathers a build's BuildEnv.
func (s *Store) BuildEnvFor(ctx context.Context, b *CommitStatus) (*BuildEnv, error) {
	env := &BuildEnv{}
	db := s.read(ctx)
	if b.PipelineID != nil {
		var p Pipeline
		if err := db.Select("id, before_sha").Take(&p, *b.PipelineID).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		env.BeforeSHA = p.BeforeSHA
		// The latest build of each name in earlier stages (8.7's
		// depends_on_builds: pipeline.builds.latest before this stage).
		err := db.Where("id IN (?)", db.Model(&CommitStatus{}).Select("MAX(id)").
			Where("pipeline_id = ? AND type = ? AND stage_idx < ?", *b.PipelineID, StatusTypeBuild, b.StageIdx).
			Group("name")).Order("stage_idx, id").Find(&env.DependsOn).Error
		if err != nil {
			return nil, err
		}
	}
	if err := db.Where("project_id = ?", b.ProjectID).Order("id").Find(&env.SecretVariables).Error; err != nil {
		return nil, err
	}
	if b.TriggerRequestID != nil {
		var tr TriggerRequest
		err := db.Take(&tr, *b.TriggerRequestID).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		if tr.Variables != nil {
			env.TriggerVariables = orderedStringMap(*tr.Variables)
		}
	}
	return env, nil
}

// orderedStringMap reads a JSON object of strings keeping its key order
// (8.7 passed the trigger's hash to the runner in insertion order).
func orderedStringMap(raw string) [][2]string {
	dec := json.NewDecoder(strings.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out [][2]string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return out
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		k, _ := kt.(string)
		switch x := v.(type) {
		case string:
			out = append(out, [2]string{k, x})
		case nil:
			out = append(out, [2]string{k, ""})
		default:
			b, _ := json.Marshal(x)
			out = append(out, [2]string{k, string(b)})
		}
	}
	return out
}

// BuildUpdate is a runner's PUT /builds/:id.
type BuildUpdate struct {
	RunnerID, BuildID int64
	Trace             *string // replaces the whole trace when not nil
	State             string
}

// UpdateRunningBuild applies a runner's update to a build it runs. It
// answers ErrNotFound unless the build is this runner's and running, and
// ErrBuildErased for an erased one. changed is nil when no state change was
// asked, else whether the state changed.
func (s *Store) UpdateRunningBuild(ctx context.Context, u BuildUpdate) (changed *bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var b CommitStatus
		if err := tx.Where("type = ? AND runner_id = ? AND status = ?", StatusTypeBuild, u.RunnerID, StatusRunning).
			Take(&b, u.BuildID).Error; err != nil {
			return notFound(err)
		}
		if b.ErasedAt != nil {
			return ErrBuildErased
		}
		if u.Trace != nil {
			if err := setTrace(tx, b.ID, *u.Trace); err != nil {
				return err
			}
		}
		var to string
		switch u.State {
		case StatusSuccess:
			to = StatusSuccess
		case StatusFailed:
			to = StatusFailed
		default:
			return nil
		}
		now := s.now()
		upd := map[string]any{"status": to, "finished_at": now, "updated_at": now, "lock_version": gorm.Expr("lock_version + 1")}
		if cov, err := s.coverage(tx, &b); err != nil {
			return err
		} else if cov != nil {
			upd["coverage"] = *cov
		}
		res := tx.Model(&CommitStatus{}).Where("id = ? AND status = ?", b.ID, StatusRunning).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		ok := res.RowsAffected == 1
		changed = &ok
		return nil
	})
	return changed, err
}

// coverage applies the project's build_coverage_regex to the trace, as
// 8.7's update_coverage did: the last match's number.
func (s *Store) coverage(tx *gorm.DB, b *CommitStatus) (*float64, error) {
	var p Project
	if err := tx.Select("id, build_coverage_regex").Take(&p, b.ProjectID).Error; err != nil {
		return nil, notFound(err)
	}
	if p.BuildCoverageRegex == nil || strings.TrimSpace(*p.BuildCoverageRegex) == "" {
		return nil, nil
	}
	re, err := regexp.Compile(strings.Trim(*p.BuildCoverageRegex, "/"))
	if err != nil {
		return nil, nil
	}
	var t BuildTrace
	if err := tx.Take(&t, b.ID).Error; err != nil {
		return nil, nil
	}
	ms := re.FindAllString(t.Trace, -1)
	if len(ms) == 0 {
		return nil, nil
	}
	num := regexp.MustCompile(`\d+(\.\d+)?`).FindString(ms[len(ms)-1])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return nil, nil
	}
	return &f, nil
}

// cleanTrace makes runner output storable as text on both databases:
// invalid UTF-8 and NUL bytes (PostgreSQL refuses both) become U+FFFD.
// The trace's size stays the runner's byte count, which the Range
// arithmetic of the protocol is about.
func cleanTrace(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func setTrace(tx *gorm.DB, buildID int64, trace string) error {
	res := tx.Model(&BuildTrace{}).Where("build_id = ?", buildID).
		Updates(map[string]any{"trace": cleanTrace(trace), "size": len(trace)})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	return tx.Create(&BuildTrace{BuildID: buildID, Trace: cleanTrace(trace), Size: int64(len(trace))}).Error
}

// AppendTrace appends data at offset start of a build's trace, which must
// be its stored length (else a *RangeError with that length). It returns
// the new length and the build's status.
func (s *Store) AppendTrace(ctx context.Context, buildID, start int64, data []byte) (int64, string, error) {
	var length int64
	var status string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var b CommitStatus
		if err := tx.Select("id, status, erased_at").Where("type = ?", StatusTypeBuild).Take(&b, buildID).Error; err != nil {
			return notFound(err)
		}
		status = b.Status
		var t BuildTrace
		err := tx.Select("build_id, size").Take(&t, buildID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if start != 0 {
				return &RangeError{Length: 0}
			}
			length = int64(len(data))
			return tx.Create(&BuildTrace{BuildID: buildID, Trace: cleanTrace(string(data)), Size: length}).Error
		case err != nil:
			return err
		}
		if t.Size != start {
			return &RangeError{Length: t.Size}
		}
		length = t.Size + int64(len(data))
		// Conditional on the size read, so that two appends racing for the
		// same offset cannot both land.
		res := tx.Model(&BuildTrace{}).Where("build_id = ? AND size = ?", buildID, start).
			Updates(map[string]any{"trace": gorm.Expr("trace || ?", cleanTrace(string(data))), "size": length})
		if res.Error == nil && res.RowsAffected == 0 {
			return &RangeError{Length: t.Size}
		}
		return res.Error
	})
	return length, status, err
}

// BuildTraceOf returns a build's trace ("" when none).
func (s *Store) BuildTraceOf(ctx context.Context, buildID int64) (string, error) {
	var t BuildTrace
	err := s.read(ctx).Take(&t, buildID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	return t.Trace, err
}

// SetBuildArtifacts records (file != nil) or clears a build's artifacts.
func (s *Store) SetBuildArtifacts(ctx context.Context, buildID int64, file *string, size *int64) error {
	return s.write(ctx).Model(&CommitStatus{}).Where("id = ?", buildID).
		Updates(map[string]any{"artifacts_file": file, "artifacts_size": size, "artifacts_metadata": nil,
			"updated_at": s.now()}).Error
}

// TimedOutBuild is a running build past its project's timeout.
type TimedOutBuild struct {
	ID, ProjectID int64
}

// FailTimedOutBuilds fails the running builds that started more than
// their project's build_timeout ago. Each is failed by a conditional
// UPDATE, so with several processes sweeping one database each build is
// failed (and reported) by exactly one of them.
func (s *Store) FailTimedOutBuilds(ctx context.Context) ([]int64, error) {
	var rows []struct {
		ID           int64
		StartedAt    *time.Time
		BuildTimeout int64
	}
	err := s.read(ctx).Table("commit_statuses AS cs").Select("cs.id, cs.started_at, p.build_timeout").
		Joins("JOIN projects p ON p.id = cs.project_id").
		Where("cs.status = ? AND cs.type = ?", StatusRunning, StatusTypeBuild).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	now := s.now()
	var failed []int64
	for _, r := range rows {
		if r.StartedAt == nil || now.Sub(*r.StartedAt) <= time.Duration(r.BuildTimeout)*time.Second {
			continue
		}
		res := s.write(ctx).Model(&CommitStatus{}).Where("id = ? AND status = ?", r.ID, StatusRunning).
			Updates(map[string]any{"status": StatusFailed, "finished_at": now, "updated_at": now,
				"lock_version": gorm.Expr("lock_version + 1")})
		if res.Error != nil {
			return failed, res.Error
		}
		if res.RowsAffected == 1 {
			failed = append(failed, r.ID)
		}
	}
	return failed, nil
}

// ExplainPoll returns the database's plan for the idle poll's statement,
// for the test that shows it reads indexes only.
func (s *Store) ExplainPoll(ctx context.Context) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == "postgres" {
		prefix = "EXPLAIN "
	}
	rows, err := s.read(ctx).Raw(prefix+pollSQL, StatusPending, StatusTypeBuild, "x").Rows()
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		fmt.Fprintln(&b, vals[len(vals)-1])
	}
	return b.String(), rows.Err()
}

// ObserveStatements calls fn with the SQL of every statement the store
// runs from now on, for tests that count what a request costs.
func (s *Store) ObserveStatements(fn func(sql string)) {
	for _, db := range []*gorm.DB{s.w, s.r} {
		cb := func(tx *gorm.DB) { fn(tx.Statement.SQL.String()) }
		name := fmt.Sprintf("labrador:observe:%p", &fn)
		cbs := db.Callback()
		_ = cbs.Query().After("gorm:query").Register(name, cb)
		_ = cbs.Row().After("gorm:row").Register(name, cb)
		_ = cbs.Raw().After("gorm:raw").Register(name, cb)
		_ = cbs.Create().After("gorm:create").Register(name, cb)
		_ = cbs.Update().After("gorm:update").Register(name, cb)
		_ = cbs.Delete().After("gorm:delete").Register(name, cb)
		if s.w == s.r {
			break
		}
	}
}

// InsertBuilds adds builds in bulk (tests and benchmarks seed the runner
// queue with it); each gets a token when it has none.
func (s *Store) InsertBuilds(ctx context.Context, builds []CommitStatus) error {
	now := s.now()
	for i := range builds {
		b := &builds[i]
		b.Type = StatusTypeBuild
		if b.Token == nil {
			t := NewToken(20)
			b.Token = &t
		}
		if b.RunWhen == "" {
			b.RunWhen = "on_success"
		}
		if b.Status == "" {
			b.Status = StatusPending
		}
		if b.CreatedAt.IsZero() {
			b.CreatedAt, b.UpdatedAt = now, now
		}
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Omit("Author").CreateInBatches(builds, 500).Error
	})
}

// RunningBuildToken says whether token is the token of a running build of
// the project: such a build may clone the project's repository.
func (s *Store) RunningBuildToken(ctx context.Context, projectID int64, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	var n int64
	err := s.read(ctx).Model(&CommitStatus{}).
		Where("token = ? AND project_id = ? AND type = ? AND status = ?", token, projectID, StatusTypeBuild, StatusRunning).
		Count(&n).Error
	return n > 0, err
}
