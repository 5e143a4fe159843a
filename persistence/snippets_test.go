package persistence_test

import (
	"context"
	"errors"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

func init() {
	storeTests = append(storeTests, struct {
		name string
		fn   func(t *testing.T, s *persistence.Store)
	}{"SnippetsAndNotes", testSnippetsAndNotes})
}

func testSnippetsAndNotes(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	p := newProject(t, s, u, userNamespace(t, s, u), "snipped")

	t.Run("validations", func(t *testing.T) {
		rows := []struct {
			name  string
			sn    persistence.Snippet
			field string
		}{
			{"blank title", persistence.Snippet{Title: " ", FileName: "a.rb", Content: "x"}, "title"},
			{"bad file name", persistence.Snippet{Title: "t", FileName: "a b.rb", Content: "x"}, "file_name"},
			{"blank content", persistence.Snippet{Title: "t", FileName: "a.rb", Content: ""}, "content"},
			{"bad level", persistence.Snippet{Title: "t", FileName: "a.rb", Content: "x", VisibilityLevel: 5}, "visibility_level"},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				sn := row.sn
				sn.AuthorID, sn.ProjectID = u.ID, &p.ID
				var v *persistence.ValidationError
				if err := s.CreateSnippet(ctx, &sn); !errors.As(err, &v) || len(v.Fields[row.field]) == 0 {
					t.Errorf("CreateSnippet = %v, want a validation error on %s", err, row.field)
				}
			})
		}
	})

	mk := func(level int) *persistence.Snippet {
		sn := &persistence.Snippet{Title: "t", FileName: "a.rb", Content: "puts 1", VisibilityLevel: level, AuthorID: u.ID, ProjectID: &p.ID}
		if err := s.CreateSnippet(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn
	}
	private, internal, public := mk(persistence.VisibilityPrivate), mk(persistence.VisibilityInternal), mk(persistence.VisibilityPublic)
	all := persistence.SnippetScope{All: true}
	outsider := persistence.SnippetScope{Levels: []int{persistence.VisibilityInternal, persistence.VisibilityPublic}}

	list, total, err := s.ListProjectSnippets(ctx, p.ID, all, persistence.Page{Limit: 20})
	if err != nil || total != 3 || len(list) != 3 || list[0].ID != public.ID || list[0].Author == nil {
		t.Errorf("ListProjectSnippets(all) = %d items, total %d, %v; want 3, newest first, with authors", len(list), total, err)
	}
	list, total, err = s.ListProjectSnippets(ctx, p.ID, outsider, persistence.Page{Limit: 20})
	if err != nil || total != 2 || len(list) != 2 {
		t.Errorf("ListProjectSnippets(outsider) = %d items, total %d, %v; want 2", len(list), total, err)
	}
	if _, err := s.GetProjectSnippet(ctx, p.ID, private.ID, outsider); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("a private snippet for an outsider = %v, want ErrNotFound", err)
	}
	if got, err := s.GetProjectSnippet(ctx, p.ID, internal.ID, outsider); err != nil || got.Content != "puts 1" {
		t.Errorf("an internal snippet for an outsider = %+v, %v", got, err)
	}

	title := "renamed"
	before := public.UpdatedAt
	if err := s.UpdateSnippet(ctx, public, persistence.SnippetChanges{}); err != nil || public.UpdatedAt != before {
		t.Errorf("an empty update = %v, updated_at %v -> %v; want no change", err, before, public.UpdatedAt)
	}
	bad := 7
	var v *persistence.ValidationError
	if err := s.UpdateSnippet(ctx, public, persistence.SnippetChanges{Title: &title, VisibilityLevel: &bad}); !errors.As(err, &v) || public.Title != "t" {
		t.Errorf("an invalid update = %v, title %q; want a validation error and nothing changed", err, public.Title)
	}
	if err := s.UpdateSnippet(ctx, public, persistence.SnippetChanges{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetProjectSnippet(ctx, p.ID, public.ID, all); got == nil || got.Title != "renamed" {
		t.Errorf("after the update: %+v", got)
	}

	// A comment: the note, its event, in one go.
	n := &persistence.Note{ProjectID: &p.ID, AuthorID: &u.ID, NoteableType: persistence.NoteableSnippet, NoteableID: &public.ID, Note: "nice"}
	if err := s.Comment(ctx, n); err != nil {
		t.Fatal(err)
	}
	if n.ID == 0 || n.Author == nil || n.Author.ID != u.ID {
		t.Errorf("comment = %+v, want an id and its author", n)
	}
	events, _, err := s.ListProjectEvents(ctx, p.ID, persistence.Page{Limit: 20})
	if err != nil || len(events) == 0 || events[0].Action != persistence.EventCommented || events[0].TargetID == nil || *events[0].TargetID != n.ID {
		t.Errorf("newest event = %+v, %v; want commented on the note", events, err)
	}
	if got, err := s.GetProjectNote(ctx, p.ID, n.ID); err != nil || got.Note != "nice" {
		t.Errorf("GetProjectNote = %+v, %v", got, err)
	}

	// Deleting the snippet takes its notes.
	if err := s.DeleteSnippet(ctx, public.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProjectNote(ctx, p.ID, n.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("the deleted snippet's note = %v, want ErrNotFound", err)
	}
	if _, err := s.GetProjectSnippet(ctx, p.ID, public.ID, all); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("the deleted snippet = %v, want ErrNotFound", err)
	}

	// Commit comments are listed per project and commit, oldest first.
	sha := "0123456789012345678901234567890123456789"
	for _, body := range []string{"first", "second"} {
		c := &persistence.Note{ProjectID: &p.ID, AuthorID: &u.ID, NoteableType: persistence.NoteableCommit, CommitID: &sha, Note: body}
		if err := s.Comment(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	notes, total, err := s.ListCommitNotes(ctx, p.ID, sha, persistence.Page{Limit: 1, Offset: 1})
	if err != nil || total != 2 || len(notes) != 1 || notes[0].Note != "second" {
		t.Errorf("ListCommitNotes page 2 of 1 = %+v, total %d, %v", notes, total, err)
	}
}
