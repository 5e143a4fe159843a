package persistence

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// MemberWithUser is a membership with its user.
type MemberWithUser struct {
	Member
	User User
}

// ValidAccessLevel reports whether level is one of GitLab's levels
// (owner included).
func ValidAccessLevel(level int) bool {
	switch level {
	case AccessGuest, AccessReporter, AccessDeveloper, AccessMaster, AccessOwner:
		return true
	}
	return false
}

// ListMembers lists the direct members of a project or group, with their
// users, oldest membership first; query matches the username (8.7's
// `username LIKE`).
func (s *Store) ListMembers(ctx context.Context, sourceType string, sourceID int64, query string, pg Page) ([]MemberWithUser, int64, error) {
	q := s.read(ctx).Model(&Member{}).Where("source_type = ? AND source_id = ?", sourceType, sourceID)
	if query != "" {
		like := "%" + escapeLike(strings.ToLower(query)) + "%"
		q = q.Where(`user_id IN (SELECT id FROM users WHERE lower(username) LIKE ? ESCAPE '\')`, like)
	}
	members, total, err := listPage[Member](q, pg)
	if err != nil || len(members) == 0 {
		return []MemberWithUser{}, total, err
	}
	return s.withUsers(ctx, members, total)
}

func (s *Store) withUsers(ctx context.Context, members []Member, total int64) ([]MemberWithUser, int64, error) {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	var users []User
	if err := s.read(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
		return nil, 0, err
	}
	byID := make(map[int64]User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]MemberWithUser, 0, len(members))
	for _, m := range members {
		out = append(out, MemberWithUser{Member: m, User: byID[m.UserID]})
	}
	return out, total, nil
}

// GetMember loads one direct membership with its user.
func (s *Store) GetMember(ctx context.Context, sourceType string, sourceID, userID int64) (*MemberWithUser, error) {
	var m Member
	err := s.read(ctx).Where("source_type = ? AND source_id = ? AND user_id = ?", sourceType, sourceID, userID).Take(&m).Error
	if err != nil {
		return nil, notFound(err)
	}
	list, _, err := s.withUsers(ctx, []Member{m}, 1)
	if err != nil {
		return nil, err
	}
	return &list[0], nil
}

// ErrMemberExists is adding a member that already is one.
var ErrMemberExists = errors.New("persistence: already a member")

// AddMember adds a user to a project or group. For a project it records
// the "joined" event in the same transaction.
func (s *Store) AddMember(ctx context.Context, sourceType string, sourceID, userID int64, level int, by int64) (*MemberWithUser, error) {
	now := s.now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Take(&u, userID).Error; err != nil {
			return notFound(err)
		}
		var n int64
		if err := tx.Model(&Member{}).Where("source_type = ? AND source_id = ? AND user_id = ?", sourceType, sourceID, userID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrMemberExists
		}
		if !ValidAccessLevel(level) {
			v := &ValidationError{}
			v.Add("access_level", "is not included in the list")
			return v
		}
		m := Member{SourceType: sourceType, SourceID: sourceID, UserID: userID, AccessLevel: level,
			NotificationLevel: NotificationGlobal, CreatedByID: &by, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		if err := refreshAuthorizations(tx, userID); err != nil {
			return err
		}
		if sourceType == SourceProject {
			return createEvent(tx, &Event{ProjectID: &sourceID, AuthorID: userID, Action: EventJoined, CreatedAt: now, UpdatedAt: now})
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrMemberExists
	}
	if err != nil {
		return nil, err
	}
	return s.GetMember(ctx, sourceType, sourceID, userID)
}

// UpdateMember changes a member's access level.
func (s *Store) UpdateMember(ctx context.Context, sourceType string, sourceID, userID int64, level int) (*MemberWithUser, error) {
	var m Member
	err := s.read(ctx).Where("source_type = ? AND source_id = ? AND user_id = ?", sourceType, sourceID, userID).Take(&m).Error
	if err != nil {
		return nil, notFound(err)
	}
	if !ValidAccessLevel(level) {
		v := &ValidationError{}
		v.Add("access_level", "is not included in the list")
		return nil, v
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Member{}).Where("id = ?", m.ID).
			Updates(map[string]any{"access_level": level, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		return refreshAuthorizations(tx, userID)
	})
	if err != nil {
		return nil, err
	}
	return s.GetMember(ctx, sourceType, sourceID, userID)
}

// RemoveMember removes a membership and returns it; for a project it
// records the "left" event in the same transaction.
func (s *Store) RemoveMember(ctx context.Context, sourceType string, sourceID, userID int64) (*Member, error) {
	var m Member
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("source_type = ? AND source_id = ? AND user_id = ?", sourceType, sourceID, userID).Take(&m).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Delete(&Member{}, m.ID).Error; err != nil {
			return err
		}
		if err := refreshAuthorizations(tx, userID); err != nil {
			return err
		}
		if sourceType == SourceProject {
			now := s.now()
			return createEvent(tx, &Event{ProjectID: &sourceID, AuthorID: userID, Action: EventLeft, CreatedAt: now, UpdatedAt: now})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// GroupAccess is a user's level in a group (0 when not a member).
func (s *Store) GroupAccess(ctx context.Context, userID, groupID int64) (int, error) {
	var levels []int
	err := s.read(ctx).Model(&Member{}).Where("source_type = ? AND source_id = ? AND user_id = ?", SourceNamespace, groupID, userID).
		Pluck("access_level", &levels).Error
	if err != nil || len(levels) == 0 {
		return 0, err
	}
	return levels[0], nil
}

// ListProjectUsers lists the users of a project's team: its direct members
// and, for a group's project, the group's members; search matches name,
// username or email (User.search). Oldest user first.
func (s *Store) ListProjectUsers(ctx context.Context, p *Project, search string, pg Page) ([]User, int64, error) {
	cond := "(source_type = 'Project' AND source_id = ?)"
	args := []any{p.ID}
	if p.Namespace.IsGroup() {
		cond += " OR (source_type = 'Namespace' AND source_id = ?)"
		args = append(args, p.NamespaceID)
	}
	where := "id IN (SELECT user_id FROM members WHERE " + cond + ")"
	if search != "" {
		like := "%" + escapeLike(strings.ToLower(search)) + "%"
		where += ` AND (lower(name) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	var total int64
	if err := s.read(ctx).Model(&User{}).Where(where, args...).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if total == 0 || int64(pg.Offset) >= total {
		return []User{}, total, nil
	}
	q := "SELECT " + userColumns + " FROM users WHERE " + where + " ORDER BY id"
	if pg.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, pg.Limit, pg.Offset)
	}
	users, err := s.queryUsers(ctx, false, q, args...)
	return users, total, err
}
