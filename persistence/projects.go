package persistence

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Visibility levels and access levels, as GitLab numbered them.
const (
	VisibilityPrivate  = 0
	VisibilityInternal = 10
	VisibilityPublic   = 20

	AccessNone      = 0
	AccessGuest     = 10
	AccessReporter  = 20
	AccessDeveloper = 30
	AccessMaster    = 40
	AccessOwner     = 50

	// NotificationGlobal is a new member's notification level.
	NotificationGlobal = 3
)

// Source types of members, as GitLab's polymorphic column named them.
const (
	SourceProject   = "Project"
	SourceNamespace = "Namespace"
)

// Project is a row of projects, with its namespace loaded.
type Project struct {
	ID                   int64 `gorm:"primaryKey"`
	Name                 string
	Path                 string
	Description          *string
	NamespaceID          int64
	CreatorID            *int64
	VisibilityLevel      int
	Archived             bool
	IssuesEnabled        bool
	MergeRequestsEnabled bool
	WikiEnabled          bool
	BuildsEnabled        bool
	SnippetsEnabled      bool
	SharedRunnersEnabled bool
	PublicBuilds         bool
	DefaultBranch        *string
	ImportURL            *string
	RunnersToken         string
	// CI settings (8.7's build_timeout in seconds, build_allow_git_fetch,
	// build_coverage_regex); the defaults apply when created zero.
	BuildTimeout       int64 `gorm:"default:3600"`
	BuildAllowGitFetch bool  `gorm:"default:true"`
	BuildCoverageRegex *string
	StarCount          int
	PendingDelete      bool
	LastActivityAt     time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time

	Namespace Namespace `gorm:"foreignKey:NamespaceID"`
}

// PathWithNamespace is "namespace/project".
func (p *Project) PathWithNamespace() string { return p.Namespace.Path + "/" + p.Path }

// NameWithNamespace is "Namespace / Project".
func (p *Project) NameWithNamespace() string { return p.Namespace.Name + " / " + p.Name }

// Personal reports whether the project lives in a user's namespace.
func (p *Project) Personal() bool { return p.Namespace.Type == nil }

// Member is a user's membership of a project or a group.
type Member struct {
	ID                int64 `gorm:"primaryKey"`
	SourceType        string
	SourceID          int64
	UserID            int64
	AccessLevel       int
	NotificationLevel int
	CreatedByID       *int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ProjectGroupLink shares a project with a group.
type ProjectGroupLink struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   int64
	GroupID     int64
	GroupAccess int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ForkedProjectLink records that a project is a fork of another.
type ForkedProjectLink struct {
	ID                  int64 `gorm:"primaryKey"`
	ForkedToProjectID   int64
	ForkedFromProjectID int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// UsersStarProject is one user's star on one project.
type UsersStarProject struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	UserID    int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

var (
	// Gitlab::Regex.project_name_regex and project_path_regex.
	projectNameRE = regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}\p{Pd}_. ]*$`)
	projectPathRE = regexp.MustCompile(`^[a-zA-Z0-9_.][a-zA-Z0-9_\-.]*$`)
)

const (
	projectNameMessage = "can contain only letters, digits, '_', '.', dash and space. It must start with letter, digit or '_'."
	projectPathMessage = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.git'"
)

// Parameterize is Rails' String#parameterize, which 8.7 used to derive a
// project path from its name.
func Parameterize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
			dash = r == '-'
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// validateProject checks a project as the model did, uniqueness included.
func validateProject(tx *gorm.DB, p *Project) (*ValidationError, error) {
	v := &ValidationError{}
	checkText(v, "name", strings.TrimSpace(p.Name), projectNameRE.MatchString(p.Name), projectNameMessage)
	checkPath(v, p.Path, projectPathRE.MatchString(p.Path) && !strings.HasSuffix(p.Path, ".git"), projectPathMessage)
	checkVisibility(v, p.VisibilityLevel)
	if v.Has("name", msgBlank) || v.Has("path", msgBlank) {
		return v, nil
	}
	var n int64
	if err := tx.Model(&Project{}).Where("namespace_id = ? AND lower(name) = lower(?) AND id <> ?", p.NamespaceID, p.Name, p.ID).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		v.Add("name", msgTaken)
	}
	if err := tx.Model(&Project{}).Where("namespace_id = ? AND lower(path) = lower(?) AND id <> ?", p.NamespaceID, p.Path, p.ID).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		v.Add("path", msgTaken)
	}
	return v, nil
}

// ErrProjectLimit is a create refused by the creator's project limit; its
// text is 8.7's.
type ErrProjectLimit struct{ Message string }

func (e *ErrProjectLimit) Error() string { return e.Message }

// NewProject is what creating a project takes. Nil fields take defaults.
type NewProject struct {
	Name, Path, Description, ImportURL, DefaultBranch *string
	NamespaceID                                       int64
	CreatorID                                         int64
	VisibilityLevel                                   *int
	IssuesEnabled, MergeRequestsEnabled, WikiEnabled  *bool
	BuildsEnabled, SnippetsEnabled                    *bool
	SharedRunnersEnabled, PublicBuilds                *bool
	// ForkedFromID makes the new project a fork of that project.
	ForkedFromID *int64
}

// ProjectUpdate is an edit; nil fields stay.
type ProjectUpdate struct {
	Name, Path, Description, DefaultBranch           *string
	VisibilityLevel                                  *int
	IssuesEnabled, MergeRequestsEnabled, WikiEnabled *bool
	BuildsEnabled, SnippetsEnabled                   *bool
	SharedRunnersEnabled, PublicBuilds               *bool
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// PersonalProjectCount counts the projects in a user's own namespace.
func (s *Store) PersonalProjectCount(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&Project{}).
		Joins("JOIN namespaces ON namespaces.id = projects.namespace_id").
		Where("namespaces.owner_id = ? AND namespaces.type IS NULL", userID).Count(&n).Error
	return n, err
}

// CreateProject validates and stores a project; in a personal namespace
// the creator becomes its master, as 8.7's CreateService made them. The
// project, its membership, its fork link and its "created" event are one
// transaction.
func (s *Store) CreateProject(ctx context.Context, np NewProject) (*Project, error) {
	now := s.now()
	p := &Project{
		NamespaceID: np.NamespaceID, CreatorID: &np.CreatorID, VisibilityLevel: VisibilityPrivate,
		IssuesEnabled: true, MergeRequestsEnabled: true, WikiEnabled: true, BuildsEnabled: true,
		SharedRunnersEnabled: true, PublicBuilds: true,
		Description: np.Description, ImportURL: np.ImportURL, DefaultBranch: np.DefaultBranch,
		RunnersToken: NewToken(20), LastActivityAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if np.Name != nil {
		p.Name = strings.TrimSpace(*np.Name)
	}
	if np.Path != nil {
		p.Path = strings.TrimSpace(*np.Path)
	}
	if p.Path == "" {
		p.Path = Parameterize(p.Name)
	}
	if p.Name == "" {
		p.Name = p.Path
	}
	if np.VisibilityLevel != nil {
		p.VisibilityLevel = *np.VisibilityLevel
	}
	setBool(&p.IssuesEnabled, np.IssuesEnabled)
	setBool(&p.MergeRequestsEnabled, np.MergeRequestsEnabled)
	setBool(&p.WikiEnabled, np.WikiEnabled)
	setBool(&p.BuildsEnabled, np.BuildsEnabled)
	setBool(&p.SnippetsEnabled, np.SnippetsEnabled)
	setBool(&p.SharedRunnersEnabled, np.SharedRunnersEnabled)
	setBool(&p.PublicBuilds, np.PublicBuilds)

	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&p.Namespace, p.NamespaceID).Error; err != nil {
			return notFound(err)
		}
		var creator User
		if err := tx.Take(&creator, np.CreatorID).Error; err != nil {
			return notFound(err)
		}
		if p.Personal() {
			var count int64
			if err := tx.Model(&Project{}).Where("namespace_id = ?", p.NamespaceID).Count(&count).Error; err != nil {
				return err
			}
			if int64(creator.ProjectsLimit)-count <= 0 {
				if creator.ProjectsLimit == 0 {
					return &ErrProjectLimit{"Personal project creation is not allowed. Please contact your administrator with questions"}
				}
				return &ErrProjectLimit{fmt.Sprintf("Your project limit is %d projects! Please contact your administrator to increase it", creator.ProjectsLimit)}
			}
		}
		v, err := validateProject(tx, p)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := tx.Omit("Namespace").Create(p).Error; err != nil {
			return err
		}
		if p.Personal() {
			m := Member{SourceType: SourceProject, SourceID: p.ID, UserID: np.CreatorID, AccessLevel: AccessMaster,
				NotificationLevel: NotificationGlobal, CreatedByID: &np.CreatorID, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
		}
		if np.ForkedFromID != nil {
			link := ForkedProjectLink{ForkedToProjectID: p.ID, ForkedFromProjectID: *np.ForkedFromID, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&link).Error; err != nil {
				return err
			}
		}
		users, err := namespaceUsers(tx, p.NamespaceID)
		if err != nil {
			return err
		}
		if err := refreshAuthorizations(tx, append(users, np.CreatorID)...); err != nil {
			return err
		}
		return createEvent(tx, &Event{ProjectID: &p.ID, AuthorID: np.CreatorID, Action: EventCreated, CreatedAt: now, UpdatedAt: now})
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v := &ValidationError{}
		v.Add("path", msgTaken)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	return s.GetProject(ctx, p.ID)
}

// GetProject loads a project with its namespace; pending deletions are gone.
func (s *Store) GetProject(ctx context.Context, id int64) (*Project, error) {
	return s.oneProject(s.queryProjects(ctx, "p.id = ? AND p.pending_delete = ?", id, false))
}

func (s *Store) oneProject(ps []Project, err error) (*Project, error) {
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, ErrNotFound
	}
	return &ps[0], nil
}

// FindProject finds a project by numeric id or "namespace/path", as 8.7's
// find_with_namespace || find_by(id:) did.
func (s *Store) FindProject(ctx context.Context, ref string) (*Project, error) {
	if ns, path, ok := strings.Cut(ref, "/"); ok {
		return s.oneProject(s.queryProjects(ctx, "lower(n.path) = lower(?) AND lower(p.path) = lower(?) AND p.pending_delete = ?", ns, path, false))
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.GetProject(ctx, id)
}

// UpdateProject applies an edit.
func (s *Store) UpdateProject(ctx context.Context, id int64, u ProjectUpdate) (*Project, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var p Project
		if err := tx.Take(&p, id).Error; err != nil {
			return notFound(err)
		}
		if u.Name != nil {
			p.Name = strings.TrimSpace(*u.Name)
		}
		if u.Path != nil {
			p.Path = strings.TrimSpace(*u.Path)
		}
		if u.Description != nil {
			p.Description = u.Description
		}
		if u.DefaultBranch != nil {
			p.DefaultBranch = u.DefaultBranch
		}
		if u.VisibilityLevel != nil {
			p.VisibilityLevel = *u.VisibilityLevel
		}
		setBool(&p.IssuesEnabled, u.IssuesEnabled)
		setBool(&p.MergeRequestsEnabled, u.MergeRequestsEnabled)
		setBool(&p.WikiEnabled, u.WikiEnabled)
		setBool(&p.BuildsEnabled, u.BuildsEnabled)
		setBool(&p.SnippetsEnabled, u.SnippetsEnabled)
		setBool(&p.SharedRunnersEnabled, u.SharedRunnersEnabled)
		setBool(&p.PublicBuilds, u.PublicBuilds)
		v, err := validateProject(tx, &p)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		return tx.Omit("Namespace").Select("*").Save(&p).Error
	})
	if err != nil {
		return nil, err
	}
	return s.GetProject(ctx, id)
}

// SetArchived archives or unarchives a project.
func (s *Store) SetArchived(ctx context.Context, id int64, archived bool) (*Project, error) {
	if err := s.write(ctx).Model(&Project{}).Where("id = ?", id).
		Updates(map[string]any{"archived": archived, "updated_at": s.now()}).Error; err != nil {
		return nil, err
	}
	return s.GetProject(ctx, id)
}

// DeleteProject removes a project and everything under it in one
// transaction (members, shares, stars, fork links, hooks, deploy key
// links and events go with it; deploy keys left on no project go too).
func (s *Store) DeleteProject(ctx context.Context, id int64) (*Project, error) {
	var p Project
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Preload("Namespace").Take(&p, id).Error; err != nil {
			return notFound(err)
		}
		return deleteProjects(tx, []int64{id})
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func deleteProjects(tx *gorm.DB, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var keyIDs []int64
	if err := tx.Model(&DeployKeyProject{}).Where("project_id IN ?", ids).Pluck("deploy_key_id", &keyIDs).Error; err != nil {
		return err
	}
	for _, del := range []struct {
		model any
		where string
	}{
		{&Member{}, "source_type = 'Project' AND source_id IN ?"},
		{&ProjectGroupLink{}, "project_id IN ?"},
		{&UsersStarProject{}, "project_id IN ?"},
		{&ForkedProjectLink{}, "forked_to_project_id IN ? OR forked_from_project_id IN ?"},
		{&WebHook{}, "project_id IN ?"},
		{&DeployKeyProject{}, "project_id IN ?"},
		{&Event{}, "project_id IN ?"},
		{&Release{}, "project_id IN ?"},
		{&ProtectedBranch{}, "project_id IN ?"},
		{&CommitStatus{}, "project_id IN ?"},
		{&ProjectAuthorization{}, "project_id IN ?"},
		{&Project{}, "id IN ?"},
	} {
		args := []any{ids}
		if strings.Count(del.where, "?") == 2 {
			args = append(args, ids)
		}
		if err := tx.Where(del.where, args...).Delete(del.model).Error; err != nil {
			return err
		}
	}
	// Deploy keys enabled on no project any more are deleted, as 8.7's
	// DeployKeysProject#destroy_orphaned_deploy_key did.
	if len(keyIDs) > 0 {
		return tx.Where("id IN ? AND type = 'DeployKey' AND NOT EXISTS (SELECT 1 FROM deploy_keys_projects d WHERE d.deploy_key_id = keys.id)", keyIDs).
			Delete(&Key{}).Error
	}
	return nil
}

// ProjectOrder is a list's sort.
type ProjectOrder struct {
	By  string // id, name, path, created_at, updated_at, last_activity_at
	Asc bool
}

// ProjectFilter selects projects for a list.
type ProjectFilter struct {
	// Scope: "authorized" (the user's projects), "owned" (in the user's
	// namespace), "starred", "all", "visible" (authorized plus every
	// public project, and internal ones for non-external users), "group"
	// (the group's projects and those shared with it).
	Scope    string
	UserID   int64
	External bool
	GroupID  int64
	// VisibleOnly keeps, within the scope, what the user may see: their
	// projects, public ones, and internal ones unless they are external.
	VisibleOnly bool
	Archived    *bool
	Visibility  *int
	// Search is the lists' `search`: name, path, namespace name or
	// description contains it, ignoring case (8.7's Project.search).
	Search string
	// NameLike is GET /projects/search/:query: `name LIKE %query%` as 8.7
	// ran it, case-sensitive, with the query's own % and _ as wildcards.
	NameLike string
	Order    ProjectOrder
}

// authorizedProjectIDs is the subquery of the projects a user reaches
// (project_authorizations): one index range, never a scan of projects.
const authorizedProjectIDs = `SELECT project_id FROM project_authorizations WHERE user_id = @user`

// ListProjects returns one page of projects and the total.
func (s *Store) ListProjects(ctx context.Context, f ProjectFilter, pg Page) ([]Project, int64, error) {
	// Labrador deletes projects synchronously, so pending_delete (kept for
	// GitLab's schema) is never set and lists need not filter on it.
	q := s.read(ctx).Model(&Project{})
	user := map[string]any{"user": f.UserID}
	// The count of an unfiltered "authorized" list is the user's range of
	// project_authorizations, which need not touch projects at all.
	countQ := q
	fastCount := f.Scope == "authorized" && f.Archived == nil && f.Visibility == nil && f.Search == "" && !f.VisibleOnly
	switch f.Scope {
	case "authorized":
		q = q.Where("projects.id IN ("+authorizedProjectIDs+")", user)
		countQ = q
		if fastCount {
			countQ = s.read(ctx).Table("project_authorizations").Where("user_id = ?", f.UserID)
		}
	case "owned":
		q = q.Where("projects.namespace_id IN (SELECT id FROM namespaces WHERE owner_id = ? AND type IS NULL)", f.UserID)
	case "starred":
		q = q.Where("projects.id IN (SELECT project_id FROM users_star_projects WHERE user_id = ?)", f.UserID)
	case "group":
		q = q.Where("(projects.namespace_id = ? OR projects.id IN (SELECT project_id FROM project_group_links WHERE group_id = ?))", f.GroupID, f.GroupID)
	case "visible":
		f.VisibleOnly = true
	case "all":
	default:
		return nil, 0, fmt.Errorf("persistence: unknown project scope %q", f.Scope)
	}
	if f.VisibleOnly {
		levels := []int{VisibilityPublic}
		if !f.External {
			levels = append(levels, VisibilityInternal)
		}
		q = q.Where(s.read(ctx).Where("projects.id IN ("+authorizedProjectIDs+")", user).Or("projects.visibility_level IN ?", levels))
	}
	if f.Archived != nil {
		q = q.Where("projects.archived = ?", *f.Archived)
	}
	if f.Visibility != nil {
		q = q.Where("projects.visibility_level = ?", *f.Visibility)
	}
	if f.Search != "" {
		like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		q = q.Where(`(lower(projects.name) LIKE ? ESCAPE '\' OR lower(projects.path) LIKE ? ESCAPE '\'
			OR lower(coalesce(projects.description, '')) LIKE ? ESCAPE '\'
			OR projects.namespace_id IN (SELECT id FROM namespaces WHERE lower(name) LIKE ? ESCAPE '\'))`, like, like, like, like)
	}
	if f.NameLike != "" {
		if s.dialect == "sqlite" {
			// SQLite's LIKE ignores case; GLOB does not.
			q = q.Where("projects.name GLOB ?", "*"+likeToGlob(f.NameLike)+"*")
		} else {
			q = q.Where("projects.name LIKE ?", "%"+f.NameLike+"%")
		}
	}
	if !fastCount {
		countQ = q
	}
	var total int64
	if err := countQ.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	projects := []Project{}
	if total == 0 || int64(pg.Offset) >= total {
		return projects, total, nil
	}
	// created_at (8.7's default order) is the id order: a project's
	// created_at is set when it is inserted, and ids are handed out in
	// insertion order. Sorting on the primary key reads only the page.
	col := map[string]string{"id": "id", "name": "name", "path": "path", "created_at": "id",
		"updated_at": "updated_at", "last_activity_at": "last_activity_at"}[f.Order.By]
	if col == "" {
		col = "id"
	}
	if fastCount && col == "id" {
		// The page is a range of the user's project_authorizations index.
		return s.projectsByAuthorization(ctx, f.UserID, !f.Order.Asc, pg, total)
	}
	q = q.Order(clause.OrderByColumn{Column: clause.Column{Table: "projects", Name: col}, Desc: !f.Order.Asc}).
		Order(clause.OrderByColumn{Column: clause.Column{Table: "projects", Name: "id"}, Desc: !f.Order.Asc}).
		Offset(pg.Offset)
	if pg.Limit > 0 {
		q = q.Limit(pg.Limit)
	}
	var ids []int64
	if err := q.Pluck("projects.id", &ids).Error; err != nil {
		return nil, 0, err
	}
	projects, err := s.projectsByID(ctx, ids)
	return projects, total, err
}

const projectColumns = "p.id, p.name, p.path, p.description, p.namespace_id, p.creator_id, p.visibility_level, p.archived, " +
	"p.issues_enabled, p.merge_requests_enabled, p.wiki_enabled, p.builds_enabled, p.snippets_enabled, " +
	"p.shared_runners_enabled, p.public_builds, p.default_branch, p.import_url, p.runners_token, p.star_count, " +
	"p.pending_delete, p.last_activity_at, p.created_at, p.updated_at, " +
	"p.build_timeout, p.build_allow_git_fetch, p.build_coverage_regex, " +
	"n.id, n.name, n.path, n.owner_id, n.type, n.description, n.visibility_level, n.share_with_group_lock, n.avatar, n.created_at, n.updated_at"

// queryProjects runs a SELECT of projectColumns over `projects p JOIN
// namespaces n` and scans the rows explicitly: projects are the widest
// rows of the hottest lists.
func (s *Store) queryProjects(ctx context.Context, where string, args ...any) ([]Project, error) {
	rows, err := s.read(ctx).Raw("SELECT "+projectColumns+" FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE "+where, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	projects := []Project{}
	for rows.Next() {
		var p Project
		n := &p.Namespace
		if err := rows.Scan(&p.ID, &p.Name, &p.Path, &p.Description, &p.NamespaceID, &p.CreatorID, &p.VisibilityLevel,
			&p.Archived, &p.IssuesEnabled, &p.MergeRequestsEnabled, &p.WikiEnabled, &p.BuildsEnabled, &p.SnippetsEnabled,
			&p.SharedRunnersEnabled, &p.PublicBuilds, &p.DefaultBranch, &p.ImportURL, &p.RunnersToken, &p.StarCount,
			&p.PendingDelete, &p.LastActivityAt, &p.CreatedAt, &p.UpdatedAt,
			&p.BuildTimeout, &p.BuildAllowGitFetch, &p.BuildCoverageRegex,
			&n.ID, &n.Name, &n.Path, &n.OwnerID, &n.Type, &n.Description, &n.VisibilityLevel, &n.ShareWithGroupLock,
			&n.Avatar, &n.CreatedAt, &n.UpdatedAt); err != nil {
			return nil, err
		}
		projects = append(projects, p)
	}
	return projects, rows.Err()
}

// projectsByID loads projects in the order of ids.
func (s *Store) projectsByID(ctx context.Context, ids []int64) ([]Project, error) {
	if len(ids) == 0 {
		return []Project{}, nil
	}
	found, err := s.queryProjects(ctx, "p.id IN ?", ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*Project, len(found))
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	projects := make([]Project, 0, len(ids))
	for _, id := range ids {
		if p := byID[id]; p != nil {
			projects = append(projects, *p)
		}
	}
	return projects, nil
}

// Access is what a user may do in a project, from GitLab's project team:
// the highest of the direct membership, the group membership, a group
// share (capped at the share's level), and owner for the namespace owner.
type Access struct {
	Level         int
	ProjectMember *Member // direct project membership, if any
	GroupMember   *Member // membership of the project's group, if any
}

// ProjectAccess computes a user's access to a project.
func (s *Store) ProjectAccess(ctx context.Context, userID int64, p *Project) (Access, error) {
	var a Access
	db := s.read(ctx)
	var members []Member
	err := db.Where("user_id = ? AND ((source_type = 'Project' AND source_id = ?) OR (source_type = 'Namespace' AND source_id = ?))",
		userID, p.ID, p.NamespaceID).Find(&members).Error
	if err != nil {
		return a, err
	}
	for i := range members {
		m := &members[i]
		if m.SourceType == SourceProject {
			a.ProjectMember = m
		} else {
			a.GroupMember = m
		}
		a.Level = max(a.Level, m.AccessLevel)
	}
	if p.Personal() && p.Namespace.OwnerID != nil && *p.Namespace.OwnerID == userID {
		a.Level = AccessOwner
	}
	var shared struct{ Level *int }
	err = db.Raw(`SELECT max(CASE WHEN m.access_level < l.group_access THEN m.access_level ELSE l.group_access END) AS level
		FROM project_group_links l JOIN members m ON m.source_type = 'Namespace' AND m.source_id = l.group_id
		WHERE l.project_id = ? AND m.user_id = ?`, p.ID, userID).Scan(&shared).Error
	if err != nil {
		return a, err
	}
	if shared.Level != nil {
		a.Level = max(a.Level, *shared.Level)
	}
	return a, nil
}

// Star stars a project for a user; it reports false when it already was.
func (s *Store) Star(ctx context.Context, userID, projectID int64) (bool, error) {
	return s.toggleStar(ctx, userID, projectID, true)
}

// Unstar removes a star; it reports false when there was none.
func (s *Store) Unstar(ctx context.Context, userID, projectID int64) (bool, error) {
	return s.toggleStar(ctx, userID, projectID, false)
}

func (s *Store) toggleStar(ctx context.Context, userID, projectID int64, on bool) (bool, error) {
	changed := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&UsersStarProject{}).Where("user_id = ? AND project_id = ?", userID, projectID).Count(&n).Error; err != nil {
			return err
		}
		if (n > 0) == on {
			return nil
		}
		now := s.now()
		delta := -1
		if on {
			delta = 1
			if err := tx.Create(&UsersStarProject{UserID: userID, ProjectID: projectID, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
				return err
			}
		} else if err := tx.Where("user_id = ? AND project_id = ?", userID, projectID).Delete(&UsersStarProject{}).Error; err != nil {
			return err
		}
		changed = true
		return tx.Model(&Project{}).Where("id = ?", projectID).Update("star_count", gorm.Expr("star_count + ?", delta)).Error
	})
	return changed, err
}

// ForkedFrom returns the project a project was forked from, or nil.
func (s *Store) ForkedFrom(ctx context.Context, projectID int64) (*Project, error) {
	var link ForkedProjectLink
	err := s.read(ctx).Where("forked_to_project_id = ?", projectID).Take(&link).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := s.GetProject(ctx, link.ForkedFromProjectID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// ForksCount counts the forks of a project.
func (s *Store) ForksCount(ctx context.Context, projectID int64) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&ForkedProjectLink{}).Where("forked_from_project_id = ?", projectID).Count(&n).Error
	return n, err
}

// ErrAlreadyForked is createForkRelation on a project that is a fork.
var ErrAlreadyForked = errors.New("persistence: project already forked")

// CreateForkRelation marks project a fork of from.
func (s *Store) CreateForkRelation(ctx context.Context, projectID, fromID int64) (*ForkedProjectLink, error) {
	now := s.now()
	link := &ForkedProjectLink{ForkedToProjectID: projectID, ForkedFromProjectID: fromID, CreatedAt: now, UpdatedAt: now}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&ForkedProjectLink{}).Where("forked_to_project_id = ?", projectID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadyForked
		}
		return tx.Create(link).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrAlreadyForked
	}
	if err != nil {
		return nil, err
	}
	return link, nil
}

// DeleteForkRelation removes a project's fork link; nil when it had none.
func (s *Store) DeleteForkRelation(ctx context.Context, projectID int64) (*ForkedProjectLink, error) {
	var link ForkedProjectLink
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("forked_to_project_id = ?", projectID).Take(&link).Error; err != nil {
			return err
		}
		return tx.Delete(&ForkedProjectLink{}, link.ID).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &link, nil
}

// ShareProject shares a project with a group at an access level.
func (s *Store) ShareProject(ctx context.Context, projectID, groupID int64, access int) (*ProjectGroupLink, error) {
	now := s.now()
	link := &ProjectGroupLink{ProjectID: projectID, GroupID: groupID, GroupAccess: access, CreatedAt: now, UpdatedAt: now}
	v := &ValidationError{}
	if access < AccessGuest || access > AccessMaster || access%10 != 0 {
		v.Add("group_access", "is not included in the list")
		return nil, v
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var g Namespace
		if err := tx.Where("type = 'Group'").Take(&g, groupID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				v.Add("group", msgBlank)
				return v
			}
			return err
		}
		var n int64
		if err := tx.Model(&ProjectGroupLink{}).Where("project_id = ? AND group_id = ?", projectID, groupID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			v.Add("group_id", "already shared with this group")
			return v
		}
		if err := tx.Create(link).Error; err != nil {
			return err
		}
		members, err := groupMemberIDs(tx, groupID)
		if err != nil {
			return err
		}
		return refreshAuthorizations(tx, members...)
	})
	if err != nil {
		return nil, err
	}
	return link, nil
}

// ExplainListProjects returns the SQL of a user's unfiltered project page
// (the range of project_authorizations it reads) and the database's plan
// for it, for the benchmark that shows it never scans all projects.
func (s *Store) ExplainListProjects(ctx context.Context, userID int64, pg Page) (sql, plan string, err error) {
	q := s.read(ctx).Session(&gorm.Session{DryRun: true})
	stmt := q.Table("project_authorizations").Select("project_id").Where("user_id = ?", userID).
		Order("project_id DESC").Offset(pg.Offset).Limit(pg.Limit).Find(&[]int64{}).Statement
	sql, vars := stmt.SQL.String(), stmt.Vars
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == "postgres" {
		prefix = "EXPLAIN "
	}
	rows, err := s.read(ctx).Raw(prefix+sql, vars...).Rows()
	if err != nil {
		return "", "", err
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
			return "", "", err
		}
		fmt.Fprintln(&b, vals[len(vals)-1])
	}
	return sql, b.String(), rows.Err()
}

// projectsByAuthorization pages through a user's projects in id order
// straight off project_authorizations' primary key, then loads the page.
func (s *Store) projectsByAuthorization(ctx context.Context, userID int64, desc bool, pg Page, total int64) ([]Project, int64, error) {
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	q := s.read(ctx).Table("project_authorizations").Where("user_id = ?", userID).Order("project_id " + dir).Offset(pg.Offset)
	if pg.Limit > 0 {
		q = q.Limit(pg.Limit)
	}
	var ids []int64
	if err := q.Pluck("project_id", &ids).Error; err != nil {
		return nil, 0, err
	}
	projects, err := s.projectsByID(ctx, ids)
	return projects, total, err
}

// likeToGlob turns a LIKE pattern into a GLOB one: % and _ stay wildcards,
// GLOB's own special characters match themselves.
func likeToGlob(like string) string {
	var b strings.Builder
	for _, r := range like {
		switch r {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkText adds a required text attribute's errors, as the models checked
// them in order: presence, length (255), format.
func checkText(v *ValidationError, field, value string, wellFormed bool, formatMsg string) {
	switch {
	case value == "":
		v.Add(field, msgBlank)
	case len(value) > 255:
		v.Add(field, msgTooLong(255))
	case !wellFormed:
		v.Add(field, formatMsg)
	}
}

// checkPath is checkText for a path, which also may not be a reserved name.
func checkPath(v *ValidationError, path string, wellFormed bool, formatMsg string) {
	checkText(v, "path", path, wellFormed, formatMsg)
	if len(v.Fields["path"]) == 0 && reservedPaths[strings.ToLower(path)] {
		v.Add("path", "is reserved")
	}
}

func checkVisibility(v *ValidationError, level int) {
	if level != VisibilityPrivate && level != VisibilityInternal && level != VisibilityPublic {
		v.Add("visibility_level", "is not included in the list")
	}
}
