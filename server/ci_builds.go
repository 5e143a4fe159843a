package server

// The build calls of the runner protocol: doc/ci/api/builds.md (GitLab CE
// 8.7, lib/ci/api/builds.rb) and reference/runner-protocol.md.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// runnerAgent is how 8.x recognised a runner, which takes 204 for "no
// build" (lib/ci/api/helpers.rb build_not_found!).
var runnerAgent = regexp.MustCompile(`gitlab(-ci-multi)?-runner \d+\.\d+\.\d+(~beta\.\d+\.g[0-9a-f]+)? `)

// noBuild is 8.x's build_not_found!: 204 for runners, 404 for the rest.
func noBuild(ctx context.Context) (civ1api.RequestBuildResponseObject, error) {
	if r := requestOf(ctx); r != nil && runnerAgent.MatchString(r.UserAgent()) {
		return civ1api.RequestBuild204Response{}, nil
	}
	return nil, notFound()
}

// RequestBuild hands the runner the oldest build it may take. An idle
// poll is one indexed read: the runner and whether anything is pending.
func (s ciServer) RequestBuild(ctx context.Context, req civ1api.RequestBuildRequestObject) (civ1api.RequestBuildResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.RequestBuildBody{}
	}
	runner, pending, err := s.store.PollRunner(ctx, deref(b.Token))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, forbidden()
	}
	if err != nil {
		return nil, err
	}
	if err := s.touchRunner(ctx, runner, b.Info); err != nil {
		return nil, err
	}
	if !runner.Active || !pending {
		return noBuild(ctx)
	}
	build, err := s.store.ClaimBuild(ctx, runner)
	if errors.Is(err, persistence.ErrNotFound) {
		return noBuild(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := s.buildUpdated(ctx, build.ID); err != nil {
		return nil, err
	}
	details, err := s.buildDetails(ctx, build)
	if err != nil {
		return nil, err
	}
	return civ1api.RequestBuild201JSONResponse(*details), nil
}

// touchRunner records the runner's contact and info: when the info
// changed, or when the last recorded contact is older than
// persistence.ContactInterval (8.7 wrote both on every call).
func (s *Server) touchRunner(ctx context.Context, r *persistence.Runner, in *civ1api.RunnerInfo) error {
	info := runnerInfo(in)
	changed := false
	for _, f := range []struct{ sent, have *string }{{info.Name, r.Name}, {info.Version, r.Version},
		{info.Revision, r.Revision}, {info.Platform, r.Platform}, {info.Architecture, r.Architecture}} {
		if f.sent != nil && (f.have == nil || *f.have != *f.sent) {
			changed = true
		}
	}
	if !changed && r.ContactedAt != nil && time.Since(*r.ContactedAt) < persistence.ContactInterval {
		return nil
	}
	return s.store.TouchRunner(ctx, r.ID, info)
}

// updateBuildAnswer is PUT /builds/:id's body: true/false, or null when no
// state change was asked (the value of 8.7's case statement).
type updateBuildAnswer struct{ changed *bool }

func (a updateBuildAnswer) VisitUpdateBuildResponse(w http.ResponseWriter) error {
	body := "null"
	if a.changed != nil {
		body = strconv.FormatBool(*a.changed)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, body)
	return err
}

// UpdateBuild takes a runner's state and full trace for a build it runs.
func (s ciServer) UpdateBuild(ctx context.Context, req civ1api.UpdateBuildRequestObject) (civ1api.UpdateBuildResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = &civ1api.UpdateBuildBody{}
	}
	runner, err := s.currentRunner(ctx, deref(b.Token))
	if err != nil {
		return nil, err
	}
	if err := s.touchRunner(ctx, runner, b.Info); err != nil {
		return nil, err
	}
	changed, err := s.store.UpdateRunningBuild(ctx, persistence.BuildUpdate{
		RunnerID: runner.ID, BuildID: int64(req.ID), Trace: b.Trace, State: deref(b.State)})
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return nil, recordNotFound()
	case errors.Is(err, persistence.ErrBuildErased):
		return nil, forbidden("Build has been erased!")
	case err != nil:
		return nil, err
	}
	if changed != nil && *changed {
		if err := s.buildUpdated(ctx, int64(req.ID)); err != nil {
			return nil, err
		}
	}
	return updateBuildAnswer{changed}, nil
}

// tokenBuild is 8.7's find_by_id + authenticate_build_token!: the build, or
// 404 "404 Not Found", or 403 for a token that is neither the build's nor
// (as 8.7 accepted) its project's runners token.
func (s *Server) tokenBuild(ctx context.Context, id int, tokens ...*string) (*persistence.CommitStatus, *persistence.Project, error) {
	b, err := s.store.GetBuild(ctx, int64(id))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.store.GetProject(ctx, b.ProjectID)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	token := ""
	for _, t := range tokens {
		if t != nil && *t != "" {
			token = *t
			break
		}
	}
	if token == "" || !(b.Token != nil && token == *b.Token || token == p.RunnersToken) {
		return nil, nil, forbidden()
	}
	return b, p, nil
}

// PatchBuildTrace appends a chunk of trace at the offset the runner names.
func (s ciServer) PatchBuildTrace(ctx context.Context, req civ1api.PatchBuildTraceRequestObject) (civ1api.PatchBuildTraceResponseObject, error) {
	b, _, err := s.tokenBuild(ctx, req.ID, req.Params.Token, req.Params.BuildToken)
	if err != nil {
		return nil, err
	}
	if b.ErasedAt != nil {
		return nil, forbidden("Build has been erased!")
	}
	if req.Params.ContentRange == nil {
		return civ1api.PatchBuildTrace400JSONResponse{Error: "400 Missing header Content-Range"}, nil
	}
	// 8.7 took the number before the dash (to_i: 0 when none).
	startText, _, _ := strings.Cut(*req.Params.ContentRange, "-")
	start, _ := strconv.ParseInt(leadingDigits(strings.TrimSpace(startText)), 10, 64)
	var data []byte
	if req.Body != nil {
		data = []byte(*req.Body)
	}
	length, status, err := s.store.AppendTrace(ctx, b.ID, start, data)
	var re *persistence.RangeError
	switch {
	case errors.As(err, &re):
		have := fmt.Sprintf("0-%d", re.Length)
		return civ1api.PatchBuildTrace416JSONResponse{Body: civ1api.GrapeError{Error: "416 Range Not Satisfiable"},
			Headers: civ1api.PatchBuildTrace416ResponseHeaders{Range: &have}}, nil
	case errors.Is(err, persistence.ErrNotFound):
		return nil, notFound()
	case err != nil:
		return nil, err
	}
	rng := fmt.Sprintf("0-%d", length)
	return civ1api.PatchBuildTrace202JSONResponse{Body: rng,
		Headers: civ1api.PatchBuildTrace202ResponseHeaders{BuildStatus: &status, Range: &rng}}, nil
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// maxArtifactsBytes is the instance's artifacts cap (application settings,
// megabytes).
func (s *Server) maxArtifactsBytes(ctx context.Context) (int64, error) {
	st, err := s.store.Settings(ctx)
	if err != nil {
		return 0, err
	}
	mb := st.MaxArtifactsSize
	if mb <= 0 {
		mb = persistence.DefaultMaxArtifactsSize
	}
	return int64(mb) << 20, nil
}

// AuthorizeBuildArtifacts is GitLab Workhorse's pre-flight of an upload.
func (s ciServer) AuthorizeBuildArtifacts(ctx context.Context, req civ1api.AuthorizeBuildArtifactsRequestObject) (civ1api.AuthorizeBuildArtifactsResponseObject, error) {
	if deref(req.Params.GitlabWorkhorse) == "" {
		return nil, forbidden("Request should be executed via GitLab Workhorse")
	}
	body := req.JSONBody
	if body == nil {
		body = &civ1api.AuthorizeArtifactsBody{}
	}
	b, _, err := s.tokenBuild(ctx, req.ID, req.Params.BuildToken, body.Token)
	if err != nil {
		return nil, err
	}
	if b.Status != persistence.StatusRunning {
		return nil, forbidden("build is not running")
	}
	if body.Filesize != nil {
		max, err := s.maxArtifactsBytes(ctx)
		if err != nil {
			return nil, err
		}
		if int64(*body.Filesize) >= max {
			return nil, tooLarge()
		}
	}
	return civ1api.AuthorizeBuildArtifacts200JSONResponse{TempPath: s.artifactsUploadDir()}, nil
}

func (s *Server) artifactsUploadDir() string {
	return filepath.Join(s.cfg.DataDir, "artifacts", "tmp", "uploads")
}

// artifactsPath is where a build's artifacts file lives.
func (s *Server) artifactsPath(b *persistence.CommitStatus) string {
	return filepath.Join(s.cfg.DataDir, "artifacts", strconv.FormatInt(b.ProjectID, 10),
		strconv.FormatInt(b.ID, 10), filepath.Base(deref(b.ArtifactsFile)))
}

// UploadBuildArtifacts stores the artifacts archive of a running build.
func (s ciServer) UploadBuildArtifacts(ctx context.Context, req civ1api.UploadBuildArtifactsRequestObject) (civ1api.UploadBuildArtifactsResponseObject, error) {
	r := requestOf(ctx)
	max, err := s.maxArtifactsBytes(ctx)
	if err != nil {
		return nil, err
	}
	token := req.Params.Token
	if token == nil || *token == "" {
		token = req.Params.BuildToken
	}
	build, _, err := s.tokenBuild(ctx, req.ID, token)
	if err != nil {
		return nil, err
	}
	if build.Status != persistence.StatusRunning {
		return nil, forbidden("Build is not running!")
	}
	if build.ErasedAt != nil {
		return nil, forbidden("Build has been erased!")
	}
	// A declared length well past the cap (multipart framing aside) is
	// refused before reading; the file itself is then held to the cap.
	if r != nil && r.ContentLength > max+(1<<20) {
		return nil, tooLarge()
	}

	name, size, err := s.saveArtifacts(build, req.Body, max)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetBuildArtifacts(ctx, build.ID, &name, &size); err != nil {
		return nil, err
	}
	build.ArtifactsFile, build.ArtifactsSize = &name, &size
	details, err := s.buildDetails(ctx, build)
	if err != nil {
		return nil, err
	}
	return civ1api.UploadBuildArtifacts201JSONResponse(*details), nil
}

// saveArtifacts writes the multipart `file` part to the build's artifacts
// directory (through a temporary file, so a failed upload leaves the old
// artifacts), refusing one of max bytes or more.
func (s *Server) saveArtifacts(b *persistence.CommitStatus, mr *multipart.Reader, max int64) (string, int64, error) {
	if mr == nil {
		return "", 0, badRequestNotGiven("Missing artifacts file!")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", 0, badRequestNotGiven("Missing artifacts file!")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", 0, tooLarge()
			}
			return "", 0, malformedBody
		}
		if part.FormName() != "file" || part.FileName() == "" {
			part.Close()
			continue
		}
		name := filepath.Base(part.FileName())
		dir := filepath.Join(s.cfg.DataDir, "artifacts", strconv.FormatInt(b.ProjectID, 10), strconv.FormatInt(b.ID, 10))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", 0, err
		}
		tmp, err := os.CreateTemp(dir, ".upload-*")
		if err != nil {
			return "", 0, err
		}
		n, err := io.Copy(tmp, io.LimitReader(part, max))
		if err == nil {
			// One more byte means the file reached the cap.
			var one [1]byte
			if k, _ := part.Read(one[:]); k > 0 || n >= max {
				err = tooLarge()
			}
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", 0, tooLarge()
			}
			return "", 0, err
		}
		// A new upload replaces the previous archive.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if p := filepath.Join(dir, e.Name()); p != tmp.Name() && !strings.HasPrefix(e.Name(), ".upload-") {
				os.Remove(p)
			}
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
			return "", 0, err
		}
		return name, n, nil
	}
}

// DownloadBuildArtifacts sends a build's artifacts archive to a runner.
func (s ciServer) DownloadBuildArtifacts(ctx context.Context, req civ1api.DownloadBuildArtifactsRequestObject) (civ1api.DownloadBuildArtifactsResponseObject, error) {
	b, _, err := s.tokenBuild(ctx, req.ID, req.Params.Token, req.Params.BuildToken)
	if err != nil {
		return nil, err
	}
	f, size, err := s.openArtifacts(b)
	if err != nil {
		return nil, err
	}
	cd := "attachment; filename=" + deref(b.ArtifactsFile)
	return civ1api.DownloadBuildArtifacts200ApplicationOctetStreamResponse{Body: f, ContentLength: size,
		Headers: civ1api.DownloadBuildArtifacts200ResponseHeaders{ContentDisposition: &cd}}, nil
}

// openArtifacts opens a build's archive, or answers 404 Not Found.
func (s *Server) openArtifacts(b *persistence.CommitStatus) (*os.File, int64, error) {
	if deref(b.ArtifactsFile) == "" {
		return nil, 0, notFound()
	}
	f, err := os.Open(s.artifactsPath(b))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, notFound()
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// DeleteBuildArtifacts removes a build's artifacts.
func (s ciServer) DeleteBuildArtifacts(ctx context.Context, req civ1api.DeleteBuildArtifactsRequestObject) (civ1api.DeleteBuildArtifactsResponseObject, error) {
	b, _, err := s.tokenBuild(ctx, req.ID, req.Params.Token, req.Params.BuildToken)
	if err != nil {
		return nil, err
	}
	if err := s.removeArtifacts(ctx, b); err != nil {
		return nil, err
	}
	details, err := s.buildDetails(ctx, b)
	if err != nil {
		return nil, err
	}
	return civ1api.DeleteBuildArtifacts200JSONResponse(*details), nil
}

// removeArtifacts deletes a build's archive and forgets it.
func (s *Server) removeArtifacts(ctx context.Context, b *persistence.CommitStatus) error {
	if err := s.store.SetBuildArtifacts(ctx, b.ID, nil, nil); err != nil {
		return err
	}
	if deref(b.ArtifactsFile) != "" {
		if err := os.RemoveAll(filepath.Dir(s.artifactsPath(b))); err != nil {
			return err
		}
	}
	b.ArtifactsFile, b.ArtifactsSize = nil, nil
	return nil
}

// presentCIBuild is 8.7's Ci::API::Entities::Build.
func presentCIBuild(b *persistence.CommitStatus, p *persistence.Project) civ1api.CIBuild {
	out := civ1api.CIBuild{ID: int(b.ID), Ref: deref(b.Ref), Tag: b.Tag, Sha: b.SHA, Status: b.Status,
		Name: b.Name, Token: deref(b.Token), Stage: deref(b.Stage), ProjectID: int(b.ProjectID), ProjectName: p.Name}
	if deref(b.ArtifactsFile) != "" {
		out.ArtifactsFile = &civ1api.CIArtifactFile{Filename: *b.ArtifactsFile, Size: int(deref(b.ArtifactsSize))}
	}
	return out
}

// cloneURL is the project's HTTP clone URL with the build token as the
// password of gitlab-ci-token.
func (s *Server) cloneURL(p *persistence.Project, token string) string {
	clone := s.projectWebURL(p) + ".git"
	u, err := url.Parse(clone)
	if err != nil {
		return clone
	}
	u.User = url.UserPassword("gitlab-ci-token", token)
	return u.String()
}

// buildDetails is 8.7's Ci::API::Entities::BuildDetails.
func (s *Server) buildDetails(ctx context.Context, b *persistence.CommitStatus) (*civ1api.CIBuildDetails, error) {
	p, err := s.store.GetProject(ctx, b.ProjectID)
	if err != nil {
		return nil, err
	}
	env, err := s.store.BuildEnvFor(ctx, b)
	if err != nil {
		return nil, err
	}
	base := presentCIBuild(b, p)
	out := &civ1api.CIBuildDetails{ID: base.ID, Ref: base.Ref, Tag: base.Tag, Sha: base.Sha, Status: base.Status,
		Name: base.Name, Token: base.Token, Stage: base.Stage, ProjectID: base.ProjectID, ProjectName: base.ProjectName,
		ArtifactsFile: base.ArtifactsFile, Commands: deref(b.Commands), RepoURL: s.cloneURL(p, deref(b.Token)),
		BeforeSha: gitstore.ZeroSHA, AllowGitFetch: p.BuildAllowGitFetch, Timeout: int(p.BuildTimeout),
		Options: map[string]any{}, Variables: buildVariables(b, env), DependsOnBuilds: []civ1api.CIBuild{}}
	if env.BeforeSHA != nil && *env.BeforeSHA != "" {
		out.BeforeSha = *env.BeforeSHA
	}
	if b.Options != nil && *b.Options != "" {
		if err := json.Unmarshal([]byte(*b.Options), &out.Options); err != nil {
			return nil, fmt.Errorf("build %d options: %w", b.ID, err)
		}
	}
	for i := range env.DependsOn {
		out.DependsOnBuilds = append(out.DependsOnBuilds, presentCIBuild(&env.DependsOn[i], p))
	}
	return out, nil
}

// buildVariables are the build's variables in 8.7's order: predefined,
// .gitlab-ci.yml (public), the project's secret ones and the trigger's
// (not public).
func buildVariables(b *persistence.CommitStatus, env *persistence.BuildEnv) []civ1api.CIVariable {
	var vs []civ1api.CIVariable
	if b.Tag {
		vs = append(vs, civ1api.CIVariable{Key: "CI_BUILD_TAG", Value: deref(b.Ref), Public: true})
	}
	vs = append(vs, civ1api.CIVariable{Key: "CI_BUILD_NAME", Value: b.Name, Public: true},
		civ1api.CIVariable{Key: "CI_BUILD_STAGE", Value: deref(b.Stage), Public: true})
	if b.TriggerRequestID != nil {
		vs = append(vs, civ1api.CIVariable{Key: "CI_BUILD_TRIGGERED", Value: "true", Public: true})
	}
	if b.YAMLVariables != nil && *b.YAMLVariables != "" {
		var yv []struct {
			Key    string `json:"key"`
			Value  any    `json:"value"`
			Public *bool  `json:"public"`
		}
		if err := json.Unmarshal([]byte(*b.YAMLVariables), &yv); err == nil {
			for _, v := range yv {
				val, ok := v.Value.(string)
				if !ok && v.Value != nil {
					val = fmt.Sprint(v.Value)
				}
				vs = append(vs, civ1api.CIVariable{Key: v.Key, Value: val, Public: v.Public == nil || *v.Public})
			}
		}
	}
	for _, v := range env.SecretVariables {
		vs = append(vs, civ1api.CIVariable{Key: v.Key, Value: deref(v.Value), Public: false})
	}
	for _, kv := range env.TriggerVariables {
		vs = append(vs, civ1api.CIVariable{Key: kv[0], Value: kv[1], Public: false})
	}
	if vs == nil {
		vs = []civ1api.CIVariable{}
	}
	return vs
}

// buildSweepInterval is how often each server process looks for builds
// running past their project's timeout.
const buildSweepInterval = 15 * time.Second

// sweepTimedOutBuilds fails, every interval, the builds running longer than
// their project's build_timeout; their runners then get 404 on update and
// stop. Safe with several processes on one database: each build is failed
// (and reported) by exactly one of them.
func (s *Server) sweepTimedOutBuilds(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.failTimedOutBuilds(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("build timeout sweep", "err", err)
			}
		}
	}
}

// failTimedOutBuilds is one sweep.
func (s *Server) failTimedOutBuilds(ctx context.Context) error {
	ids, err := s.store.FailTimedOutBuilds(ctx)
	for _, id := range ids {
		if uerr := s.buildUpdated(ctx, id); uerr != nil && err == nil {
			err = uerr
		}
	}
	return err
}
