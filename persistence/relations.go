package persistence

import "context"

// Relations is what the Project entity shows beyond the project row, loaded
// for a whole page of projects in a few queries instead of a few per project.
type Relations struct {
	Owners     map[int64]*User    // namespace owner id → user (personal projects)
	ForkedFrom map[int64]*Project // project id → the project it was forked from
	Forks      map[int64]int64    // project id → number of forks
	// Memberships of the user the page is for (source id, access and
	// notification levels only): project id → project membership,
	// namespace id → group membership.
	ProjectMembers map[int64]*Member
	GroupMembers   map[int64]*Member
	// OpenIssues counts each project's open (opened or reopened) issues.
	OpenIssues map[int64]int64
}

// ProjectRelations loads the relations of projects, as seen by userID (0
// for none).
func (s *Store) ProjectRelations(ctx context.Context, userID int64, projects []Project) (*Relations, error) {
	r := &Relations{Owners: map[int64]*User{}, ForkedFrom: map[int64]*Project{}, Forks: map[int64]int64{},
		ProjectMembers: map[int64]*Member{}, GroupMembers: map[int64]*Member{}, OpenIssues: map[int64]int64{}}
	if len(projects) == 0 {
		return r, nil
	}
	ids := make([]int64, len(projects))
	var ownerIDs, nsIDs []int64
	for i, p := range projects {
		ids[i] = p.ID
		nsIDs = append(nsIDs, p.NamespaceID)
		if p.Personal() && p.Namespace.OwnerID != nil {
			ownerIDs = append(ownerIDs, *p.Namespace.OwnerID)
		}
	}
	db := s.read(ctx)
	if len(ownerIDs) > 0 {
		owners, err := s.queryUsers(ctx, false, "SELECT "+userColumns+" FROM users WHERE id IN ?", ownerIDs)
		if err != nil {
			return nil, err
		}
		for i := range owners {
			r.Owners[owners[i].ID] = &owners[i]
		}
	}
	var links []ForkedProjectLink
	if err := db.Where("forked_to_project_id IN ?", ids).Find(&links).Error; err != nil {
		return nil, err
	}
	if len(links) > 0 {
		fromIDs := make([]int64, len(links))
		for i, l := range links {
			fromIDs[i] = l.ForkedFromProjectID
		}
		var parents []Project
		if err := db.Preload("Namespace").Where("id IN ? AND pending_delete = ?", fromIDs, false).Find(&parents).Error; err != nil {
			return nil, err
		}
		byID := map[int64]*Project{}
		for i := range parents {
			byID[parents[i].ID] = &parents[i]
		}
		for _, l := range links {
			if p := byID[l.ForkedFromProjectID]; p != nil {
				r.ForkedFrom[l.ForkedToProjectID] = p
			}
		}
	}
	var counts []struct {
		ForkedFromProjectID int64
		N                   int64
	}
	if err := db.Model(&ForkedProjectLink{}).Select("forked_from_project_id, count(*) AS n").
		Where("forked_from_project_id IN ?", ids).Group("forked_from_project_id").Scan(&counts).Error; err != nil {
		return nil, err
	}
	for _, c := range counts {
		r.Forks[c.ForkedFromProjectID] = c.N
	}
	open, err := s.OpenIssueCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	r.OpenIssues = open
	if userID != 0 {
		// Two lookups, one per source type, each a range of the
		// (user_id, source_type, source_id) index, reading only what the
		// permissions show.
		for _, src := range []struct {
			typ  string
			ids  []int64
			into map[int64]*Member
		}{{SourceProject, ids, r.ProjectMembers}, {SourceNamespace, nsIDs, r.GroupMembers}} {
			rows, err := db.Raw("SELECT source_id, access_level, notification_level FROM members WHERE user_id = ? AND source_type = ? AND source_id IN ?",
				userID, src.typ, src.ids).Rows()
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				m := &Member{SourceType: src.typ, UserID: userID}
				if err := rows.Scan(&m.SourceID, &m.AccessLevel, &m.NotificationLevel); err != nil {
					rows.Close()
					return nil, err
				}
				src.into[m.SourceID] = m
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}
