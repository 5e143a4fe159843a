package server

import (
	"strings"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

// TestIssueSystemNotes checks the wording of SystemNoteService at 8.7 for
// each kind of change, in the order the services wrote the notes.
func TestIssueSystemNotes(t *testing.T) {
	owner := int64(1)
	s := &Server{cfg: Config{ExternalURL: "http://gitlab.example.com"}}
	p := &persistence.Project{Path: "proj", Namespace: persistence.Namespace{Path: "grp", OwnerID: &owner}}
	old := "Old [title]"
	rows := []struct {
		name string
		ch   persistence.IssueChanges
		want []string
	}{
		{"closed", persistence.IssueChanges{State: "closed"}, []string{"Status changed to closed"}},
		{"reopened", persistence.IssueChanges{State: "reopened"}, []string{"Status changed to reopened"}},
		{"title", persistence.IssueChanges{OldTitle: &old}, []string{"Title changed from **Old [title]** to **New**"}},
		{"one label added", persistence.IssueChanges{AddedLabels: []persistence.Label{{ID: 3}}}, []string{"Added ~3 label"}},
		{"labels added and removed", persistence.IssueChanges{AddedLabels: []persistence.Label{{ID: 3}, {ID: 4}}, RemovedLabels: []persistence.Label{{ID: 1}}},
			[]string{"Added ~3 ~4 and removed ~1 labels"}},
		{"labels removed", persistence.IssueChanges{RemovedLabels: []persistence.Label{{ID: 1}, {ID: 2}}}, []string{"Removed ~1 ~2 labels"}},
		{"milestone", persistence.IssueChanges{MilestoneChanged: true, Milestone: &persistence.Milestone{IID: 2, Title: "v1]"}},
			[]string{`Milestone changed to [v1\]](http://gitlab.example.com/grp/proj/milestones/2)`}},
		{"milestone removed", persistence.IssueChanges{MilestoneChanged: true}, []string{"Milestone removed"}},
		{"assignee", persistence.IssueChanges{AssigneeChanged: true, Assignee: &persistence.User{Username: "jane"}}, []string{"Reassigned to @jane"}},
		{"assignee removed", persistence.IssueChanges{AssigneeChanged: true}, []string{"Assignee removed"}},
		{"everything, in 8.7's order", persistence.IssueChanges{State: "closed", OldTitle: &old, AssigneeChanged: true,
			MilestoneChanged: true, RemovedLabels: []persistence.Label{{ID: 9}}},
			[]string{"Status changed to closed", "Title changed from **Old [title]** to **New**", "Removed ~9 label", "Milestone removed", "Assignee removed"}},
		{"nothing", persistence.IssueChanges{Updated: true}, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := s.issueNotes(p)(&persistence.Issue{Title: "New"}, &r.ch)
			if strings.Join(got, "|") != strings.Join(r.want, "|") {
				t.Errorf("notes = %q, want %q", got, r.want)
			}
		})
	}
}

func TestSplitLabels(t *testing.T) {
	for in, want := range map[string]string{"a,b": "a|b", "a,,b": "a||b", "a,b,,": "a|b", ",a": "|a", "": ""} {
		if got := strings.Join(splitLabels(in), "|"); got != want {
			t.Errorf("splitLabels(%q) = %q, want %q", in, got, want)
		}
	}
}
