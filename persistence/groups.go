package persistence

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// GroupType is namespaces.type of a group.
const GroupType = "Group"

// IsGroup reports whether the namespace is a group.
func (n *Namespace) IsGroup() bool { return n.Type != nil && *n.Type == GroupType }

// Gitlab::Regex.namespace_name_regex.
var namespaceNameRE = regexp.MustCompile(`^[\p{L}\p{N}\p{Pd}_. ]*$`)

const namespaceNameMessage = "can contain only letters, digits, '_', '.', dash and space."

// GroupParams are a group's attributes; nil fields stay.
type GroupParams struct {
	Name, Path, Description *string
	VisibilityLevel         *int
}

func (p GroupParams) apply(g *Namespace) {
	if p.Name != nil {
		g.Name = strings.TrimSpace(*p.Name)
	}
	if p.Path != nil {
		g.Path = strings.TrimSpace(*p.Path)
	}
	if p.Description != nil {
		g.Description = *p.Description
	}
	if p.VisibilityLevel != nil {
		g.VisibilityLevel = *p.VisibilityLevel
	}
}

func validateGroup(tx *gorm.DB, g *Namespace) (*ValidationError, error) {
	v := &ValidationError{}
	checkText(v, "name", g.Name, namespaceNameRE.MatchString(g.Name), namespaceNameMessage)
	checkPath(v, g.Path, namespaceRE.MatchString(g.Path) && !strings.HasSuffix(g.Path, "."), namespaceRegexMessage)
	checkVisibility(v, g.VisibilityLevel)
	var n int64
	if g.Name != "" {
		if err := tx.Model(&Namespace{}).Where("type = ? AND lower(name) = lower(?) AND id <> ?", GroupType, g.Name, g.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			v.Add("name", msgTaken)
		}
	}
	if g.Path != "" {
		// Paths are unique across users and groups: both are namespaces.
		if err := tx.Model(&Namespace{}).Where("lower(path) = lower(?) AND id <> ?", g.Path, g.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			if err := tx.Model(&User{}).Where("lower(username) = lower(?)", g.Path).Count(&n).Error; err != nil {
				return nil, err
			}
		}
		if n > 0 {
			v.Add("path", msgTaken)
		}
	}
	// A group cannot be more private than its projects.
	if g.ID != 0 {
		if err := tx.Model(&Project{}).Where("namespace_id = ? AND visibility_level > ?", g.ID, g.VisibilityLevel).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			v.Add("visibility_level", visibilityName(g.VisibilityLevel)+" is not allowed since there are projects with higher visibility.")
		}
	}
	return v, nil
}

// CreateGroup creates a group with its creator as owner, in one transaction.
func (s *Store) CreateGroup(ctx context.Context, ownerID int64, p GroupParams) (*Namespace, error) {
	now := s.now()
	typ := GroupType
	g := &Namespace{Type: &typ, OwnerID: &ownerID, VisibilityLevel: VisibilityPrivate, CreatedAt: now, UpdatedAt: now}
	p.apply(g)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		v, err := validateGroup(tx, g)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := tx.Create(g).Error; err != nil {
			return err
		}
		return tx.Create(&Member{SourceType: SourceNamespace, SourceID: g.ID, UserID: ownerID, AccessLevel: AccessOwner,
			NotificationLevel: NotificationGlobal, CreatedByID: &ownerID, CreatedAt: now, UpdatedAt: now}).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v := &ValidationError{}
		v.Add("path", msgTaken)
		return nil, v
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// FindGroup finds a group by path or numeric id (8.7 tried the path first).
func (s *Store) FindGroup(ctx context.Context, ref string) (*Namespace, error) {
	var g Namespace
	err := s.read(ctx).Where("type = ? AND lower(path) = lower(?)", GroupType, ref).Take(&g).Error
	if err == nil {
		return &g, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	id, perr := strconv.ParseInt(ref, 10, 64)
	if perr != nil {
		return nil, ErrNotFound
	}
	return s.GetGroup(ctx, id)
}

// GetGroup loads a group by id.
func (s *Store) GetGroup(ctx context.Context, id int64) (*Namespace, error) {
	var g Namespace
	if err := s.read(ctx).Where("type = ?", GroupType).Take(&g, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &g, nil
}

// UpdateGroup edits a group.
func (s *Store) UpdateGroup(ctx context.Context, id int64, p GroupParams) (*Namespace, error) {
	var g Namespace
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("type = ?", GroupType).Take(&g, id).Error; err != nil {
			return notFound(err)
		}
		p.apply(&g)
		v, err := validateGroup(tx, &g)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		g.UpdatedAt = s.now()
		return tx.Select("*").Save(&g).Error
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// DeleteGroup removes a group, its projects and memberships in one
// transaction, and returns the group and the removed projects.
func (s *Store) DeleteGroup(ctx context.Context, id int64) (*Namespace, []Project, error) {
	var g Namespace
	var projects []Project
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("type = ?", GroupType).Take(&g, id).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Where("namespace_id = ?", id).Find(&projects).Error; err != nil {
			return err
		}
		members, err := groupMemberIDs(tx, id)
		if err != nil {
			return err
		}
		ids := make([]int64, len(projects))
		for i, p := range projects {
			ids[i] = p.ID
			projects[i].Namespace = g
		}
		if err := deleteProjects(tx, ids); err != nil {
			return err
		}
		if err := tx.Where("group_id = ?", id).Delete(&ProjectGroupLink{}).Error; err != nil {
			return err
		}
		if err := tx.Where("source_type = ? AND source_id = ?", SourceNamespace, id).Delete(&Member{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Namespace{}, id).Error; err != nil {
			return err
		}
		// Its members lose the projects shared with the group, too.
		return refreshAuthorizations(tx, members...)
	})
	if err != nil {
		return nil, nil, err
	}
	return &g, projects, nil
}

// GroupFilter selects groups for a list.
type GroupFilter struct {
	MemberID *int64 // the groups this user is a member of; nil for all
	Search   string
}

// ListGroups returns one page of groups, oldest first.
func (s *Store) ListGroups(ctx context.Context, f GroupFilter, pg Page) ([]Namespace, int64, error) {
	q := s.read(ctx).Model(&Namespace{}).Where("type = ?", GroupType)
	if f.MemberID != nil {
		q = q.Where("id IN (SELECT source_id FROM members WHERE user_id = ? AND source_type = ?)", *f.MemberID, SourceNamespace)
	}
	if f.Search != "" {
		like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		q = q.Where(`(lower(name) LIKE ? ESCAPE '\' OR lower(path) LIKE ? ESCAPE '\')`, like, like)
	}
	return listPage[Namespace](q, pg)
}

// GroupHasVisibleProjects reports whether a group has a project the user
// may see (8.7 let such a user read the group).
func (s *Store) GroupHasVisibleProjects(ctx context.Context, groupID int64, userID int64, external bool) (bool, error) {
	levels := []int{VisibilityPublic}
	if !external {
		levels = append(levels, VisibilityInternal)
	}
	var n int64
	err := s.read(ctx).Model(&Project{}).
		Where("namespace_id = ?", groupID).
		Where(s.read(ctx).Where("visibility_level IN ?", levels).
			Or("id IN ("+authorizedProjectIDs+")", map[string]any{"user": userID})).
		Limit(1).Count(&n).Error
	return n > 0, err
}

// TransferProject moves a project into a group.
func (s *Store) TransferProject(ctx context.Context, projectID, groupID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var p Project
		if err := tx.Take(&p, projectID).Error; err != nil {
			return notFound(err)
		}
		if p.NamespaceID == groupID {
			return &ErrTransfer{"is invalid"}
		}
		var clash int64
		if err := tx.Model(&Project{}).Where("namespace_id = ? AND lower(path) = lower(?)", groupID, p.Path).Count(&clash).Error; err != nil {
			return err
		}
		if clash > 0 {
			return &ErrTransfer{"Project with same path in target namespace already exists"}
		}
		before, err := projectUsers(tx, p.ID, p.NamespaceID)
		if err != nil {
			return err
		}
		p.NamespaceID = groupID
		v, err := validateProject(tx, &p)
		if err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := tx.Model(&Project{}).Where("id = ?", projectID).
			Updates(map[string]any{"namespace_id": groupID, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		after, err := namespaceUsers(tx, groupID)
		if err != nil {
			return err
		}
		return refreshAuthorizations(tx, append(before, after...)...)
	})
}

// visibilityName is Gitlab::VisibilityLevel.level_name, lower-cased.
func visibilityName(level int) string {
	switch level {
	case VisibilityPublic:
		return "public"
	case VisibilityInternal:
		return "internal"
	}
	return "private"
}

// ErrTransfer is a transfer TransferService refused; its text is 8.7's.
type ErrTransfer struct{ Message string }

func (e *ErrTransfer) Error() string { return e.Message }
