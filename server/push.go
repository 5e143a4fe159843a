package server

// What a push does besides moving refs, as GitLab 8.7's GitPushService and
// GitTagPushService did it: protected branches guarded on the way in (the
// pre-receive hook, with the pusher's abilities), and on the way out an
// event per updated ref and the push payload of
// Gitlab::PushDataBuilder (doc/web_hooks/web_hooks.md) queued for the
// project's push or tag push hooks.

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
)

// maxPushCommits is how many commits a payload carries at most (the
// newest), as 8.7 limited them; total_commits_count counts them all.
const maxPushCommits = 20

// pushRun is one receive-pack: the hooks' environment and the file the
// post-receive hook reports the updated refs in.
type pushRun struct {
	env  []string
	file string
}

// preparePush is the environment a receive-pack runs in for scope's user:
// the project's protected branches and what the user may do to them
// (push_code_to_protected_branches and admin_project: masters, owners and
// admins).
func (s *Server) preparePush(ctx context.Context, scope *projectScope) (*pushRun, error) {
	protected, err := s.store.ListProtectedBranches(ctx, scope.project.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(protected))
	for i, pb := range protected {
		names[i] = pb.Name
	}
	f, err := os.CreateTemp("", "labrador-push-*")
	if err != nil {
		return nil, err
	}
	f.Close()
	policy := gitstore.PushPolicy{ProtectedBranches: names, PushProtected: scope.canAdmin(), ChangeTags: scope.canAdmin()}
	return &pushRun{env: s.cfg.Repos.ReceiveEnv(policy, f.Name()), file: f.Name()}, nil
}

// updates are the refs the push updated (none when it was refused).
func (p *pushRun) updates(log *slog.Logger) []gitstore.RefUpdate {
	u, err := gitstore.ReadRefUpdates(p.file)
	if err != nil {
		log.Error("read the pushed refs", "err", err)
	}
	return u
}

func (p *pushRun) cleanup() { os.Remove(p.file) }

// pushData is Gitlab::PushDataBuilder.build's hash, in its order.
type pushData struct {
	ObjectKind        string         `json:"object_kind"`
	Before            string         `json:"before"`
	After             string         `json:"after"`
	Ref               string         `json:"ref"`
	CheckoutSHA       *string        `json:"checkout_sha"`
	Message           *string        `json:"message"`
	UserID            int64          `json:"user_id"`
	UserName          string         `json:"user_name"`
	UserEmail         string         `json:"user_email"`
	ProjectID         int64          `json:"project_id"`
	Repository        pushRepository `json:"repository"`
	Commits           []pushCommit   `json:"commits"`
	TotalCommitsCount int            `json:"total_commits_count"`
}

type pushRepository struct {
	Name            string  `json:"name"`
	URL             string  `json:"url"`
	Description     *string `json:"description"`
	Homepage        string  `json:"homepage"`
	GitHTTPURL      string  `json:"git_http_url"`
	GitSSHURL       string  `json:"git_ssh_url"`
	VisibilityLevel int     `json:"visibility_level"`
}

// pushCommit is Commit#hook_attrs.
type pushCommit struct {
	ID        string     `json:"id"`
	Message   string     `json:"message"`
	Timestamp string     `json:"timestamp"`
	URL       string     `json:"url"`
	Author    pushAuthor `json:"author"`
	Added     []string   `json:"added"`
	Modified  []string   `json:"modified"`
	Removed   []string   `json:"removed"`
}

type pushAuthor struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// pushed records and announces each ref update of a push and, with ci,
// creates its CI pipeline. A failure is
// logged: the push has happened either way.
func (s *Server) pushed(ctx context.Context, p *persistence.Project, user *persistence.User, updates []gitstore.RefUpdate, ci bool) {
	if user == nil {
		return
	}
	for _, u := range updates {
		tag := strings.HasPrefix(u.Ref, "refs/tags/")
		if !tag && !strings.HasPrefix(u.Ref, "refs/heads/") {
			continue // neither a branch nor a tag: GitLab ignored those
		}
		data, err := s.pushData(ctx, p, user, u)
		if err != nil {
			s.log.Error("push data", "project_id", p.ID, "ref", u.Ref, "err", err)
			continue
		}
		body, err := json.Marshal(data)
		if err != nil {
			s.log.Error("encode push data", "project_id", p.ID, "err", err)
			continue
		}
		raw := string(body)
		if err := s.store.RecordEvent(ctx, &persistence.Event{ProjectID: &p.ID, AuthorID: user.ID, Action: persistence.EventPushed, Data: &raw}); err != nil {
			s.log.Error("record push event", "project_id", p.ID, "err", err)
		}
		if tag {
			s.projectHook(ctx, p.ID, "tag_push_events", "Tag Push Hook", json.RawMessage(body))
		} else {
			s.projectHook(ctx, p.ID, "push_events", "Push Hook", json.RawMessage(body))
		}
		if ci && !u.Deleted() {
			s.pushPipeline(ctx, p, user, u, tag)
		}
	}
}

// pushPipeline creates the CI pipeline of a pushed branch or tag (8.7's
// Ci::CreateBuildsService from GitPushService and GitTagPushService); a
// failure is logged, the push has happened either way.
func (s *Server) pushPipeline(ctx context.Context, p *persistence.Project, user *persistence.User, u gitstore.RefUpdate, tag bool) {
	sha := u.New
	if tag {
		// A tag's builds run the commit it names.
		commit, _, err := s.cfg.Repos.PeelTag(ctx, p.ID, u.New)
		if err != nil {
			s.log.Error("peel pushed tag", "project_id", p.ID, "ref", u.Ref, "err", err)
			return
		}
		sha = commit
	}
	ref := strings.TrimPrefix(strings.TrimPrefix(u.Ref, "refs/heads/"), "refs/tags/")
	if _, err := s.createPipeline(ctx, pipelineInput{Project: p, Ref: ref, SHA: sha, BeforeSHA: u.Old, Tag: tag, UserID: &user.ID}); err != nil {
		s.log.Error("create pipeline", "project_id", p.ID, "ref", u.Ref, "err", err)
	}
}

// pushRepositoryOf is the `repository` of push and build hook payloads
// (8.7's hook_attrs of a project, with its git URLs).
func (s *Server) pushRepositoryOf(p *persistence.Project) pushRepository {
	web, ssh := s.projectWebURL(p), s.sshURL(p)
	return pushRepository{
		Name: p.Name, URL: ssh, Description: p.Description, Homepage: web,
		GitHTTPURL: web + ".git", GitSSHURL: ssh, VisibilityLevel: p.VisibilityLevel,
	}
}

// pushData builds one update's payload. A branch's commits are those the
// push brought to it (PushedCommits); a tag's, the commit it names (with an annotated
// tag's message), as 8.7's GitTagPushService gave them.
func (s *Server) pushData(ctx context.Context, p *persistence.Project, user *persistence.User, u gitstore.RefUpdate) (*pushData, error) {
	d := &pushData{
		ObjectKind: "push", Before: u.Old, After: u.New, Ref: u.Ref,
		UserID: user.ID, UserName: user.Name, UserEmail: user.Email, ProjectID: p.ID,
		Repository: s.pushRepositoryOf(p),
		Commits:    []pushCommit{},
	}
	checkout := u.New
	d.CheckoutSHA = &checkout
	var shas []string
	if strings.HasPrefix(u.Ref, "refs/tags/") {
		d.ObjectKind = "tag_push"
		if !u.Deleted() {
			// The tag as it is now, by name, as 8.7's GitTagPushService
			// found it: its message even when the hooks were told its
			// commit (an API-made tag, as 8.7's GitHooksService told it).
			commit, message, err := s.cfg.Repos.PeelTag(ctx, p.ID, u.Ref)
			if err != nil {
				return nil, err
			}
			checkout, d.Message = commit, message
			shas = []string{commit}
		}
	} else {
		var def string
		if p.DefaultBranch != nil {
			def = *p.DefaultBranch
		}
		var err error
		if shas, err = s.cfg.Repos.PushedCommits(ctx, p.ID, u, def); err != nil {
			return nil, err
		}
	}
	d.TotalCommitsCount = len(shas)
	if len(shas) > maxPushCommits {
		shas = shas[len(shas)-maxPushCommits:]
	}
	web := s.projectWebURL(p)
	for _, sha := range shas {
		c, err := s.cfg.Repos.Commit(ctx, p.ID, sha)
		if err != nil {
			return nil, err
		}
		d.Commits = append(d.Commits, pushCommit{
			ID: c.ID, Message: c.Message, Timestamp: c.CommittedDate.Format("2006-01-02T15:04:05-07:00"),
			URL: web + "/commit/" + c.ID, Author: pushAuthor{Name: c.AuthorName, Email: c.AuthorEmail},
			Added: nonNil(c.Added), Modified: nonNil(c.Modified), Removed: nonNil(c.Removed),
		})
	}
	return d, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
