// Package server is Labrador's HTTP side: echo, the contract gate in front
// of the generated strict handlers, and one handler file per GitLab resource.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gopkg.in/yaml.v3"

	"github.com/labrador-dev/labrador/gen/civ1api"
	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server/swaggerui"
)

// Config is what the server needs to know of its deployment.
type Config struct {
	// ExternalURL is how clients reach the server (links, web_url, clone URLs).
	ExternalURL string
	// MaxBodyBytes caps a request body; larger ones get 413.
	MaxBodyBytes int64
	// DataDir is where uploads (and, later, artifacts) live.
	DataDir string
	// ShellSecretFile holds the secret gitlab-shell sends to /internal/*;
	// empty means <DataDir>/.gitlab_shell_secret. The server creates it
	// on its first start.
	ShellSecretFile string
	// Repos keeps the projects' git repositories (persistence/gitstore).
	// Nil leaves projects without repositories, and git over HTTP answers
	// 404: for tests of other resources.
	Repos Repositories
	// Delivery tunes webhook delivery; zero fields take the defaults.
	Delivery DelivererConfig
	Logger   *slog.Logger
}

// GCPercent is the garbage collector's target that cmd/labrador sets when
// GOGC is not: requests allocate, and trading memory for fewer collections
// cut the p99 of the project list by a third in the benchmarks.
const GCPercent = 400

// DefaultMaxBodyBytes is the request body cap when none is configured.
const DefaultMaxBodyBytes = 10 << 20

// Store is what the handlers need of persistence.
type Store interface {
	DeliveryStore
	Ping(ctx context.Context) error

	UserByToken(ctx context.Context, token string) (*persistence.User, error)
	UserByUsernameOrID(ctx context.Context, ident string) (*persistence.User, error)
	Authenticate(ctx context.Context, login, password string) (*persistence.User, error)
	GetUser(ctx context.Context, id int64) (*persistence.User, error)
	ListUsers(ctx context.Context, f persistence.UserFilter, pg persistence.Page) ([]persistence.User, int64, error)
	CreateUser(ctx context.Context, p persistence.UserParams) (*persistence.User, error)
	UpdateUser(ctx context.Context, id int64, p persistence.UserParams) (*persistence.User, error)
	DeleteUser(ctx context.Context, id int64) (*persistence.User, []persistence.Project, error)
	SetUserState(ctx context.Context, id int64, from, to string) (bool, error)
	EmailTaken(ctx context.Context, email string, exceptID int64) (bool, error)
	UsernameTaken(ctx context.Context, username string, exceptID int64) (bool, error)

	CreateKey(ctx context.Context, userID int64, title, key string) (*persistence.Key, error)
	ListUserKeys(ctx context.Context, userID int64) ([]persistence.Key, error)
	GetKey(ctx context.Context, id int64) (*persistence.Key, error)
	GetUserKey(ctx context.Context, userID, id int64) (*persistence.Key, error)
	DeleteUserKey(ctx context.Context, userID, id int64) (*persistence.Key, error)

	CreateEmail(ctx context.Context, userID int64, email string) (*persistence.Email, error)
	ListUserEmails(ctx context.Context, userID int64) ([]persistence.Email, error)
	GetUserEmail(ctx context.Context, userID, id int64) (*persistence.Email, error)
	DeleteUserEmail(ctx context.Context, userID, id int64) (*persistence.Email, error)

	ListNamespaces(ctx context.Context, f persistence.NamespaceFilter, pg persistence.Page) ([]persistence.Namespace, int64, error)

	FindProject(ctx context.Context, ref string) (*persistence.Project, error)
	GetProject(ctx context.Context, id int64) (*persistence.Project, error)
	ProjectAccess(ctx context.Context, userID int64, p *persistence.Project) (persistence.Access, error)
	ListProjects(ctx context.Context, f persistence.ProjectFilter, pg persistence.Page) ([]persistence.Project, int64, error)
	CreateProject(ctx context.Context, np persistence.NewProject) (*persistence.Project, error)
	UpdateProject(ctx context.Context, id int64, u persistence.ProjectUpdate) (*persistence.Project, error)
	DeleteProject(ctx context.Context, id int64) (*persistence.Project, error)
	SetArchived(ctx context.Context, id int64, archived bool) (*persistence.Project, error)
	Star(ctx context.Context, userID, projectID int64) (bool, error)
	Unstar(ctx context.Context, userID, projectID int64) (bool, error)
	CreateForkRelation(ctx context.Context, projectID, fromID int64) (*persistence.ForkedProjectLink, error)
	DeleteForkRelation(ctx context.Context, projectID int64) (*persistence.ForkedProjectLink, error)
	ShareProject(ctx context.Context, projectID, groupID int64, access int) (*persistence.ProjectGroupLink, error)
	ProjectRelations(ctx context.Context, userID int64, projects []persistence.Project) (*persistence.Relations, error)
	ListProjectEvents(ctx context.Context, projectID int64, pg persistence.Page) ([]persistence.Event, int64, error)
	RecordEvent(ctx context.Context, e *persistence.Event) error
	ListProtectedBranches(ctx context.Context, projectID int64) ([]persistence.ProtectedBranch, error)
	ProtectBranch(ctx context.Context, projectID int64, name string) (*persistence.ProtectedBranch, error)
	UnprotectBranch(ctx context.Context, projectID int64, name string) (bool, error)
	IsProtected(ctx context.Context, projectID int64, name string) (bool, error)
	PersonalProjectCount(ctx context.Context, userID int64) (int64, error)
	Settings(ctx context.Context) (*persistence.ApplicationSetting, error)

	ListIssues(ctx context.Context, f persistence.IssueFilter, pg persistence.Page) ([]persistence.Issue, int64, error)
	GetIssue(ctx context.Context, projectID, id int64) (*persistence.Issue, error)
	CreateIssue(ctx context.Context, n persistence.NewIssue) (*persistence.Issue, error)
	UpdateIssue(ctx context.Context, is *persistence.Issue, u persistence.IssueUpdate, notes persistence.SystemNotes) (*persistence.Issue, *persistence.IssueChanges, error)
	DeleteIssue(ctx context.Context, is *persistence.Issue) error
	MoveIssue(ctx context.Context, is *persistence.Issue, toProjectID, userID int64, notes persistence.MoveNotes) (*persistence.Issue, *persistence.Issue, error)
	Subscribed(ctx context.Context, userID int64, issues []persistence.Issue) (map[int64]bool, error)
	SetSubscription(ctx context.Context, userID int64, subscribableType string, id int64, subscribed bool) error
	InvalidLabelTitles(ctx context.Context, projectID int64, titles []string) (map[string]map[string][]string, error)
	OpenIssueCounts(ctx context.Context, projectIDs []int64) (map[int64]int64, error)
	EventTargetTitle(ctx context.Context, e *persistence.Event) (*string, error)
	ListLabels(ctx context.Context, projectID int64) ([]persistence.LabelWithCounts, error)
	LabelCounts(ctx context.Context, l *persistence.Label) (*persistence.LabelWithCounts, error)
	FindLabel(ctx context.Context, projectID int64, title string) (*persistence.Label, error)
	CreateLabel(ctx context.Context, projectID int64, title, color string, description *string) (*persistence.Label, error)
	UpdateLabel(ctx context.Context, l *persistence.Label, u persistence.LabelUpdate) (*persistence.Label, error)
	DeleteLabel(ctx context.Context, l *persistence.Label) error
	ListMilestones(ctx context.Context, projectID int64, f persistence.MilestoneFilter, pg persistence.Page) ([]persistence.Milestone, int64, error)
	GetMilestone(ctx context.Context, projectID, id int64) (*persistence.Milestone, error)
	CreateMilestone(ctx context.Context, projectID, authorID int64, p persistence.MilestoneParams) (*persistence.Milestone, error)
	UpdateMilestone(ctx context.Context, m *persistence.Milestone, authorID int64, p persistence.MilestoneParams) (*persistence.Milestone, error)

	FindGroup(ctx context.Context, ref string) (*persistence.Namespace, error)
	GetGroup(ctx context.Context, id int64) (*persistence.Namespace, error)
	GroupAccess(ctx context.Context, userID, groupID int64) (int, error)
	GroupHasVisibleProjects(ctx context.Context, groupID, userID int64, external bool) (bool, error)
	CreateGroup(ctx context.Context, ownerID int64, p persistence.GroupParams) (*persistence.Namespace, error)
	UpdateGroup(ctx context.Context, id int64, p persistence.GroupParams) (*persistence.Namespace, error)
	DeleteGroup(ctx context.Context, id int64) (*persistence.Namespace, []persistence.Project, error)
	ListGroups(ctx context.Context, f persistence.GroupFilter, pg persistence.Page) ([]persistence.Namespace, int64, error)
	TransferProject(ctx context.Context, projectID, groupID int64) error

	ListMembers(ctx context.Context, sourceType string, sourceID int64, search string, pg persistence.Page) ([]persistence.MemberWithUser, int64, error)
	GetMember(ctx context.Context, sourceType string, sourceID, userID int64) (*persistence.MemberWithUser, error)
	ListProjectUsers(ctx context.Context, p *persistence.Project, search string, pg persistence.Page) ([]persistence.User, int64, error)
	AddMember(ctx context.Context, sourceType string, sourceID, userID int64, level int, by int64) (*persistence.MemberWithUser, error)
	UpdateMember(ctx context.Context, sourceType string, sourceID, userID int64, level int) (*persistence.MemberWithUser, error)
	RemoveMember(ctx context.Context, sourceType string, sourceID, userID int64) (*persistence.Member, error)

	CreateHook(ctx context.Context, projectID *int64, p persistence.HookParams) (*persistence.WebHook, error)
	UpdateProjectHook(ctx context.Context, projectID, id int64, p persistence.HookParams) (*persistence.WebHook, error)
	ListHooks(ctx context.Context, projectID *int64, pg persistence.Page) ([]persistence.WebHook, int64, error)
	GetHook(ctx context.Context, projectID *int64, id int64) (*persistence.WebHook, error)
	DeleteHook(ctx context.Context, projectID *int64, id int64) (*persistence.WebHook, error)
	HooksFor(ctx context.Context, projectID *int64, eventColumn string) ([]persistence.WebHook, error)

	ListDeployKeys(ctx context.Context, projectID int64) ([]persistence.Key, error)
	GetDeployKey(ctx context.Context, projectID, id int64) (*persistence.Key, error)
	AddDeployKey(ctx context.Context, projectID int64, title, key string, reuseFrom []int64) (*persistence.Key, error)
	RemoveDeployKey(ctx context.Context, projectID, id int64) (*persistence.Key, error)

	GetRelease(ctx context.Context, projectID int64, tag string) (*persistence.Release, error)
	ListReleases(ctx context.Context, projectID int64, tags []string) (map[string]*persistence.Release, error)
	CreateRelease(ctx context.Context, projectID int64, tag, description string) (*persistence.Release, error)
	UpdateRelease(ctx context.Context, projectID int64, tag, description string) (*persistence.Release, error)
	SetRelease(ctx context.Context, projectID int64, tag, description string) (*persistence.Release, error)
	DeleteRelease(ctx context.Context, projectID int64, tag string) error
	ListCommitStatuses(ctx context.Context, projectID int64, sha string, f persistence.CommitStatusFilter, page persistence.Page) ([]persistence.CommitStatus, int64, error)
	CommitState(ctx context.Context, projectID int64, sha string) (*string, error)
	ReportCommitStatus(ctx context.Context, in persistence.CommitStatusReport) (*persistence.CommitStatus, error)

	// Project snippets and notes (issue 6) and commit comments (issue 4).
	ListProjectSnippets(ctx context.Context, projectID int64, sc persistence.SnippetScope, page persistence.Page) ([]persistence.Snippet, int64, error)
	GetProjectSnippet(ctx context.Context, projectID, id int64, sc persistence.SnippetScope) (*persistence.Snippet, error)
	CreateSnippet(ctx context.Context, sn *persistence.Snippet) error
	UpdateSnippet(ctx context.Context, sn *persistence.Snippet, c persistence.SnippetChanges) error
	DeleteSnippet(ctx context.Context, id int64) error
	ListNotes(ctx context.Context, noteableType string, noteableID int64, page persistence.Page) ([]persistence.Note, int64, error)
	GetNote(ctx context.Context, noteableType string, noteableID, id int64) (*persistence.Note, error)
	GetProjectNote(ctx context.Context, projectID, id int64) (*persistence.Note, error)
	GetNoteByID(ctx context.Context, id int64) (*persistence.Note, error)
	ListCommitNotes(ctx context.Context, projectID int64, sha string, page persistence.Page) ([]persistence.Note, int64, error)
	Comment(ctx context.Context, n *persistence.Note) error
	UpdateNoteBody(ctx context.Context, n *persistence.Note, body string, editorID int64) error
	DeleteNote(ctx context.Context, id int64) error

	// Runners as users manage them (runners.go) and the legacy CI v1
	// resources (ci_projects.go, ci_legacy.go).
	ListRunners(ctx context.Context, f persistence.RunnerFilter, pg persistence.Page) ([]persistence.Runner, int64, error)
	GetRunner(ctx context.Context, id int64) (*persistence.Runner, error)
	RunnerManagedBy(ctx context.Context, runnerID, userID int64) (bool, error)
	RunnerProjectIDs(ctx context.Context, runnerID int64) ([]int64, error)
	UpdateRunner(ctx context.Context, id int64, u persistence.RunnerUpdate) (*persistence.Runner, error)
	EnableRunner(ctx context.Context, runnerID, projectID int64) (*persistence.RunnerProject, bool, error)
	GetRunnerProject(ctx context.Context, projectID, runnerID int64) (*persistence.RunnerProject, error)
	DisableRunner(ctx context.Context, projectID, runnerID int64, keepLast bool) (*persistence.RunnerProject, error)
	EnableCI(ctx context.Context, projectID int64, from *int64) (*persistence.Project, bool, error)
	ListLegacyCommits(ctx context.Context, projectID int64, pg persistence.Page) ([]persistence.Pipeline, int64, error)
	FindLegacyCommit(ctx context.Context, projectID int64, sha, ref string) (*persistence.Pipeline, error)
	LegacyCommitBuilds(ctx context.Context, pipelineIDs []int64) (map[int64][]persistence.CommitStatus, error)
	// The CI runner protocol (ci_runners.go, ci_builds.go, builds.go).
	RegisterRunner(ctx context.Context, reg persistence.RunnerRegistration) (*persistence.Runner, error)
	RunnerByToken(ctx context.Context, token string) (*persistence.Runner, error)
	DeleteRunner(ctx context.Context, id int64) (*persistence.Runner, error)
	TouchRunner(ctx context.Context, id int64, info persistence.RunnerInfo) error
	PollRunner(ctx context.Context, token string) (*persistence.Runner, bool, error)
	ClaimBuild(ctx context.Context, r *persistence.Runner) (*persistence.CommitStatus, error)
	GetBuild(ctx context.Context, id int64) (*persistence.CommitStatus, error)
	BuildEnvFor(ctx context.Context, b *persistence.CommitStatus) (*persistence.BuildEnv, error)
	UpdateRunningBuild(ctx context.Context, u persistence.BuildUpdate) (*bool, error)
	AppendTrace(ctx context.Context, buildID, start int64, data []byte) (int64, string, error)
	BuildTraceOf(ctx context.Context, buildID int64) (string, error)
	SetBuildArtifacts(ctx context.Context, buildID int64, file *string, size *int64) error
	FailTimedOutBuilds(ctx context.Context) ([]int64, error)
	RunningBuildToken(ctx context.Context, projectID int64, token string) (bool, error)
	ListBuilds(ctx context.Context, projectID int64, f persistence.BuildFilter, pg persistence.Page) ([]persistence.CommitStatus, int64, error)
	FirstPipelineForSHA(ctx context.Context, projectID int64, sha string) (*persistence.Pipeline, error)
	CancelBuild(ctx context.Context, id int64) (bool, error)
	RetryBuild(ctx context.Context, old *persistence.CommitStatus, userID int64) (*persistence.CommitStatus, error)
	EraseBuild(ctx context.Context, id, userID int64) (*persistence.CommitStatus, error)
	HasTrace(ctx context.Context, id int64) (bool, error)

	// CI pipelines (ci_pipelines.go).
	CreatePipeline(ctx context.Context, in persistence.NewPipeline) (*persistence.Pipeline, []persistence.CommitStatus, error)
	AdvancePipeline(ctx context.Context, buildID int64, jobs []persistence.CommitStatus) (*persistence.Pipeline, []persistence.CommitStatus, error)
	BuildWithPipeline(ctx context.Context, id int64) (*persistence.CommitStatus, *persistence.Pipeline, error)

	// CI triggers and variables (ci_triggers.go, ci_variables.go).
	CreateTrigger(ctx context.Context, projectID int64) (*persistence.TriggerWithUse, error)
	ListTriggers(ctx context.Context, projectID int64, pg persistence.Page) ([]persistence.TriggerWithUse, int64, error)
	GetTrigger(ctx context.Context, projectID int64, token string) (*persistence.TriggerWithUse, error)
	DeleteTrigger(ctx context.Context, projectID int64, token string) (*persistence.TriggerWithUse, error)
	TriggerByToken(ctx context.Context, token string) (*persistence.Trigger, error)
	CreateTriggerRequest(ctx context.Context, triggerID int64, variables *string) (*persistence.TriggerRequest, error)
	ListVariables(ctx context.Context, projectID int64, pg persistence.Page) ([]persistence.Variable, int64, error)
	GetVariable(ctx context.Context, projectID int64, key string) (*persistence.Variable, error)
	CreateVariable(ctx context.Context, projectID int64, key string, value *string) (*persistence.Variable, error)
	UpdateVariable(ctx context.Context, projectID int64, key string, value *string) (*persistence.Variable, error)
	DeleteVariable(ctx context.Context, projectID int64, key string) (*persistence.Variable, error)
}

// Repositories is what the server needs of the git repository store: one
// bare repository per project, named by the project's id.
type Repositories interface {
	// Git is the git binary's path; Path a project's repository directory.
	Git() string
	Path(projectID int64) string
	Create(ctx context.Context, projectID int64) error
	Fork(ctx context.Context, fromID, toID int64) error
	Delete(projectID int64) error
	Branches(ctx context.Context, projectID int64) ([]string, error)
	SetHead(ctx context.Context, projectID int64, branch string) error
	Tags(ctx context.Context, projectID int64) ([]gitstore.Tag, error)
	Tag(ctx context.Context, projectID int64, name string) (*gitstore.Tag, error)
	CreateTag(ctx context.Context, projectID int64, name, ref, message string, tagger gitstore.Signature) (*gitstore.Tag, error)
	DeleteTag(ctx context.Context, projectID int64, name string) error
	ListBranches(ctx context.Context, projectID int64) ([]gitstore.Branch, error)
	Branch(ctx context.Context, projectID int64, name string) (*gitstore.Branch, error)
	CreateBranch(ctx context.Context, projectID int64, name, ref string, policy gitstore.PushPolicy) (*gitstore.Branch, error)
	DeleteBranch(ctx context.Context, projectID int64, name, sha string) error
	// RootRef is the repository's HEAD branch, which may not be deleted.
	RootRef(ctx context.Context, projectID int64) (string, error)
	// ReceiveEnv makes a receive-pack run the server hooks that enforce
	// policy and report the updated refs to a file.
	ReceiveEnv(policy gitstore.PushPolicy, updates string) []string
	PushedCommits(ctx context.Context, projectID int64, u gitstore.RefUpdate, defaultBranch string) ([]string, error)
	// The files API (server/repository_files.go).
	CommitFile(ctx context.Context, projectID int64, old string, c gitstore.FileCommit) (gitstore.RefUpdate, error)
	LastCommitFor(ctx context.Context, projectID int64, commit, path string) (string, error)
	RefTarget(ctx context.Context, projectID int64, ref string) (string, error)
	HasCommits(ctx context.Context, projectID int64) (bool, error)
	// ForcePush: does moving a branch from old to new drop commits?
	ForcePush(ctx context.Context, projectID int64, old, new string) bool
	Commit(ctx context.Context, projectID int64, rev string) (*gitstore.Commit, error)
	PeelTag(ctx context.Context, projectID int64, sha string) (commit string, message *string, err error)
	ResolveCommit(ctx context.Context, projectID int64, rev string) (string, error)
	Log(ctx context.Context, projectID int64, rev string, offset, limit int) ([]gitstore.Commit, error)
	Diffs(ctx context.Context, projectID int64, sha, parent string) ([]gitstore.Diff, error)
	FirstBranchContaining(ctx context.Context, projectID int64, sha string) (string, error)
	// The repository read API (server/repository.go).
	Tree(ctx context.Context, projectID int64, commit, path string) ([]gitstore.TreeEntry, error)
	BlobAt(ctx context.Context, projectID int64, commit, path string) (*gitstore.Blob, error)
	BlobByID(ctx context.Context, projectID int64, sha string) (*gitstore.Blob, error)
	Archive(ctx context.Context, projectID int64, commit, prefix, format string, w io.Writer) error
	Compare(ctx context.Context, projectID int64, from, to string) (*gitstore.Comparison, error)
	Contributors(ctx context.Context, projectID int64) ([]gitstore.Contributor, error)
}

// Server serves the GitLab API v3 (and, later, the CI API v1).
type Server struct {
	cfg            Config
	store          Store
	log            *slog.Logger
	echo           *echo.Echo
	authenticators []authenticator
	deliverer      *Deliverer
	shellSecret    string // "" when there is none: /internal/* answers 401
}

var _ v3api.StrictServerInterface = (*Server)(nil)

// ciServer serves the CI API v1; its operations are methods of Server too,
// but the two contracts' generated names must not meet on one type.
type ciServer struct{ *Server }

var _ civ1api.StrictServerInterface = ciServer{}

// New builds the server over store.
func New(cfg Config, store Store) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.ExternalURL = strings.TrimSuffix(cfg.ExternalURL, "/")
	s := &Server{cfg: cfg, store: store, log: cfg.Logger}
	s.authenticators = []authenticator{s.privateToken}
	if cfg.Delivery.Logger == nil {
		cfg.Delivery.Logger = cfg.Logger
	}
	s.deliverer = NewDeliverer(store, cfg.Delivery)
	secret, err := loadShellSecret(cfg)
	if err != nil {
		return nil, err
	}
	s.shellSecret = secret

	v3doc, err := v3api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load v3 contract: %w", err)
	}
	v3spec, err := specFiles("v3", v3doc)
	if err != nil {
		return nil, err
	}

	ciDoc, err := civ1api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load CI v1 contract: %w", err)
	}
	ciSpec, err := specFiles("ci-v1", ciDoc)
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Pre(s.accessLog, s.recoverPanics, headAsGet, trimJSONSuffix, s.limitBody)
	e.Use(s.gate(compileContract(v3doc, "/api/v3")))
	v3api.RegisterHandlersWithBaseURL(e, v3api.NewStrictHandler(s, nil), "/api/v3")
	// The CI API v1: GitLab 8.x mounted it at /ci/api/v1, standalone GitLab
	// CI at /api/v1; runners are configured with either.
	e.Use(s.gate(compileContract(ciDoc, "/ci/api/v1", "/api/v1")))
	for _, base := range []string{"/ci/api/v1", "/api/v1"} {
		civ1api.RegisterHandlersWithBaseURL(e, civ1api.NewStrictHandler(ciServer{s}, nil), base)
	}
	e.GET("/-/health", s.health)
	s.registerGit(e)
	swaggerui.Register(e, v3spec, ciSpec)
	s.echo = e
	return s, nil
}

// Run does the server's background work (delivering webhooks, failing
// builds past their timeout) until ctx
// is done.
func (s *Server) Run(ctx context.Context) {
	go s.sweepTimedOutBuilds(ctx, buildSweepInterval)
	s.deliverer.Run(ctx)
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeJSON(c, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return nil
	}
	writeJSON(c, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// specFiles gives a contract as the JSON and YAML the docs serve.
func specFiles(slug string, doc any) (swaggerui.Spec, error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return swaggerui.Spec{}, err
	}
	var tree any
	if err := yaml.Unmarshal(js, &tree); err != nil {
		return swaggerui.Spec{}, err
	}
	ys, err := yaml.Marshal(tree)
	if err != nil {
		return swaggerui.Spec{}, err
	}
	return swaggerui.Spec{Slug: slug, JSON: js, YAML: ys}, nil
}

// accessLog writes one structured line per request: method, path (never the
// query, which may hold a token), status, duration.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		method, path := c.Request().Method, c.Request().URL.Path
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.log.Info("request", "method", method, "path", path, "status", c.Response().Status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
		return nil
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
		return err
	}})(next)
}

// headAsGet answers HEAD like GET, as Grape did: the request is routed and
// handled as a GET (echo routes on the original request), and the body it
// would have had is discarded. The method is HEAD again before net/http
// finishes the answer, so that it keeps the connection open whatever
// Content-Length the GET declared.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodHead {
			return next(c)
		}
		r.Method = http.MethodGet
		defer func() { r.Method = http.MethodHead }()
		c.Response().Writer = headWriter{c.Response().Writer}
		return next(c)
	}
}

// headWriter sends the headers and status of an answer, not its body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }

// trimJSONSuffix accepts `.json` on any API path, as Grape did. Git's
// paths (…/info/refs, …/git-upload-pack, …/git-receive-pack) never end in
// .json, so it leaves them alone.
func trimJSONSuffix(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if strings.HasSuffix(u.Path, ".json") && !strings.HasPrefix(u.Path, "/api/docs/") &&
			(strings.HasPrefix(u.Path, "/api/") || strings.HasPrefix(u.Path, "/ci/api/")) {
			u.Path = strings.TrimSuffix(u.Path, ".json")
			if u.RawPath != "" {
				u.RawPath = strings.TrimSuffix(u.RawPath, ".json")
			}
		}
		return next(c)
	}
}

// limitBody caps request bodies: a declared length over the cap is
// refused at once, and reading past it fails with http.MaxBytesError,
// which the error handler answers with 413. Git's requests are exempt: a
// push carries a pack of any size.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if isGitRoute(r.URL.Path) || isArtifactsUpload(r) {
			return next(c)
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			return tooLarge()
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodyBytes)
		}
		return next(c)
	}
}

// url is an absolute URL on the external URL.
func (s *Server) url(path string) string { return s.cfg.ExternalURL + path }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// parseID reads a numeric id the way the contract could not require it to be.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// artifactsUploadRoute is the runner's artifacts upload, held to the
// instance's max_artifacts_size instead of --max-body-bytes.
var artifactsUploadRoute = regexp.MustCompile(`^(/ci)?/api/v1/builds/[^/]+/artifacts$`)

func isArtifactsUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && artifactsUploadRoute.MatchString(r.URL.Path)
}
