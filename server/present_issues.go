package server

// The issue tracker's entities of lib/api/entities.rb: Milestone, Issue
// and Label (ProjectEntity's children), and the raw rows DELETE answers.

import (
	"context"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func presentMilestone(m *persistence.Milestone) v3api.Milestone {
	return v3api.Milestone{ID: int(m.ID), Iid: int(m.IID), ProjectID: int(m.ProjectID), Title: m.Title,
		Description: m.Description, State: v3api.MilestoneState(m.State),
		CreatedAt: apitime.From(m.CreatedAt), UpdatedAt: apitime.From(m.UpdatedAt), DueDate: m.DueDate}
}

func (s *Server) presentIssue(is *persistence.Issue, subscribed bool) v3api.Issue {
	out := v3api.Issue{ID: int(is.ID), Iid: int(is.IID), ProjectID: int(is.ProjectID), Title: is.Title,
		Description: is.Description, State: v3api.IssueState(is.State),
		CreatedAt: apitime.From(is.CreatedAt), UpdatedAt: apitime.From(is.UpdatedAt),
		Labels: is.Labels, Subscribed: subscribed}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	if is.Milestone != nil {
		m := presentMilestone(is.Milestone)
		out.Milestone = &m
	}
	if is.Assignee != nil {
		a := s.presentUserBasic(is.Assignee)
		out.Assignee = &a
	}
	if is.Author != nil {
		out.Author = s.presentUserBasic(is.Author)
	} else {
		// The author's account is gone: 8.7 showed GitLab's ghost.
		out.Author = v3api.UserBasic{Name: "Ghost User", Username: "ghost", State: v3api.UserBasicStateBlocked}
	}
	return out
}

// presentIssues builds a page of issues with subscribed as the current
// user sees it.
func (s *Server) presentIssues(ctx context.Context, issues []persistence.Issue) ([]v3api.Issue, error) {
	subs, err := s.store.Subscribed(ctx, currentUser(ctx).ID, issues)
	if err != nil {
		return nil, err
	}
	out := make([]v3api.Issue, len(issues))
	for i := range issues {
		out[i] = s.presentIssue(&issues[i], subs[issues[i].ID])
	}
	return out, nil
}

// presentOneIssue is presentIssues for one issue.
func (s *Server) presentOneIssue(ctx context.Context, is *persistence.Issue) (v3api.Issue, error) {
	list, err := s.presentIssues(ctx, []persistence.Issue{*is})
	if err != nil {
		return v3api.Issue{}, err
	}
	return list[0], nil
}

func presentDeletedIssue(is *persistence.Issue) v3api.DeletedIssue {
	return v3api.DeletedIssue{ID: int(is.ID), Title: is.Title, AssigneeID: intPtr(is.AssigneeID), AuthorID: int(is.AuthorID),
		ProjectID: int(is.ProjectID), CreatedAt: apitime.From(is.CreatedAt), UpdatedAt: apitime.From(is.UpdatedAt), Position: is.Position,
		BranchName: is.BranchName, Description: is.Description, MilestoneID: intPtr(is.MilestoneID),
		State: is.State, Iid: int(is.IID), UpdatedByID: intPtr(is.UpdatedByID), MovedToID: intPtr(is.MovedToID),
		Confidential: is.Confidential}
}

func intPtr(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func presentLabel(l *persistence.LabelWithCounts) v3api.Label {
	return v3api.Label{Name: l.Title, Color: l.Color, Description: l.Description,
		OpenIssuesCount: int(l.OpenIssues), ClosedIssuesCount: int(l.ClosedIssues), OpenMergeRequestsCount: int(l.OpenMergeRequests)}
}

func presentDeletedLabel(l *persistence.Label) v3api.DeletedLabel {
	return v3api.DeletedLabel{ID: int(l.ID), Title: l.Title, Color: l.Color, ProjectID: int(l.ProjectID),
		CreatedAt: apitime.From(l.CreatedAt), UpdatedAt: apitime.From(l.UpdatedAt), Template: l.Template, Description: l.Description}
}
