package server

// System hook payloads, as GitLab 8.7's SystemHooksService built them
// (doc/system_hooks/system_hooks.md), and their delivery to every system
// hook. Delivery is asynchronous: the payloads are queued in the database
// and the Deliverer posts them with X-Gitlab-Event: System Hook.

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/labrador-dev/labrador/persistence"
)

// xmlschema is Ruby's Time#xmlschema, which the payloads used.
func xmlschema(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

var humanAccess = map[int]string{
	persistence.AccessGuest: "Guest", persistence.AccessReporter: "Reporter", persistence.AccessDeveloper: "Developer",
	persistence.AccessMaster: "Master", persistence.AccessOwner: "Owner",
}

var visibilityNames = map[int]string{
	persistence.VisibilityPrivate: "private", persistence.VisibilityInternal: "internal", persistence.VisibilityPublic: "public",
}

type projectHookData struct {
	CreatedAt         string `json:"created_at"`
	EventName         string `json:"event_name"`
	Name              string `json:"name"`
	OwnerEmail        string `json:"owner_email"`
	OwnerName         string `json:"owner_name"`
	Path              string `json:"path"`
	PathWithNamespace string `json:"path_with_namespace"`
	ProjectID         int64  `json:"project_id"`
	ProjectVisibility string `json:"project_visibility"`
}

type teamHookData struct {
	CreatedAt                string `json:"created_at"`
	EventName                string `json:"event_name"`
	ProjectAccess            string `json:"project_access"`
	ProjectID                int64  `json:"project_id"`
	ProjectName              string `json:"project_name"`
	ProjectPath              string `json:"project_path"`
	ProjectPathWithNamespace string `json:"project_path_with_namespace"`
	UserEmail                string `json:"user_email"`
	UserName                 string `json:"user_name"`
	UserUsername             string `json:"user_username"`
	UserID                   int64  `json:"user_id"`
	ProjectVisibility        string `json:"project_visibility"`
}

type userHookData struct {
	CreatedAt string `json:"created_at"`
	Email     string `json:"email"`
	EventName string `json:"event_name"`
	Name      string `json:"name"`
	Username  string `json:"username"`
	UserID    int64  `json:"user_id"`
}

type keyHookData struct {
	EventName string `json:"event_name"`
	CreatedAt string `json:"created_at"`
	Username  string `json:"username,omitempty"`
	Key       string `json:"key"`
	ID        int64  `json:"id"`
}

type groupHookData struct {
	CreatedAt  string `json:"created_at"`
	EventName  string `json:"event_name"`
	Name       string `json:"name"`
	OwnerEmail string `json:"owner_email"`
	OwnerName  string `json:"owner_name"`
	Path       string `json:"path"`
	GroupID    int64  `json:"group_id"`
}

type groupMemberHookData struct {
	CreatedAt    string `json:"created_at"`
	EventName    string `json:"event_name"`
	GroupAccess  string `json:"group_access"`
	GroupID      int64  `json:"group_id"`
	GroupName    string `json:"group_name"`
	GroupPath    string `json:"group_path"`
	UserEmail    string `json:"user_email"`
	UserName     string `json:"user_name"`
	UserUsername string `json:"user_username"`
	UserID       int64  `json:"user_id"`
}

// projectOwner is project.owner: the namespace's user, or the group (a
// group has a name but no email).
func (s *Server) projectOwner(ctx context.Context, p *persistence.Project) (name, email string) {
	if p.Personal() && p.Namespace.OwnerID != nil {
		if u, err := s.store.GetUser(ctx, *p.Namespace.OwnerID); err == nil {
			return u.Name, u.Email
		}
	}
	return p.Namespace.Name, ""
}

func (s *Server) projectEventData(ctx context.Context, event string, p *persistence.Project) projectHookData {
	name, email := s.projectOwner(ctx, p)
	return projectData(event, p, name, email)
}

// projectDataWithOwner is projectEventData when the owner is at hand (or
// already deleted, with their user).
func projectDataWithOwner(event string, p *persistence.Project, owner *persistence.User) projectHookData {
	return projectData(event, p, owner.Name, owner.Email)
}

func projectData(event string, p *persistence.Project, ownerName, ownerEmail string) projectHookData {
	return projectHookData{
		CreatedAt: xmlschema(p.CreatedAt), EventName: event, Name: p.Name, OwnerEmail: ownerEmail, OwnerName: ownerName,
		Path: p.Path, PathWithNamespace: p.PathWithNamespace(), ProjectID: p.ID, ProjectVisibility: visibilityNames[p.VisibilityLevel],
	}
}

func teamEventData(event string, p *persistence.Project, m *persistence.Member, u *persistence.User) teamHookData {
	return teamHookData{
		CreatedAt: xmlschema(m.CreatedAt), EventName: event, ProjectAccess: humanAccess[m.AccessLevel],
		ProjectID: p.ID, ProjectName: p.Name, ProjectPath: p.Path, ProjectPathWithNamespace: p.PathWithNamespace(),
		UserEmail: u.Email, UserName: u.Name, UserUsername: u.Username, UserID: u.ID,
		ProjectVisibility: visibilityNames[p.VisibilityLevel],
	}
}

func userEventData(event string, u *persistence.User) userHookData {
	return userHookData{CreatedAt: xmlschema(u.CreatedAt), Email: u.Email, EventName: event, Name: u.Name, Username: u.Username, UserID: u.ID}
}

func keyEventData(event string, k *persistence.Key, owner *persistence.User) keyHookData {
	d := keyHookData{EventName: event, CreatedAt: k.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Key: k.Key, ID: k.ID}
	if owner != nil {
		d.Username = owner.Username
	}
	return d
}

func (s *Server) groupEventData(ctx context.Context, event string, g *persistence.Namespace) groupHookData {
	d := groupHookData{CreatedAt: xmlschema(g.CreatedAt), EventName: event, Name: g.Name, Path: g.Path, GroupID: g.ID}
	if g.OwnerID != nil {
		if u, err := s.store.GetUser(ctx, *g.OwnerID); err == nil {
			d.OwnerName, d.OwnerEmail = u.Name, u.Email
		}
	}
	return d
}

func groupMemberEventData(event string, g *persistence.Namespace, m *persistence.Member, u *persistence.User) groupMemberHookData {
	return groupMemberHookData{
		CreatedAt: xmlschema(m.CreatedAt), EventName: event, GroupAccess: humanAccess[m.AccessLevel],
		GroupID: g.ID, GroupName: g.Name, GroupPath: g.Path,
		UserEmail: u.Email, UserName: u.Name, UserUsername: u.Username, UserID: u.ID,
	}
}

// systemHook queues a payload for every system hook. It never fails the
// request that caused it: the write it reports has happened, so a queueing
// problem is logged, not answered.
func (s *Server) systemHook(ctx context.Context, payload any) {
	s.deliverToHooks(ctx, nil, "", "System Hook", payload)
}

// projectHook queues a payload for the project's hooks that take the event
// (eventColumn: push_events, issues_events, …), with X-Gitlab-Event set to
// header ("Push Hook", "Issue Hook", …).
func (s *Server) projectHook(ctx context.Context, projectID int64, eventColumn, header string, payload any) {
	s.deliverToHooks(ctx, &projectID, eventColumn, header, payload)
}

func (s *Server) deliverToHooks(ctx context.Context, projectID *int64, eventColumn, header string, payload any) {
	hooks, err := s.store.HooksFor(context.WithoutCancel(ctx), projectID, eventColumn)
	if err != nil {
		s.log.Error("list hooks", "err", err)
		return
	}
	ptrs := make([]*persistence.WebHook, len(hooks))
	for i := range hooks {
		ptrs[i] = &hooks[i]
	}
	s.enqueue(ctx, ptrs, header, payload)
}

// enqueue queues one delivery of payload per hook.
func (s *Server) enqueue(ctx context.Context, hooks []*persistence.WebHook, header string, payload any) {
	if len(hooks) == 0 {
		return
	}
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("encode hook payload", "err", err)
		return
	}
	ds := make([]persistence.NewDelivery, len(hooks))
	for i, h := range hooks {
		id := h.ID
		ds[i] = persistence.NewDelivery{HookID: &id, HookType: h.Type, URL: h.URL, Event: header, Payload: body, SSLVerify: h.EnableSSLVerification}
	}
	if err := s.deliverer.Enqueue(context.WithoutCancel(ctx), ds); err != nil {
		s.log.Error("queue hook deliveries", "event", strings.ToLower(header), "err", err)
	}
}
