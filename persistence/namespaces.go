package persistence

import (
	"context"
	"strings"
	"time"
)

// Namespace is a user's personal namespace (Type nil) or a group ("Group").
type Namespace struct {
	ID                 int64 `gorm:"primaryKey"`
	Name               string
	Path               string
	OwnerID            *int64
	Type               *string
	Description        string
	VisibilityLevel    int
	ShareWithGroupLock bool
	Avatar             *string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Kind is "user" or "group", as the Namespace entity names it.
func (n *Namespace) Kind() string {
	if n.Type != nil && *n.Type == "Group" {
		return "group"
	}
	return "user"
}

// NamespaceFilter selects namespaces for a list.
type NamespaceFilter struct {
	// UserID limits the list to this user's own namespace and the groups
	// they are a member of; nil lists all (admins).
	UserID *int64
	// Search matches name or path, case-insensitive.
	Search string
}

// ListNamespaces returns one page of namespaces, oldest first, and the total.
func (s *Store) ListNamespaces(ctx context.Context, f NamespaceFilter, pg Page) ([]Namespace, int64, error) {
	q := s.read(ctx).Model(&Namespace{})
	if f.UserID != nil {
		q = q.Where("(owner_id = ? AND type IS NULL) OR (type = 'Group' AND id IN (SELECT source_id FROM members WHERE user_id = ? AND source_type = 'Namespace'))",
			*f.UserID, *f.UserID)
	}
	if f.Search != "" {
		like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		q = q.Where(`(lower(name) LIKE ? ESCAPE '\' OR lower(path) LIKE ? ESCAPE '\')`, like, like)
	}
	return listPage[Namespace](q, pg)
}
