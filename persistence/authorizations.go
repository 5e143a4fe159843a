package persistence

import (
	"strings"

	"gorm.io/gorm"
)

// ProjectAuthorization says a user reaches a project, and at which level.
// It is derived data: refreshAuthorizations rebuilds a user's rows from the
// memberships whenever something that grants access changes.
type ProjectAuthorization struct {
	UserID      int64 `gorm:"primaryKey"`
	ProjectID   int64 `gorm:"primaryKey"`
	AccessLevel int
}

// authorizationSources lists (user_id, project_id, level) for every way to
// reach a project: direct membership, membership of the project's group, a
// group the project is shared with (capped at the share's level), and the
// personal namespace's owner. With a condition it is limited to one user
// (the named parameter @user).
func authorizationSources(userCond string) string {
	cond := func(col string) string {
		if userCond == "" {
			return ""
		}
		return " AND " + col + " = @user"
	}
	return strings.Join([]string{
		`SELECT m.user_id AS user_id, m.source_id AS project_id, m.access_level AS level FROM members m WHERE m.source_type = 'Project'` + cond("m.user_id"),
		`SELECT gm.user_id, p.id, gm.access_level FROM members gm JOIN projects p ON p.namespace_id = gm.source_id WHERE gm.source_type = 'Namespace'` + cond("gm.user_id"),
		`SELECT lm.user_id, l.project_id, CASE WHEN lm.access_level < l.group_access THEN lm.access_level ELSE l.group_access END
			FROM members lm JOIN project_group_links l ON l.group_id = lm.source_id WHERE lm.source_type = 'Namespace'` + cond("lm.user_id"),
		`SELECT n.owner_id, p.id, 50 FROM namespaces n JOIN projects p ON p.namespace_id = n.id WHERE n.type IS NULL AND n.owner_id IS NOT NULL` + cond("n.owner_id"),
	}, " UNION ALL ")
}

var refreshOneUser = `INSERT INTO project_authorizations (user_id, project_id, access_level)
	SELECT @user, project_id, max(level) FROM (` + authorizationSources("user") + `) x GROUP BY project_id`

// refreshAuthorizations rebuilds the authorizations of users, inside the
// transaction that changed what grants them.
func refreshAuthorizations(tx *gorm.DB, userIDs ...int64) error {
	seen := map[int64]bool{}
	for _, id := range userIDs {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		if err := tx.Exec(`DELETE FROM project_authorizations WHERE user_id = ?`, id).Error; err != nil {
			return err
		}
		if err := tx.Exec(refreshOneUser, map[string]any{"user": id}).Error; err != nil {
			return err
		}
	}
	return nil
}

// groupMemberIDs lists the members of a group.
func groupMemberIDs(tx *gorm.DB, groupID int64) ([]int64, error) {
	var ids []int64
	err := tx.Model(&Member{}).Where("source_type = ? AND source_id = ?", SourceNamespace, groupID).Pluck("user_id", &ids).Error
	return ids, err
}

// namespaceUsers is who reaches a namespace's projects through it: a
// group's members, or a personal namespace's owner.
func namespaceUsers(tx *gorm.DB, nsID int64) ([]int64, error) {
	var ns Namespace
	if err := tx.Take(&ns, nsID).Error; err != nil {
		return nil, err
	}
	if !ns.IsGroup() {
		if ns.OwnerID == nil {
			return nil, nil
		}
		return []int64{*ns.OwnerID}, nil
	}
	return groupMemberIDs(tx, nsID)
}

// projectUsers is everyone whose access to a project may change when the
// project moves: its direct members, its namespace's users, and the
// members of the groups it is shared with.
func projectUsers(tx *gorm.DB, projectID, nsID int64) ([]int64, error) {
	var ids []int64
	if err := tx.Model(&Member{}).Where("source_type = ? AND source_id = ?", SourceProject, projectID).Pluck("user_id", &ids).Error; err != nil {
		return nil, err
	}
	ns, err := namespaceUsers(tx, nsID)
	if err != nil {
		return nil, err
	}
	var shared []int64
	if err := tx.Raw(`SELECT m.user_id FROM members m JOIN project_group_links l ON l.group_id = m.source_id
		WHERE m.source_type = 'Namespace' AND l.project_id = ?`, projectID).Scan(&shared).Error; err != nil {
		return nil, err
	}
	return append(append(ids, ns...), shared...), nil
}
