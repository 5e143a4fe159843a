package server

// Presenters of project snippets, notes and commit comments (8.7's
// Entities::ProjectSnippet, Entities::Note and Entities::CommitNote).

import (
	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

func (s *Server) authorOf(u *persistence.User) *v3api.UserBasic {
	if u == nil {
		return nil
	}
	b := s.presentUserBasic(u)
	return &b
}

func (s *Server) presentProjectSnippet(sn *persistence.Snippet) v3api.ProjectSnippet {
	return v3api.ProjectSnippet{ID: int(sn.ID), Title: sn.Title, FileName: sn.FileName, Author: s.authorOf(sn.Author),
		ExpiresAt: apitime.FromPtr(sn.ExpiresAt), UpdatedAt: apitime.From(sn.UpdatedAt), CreatedAt: apitime.From(sn.CreatedAt)}
}

// presentDeletedSnippet is the destroyed model as it serialized itself.
func presentDeletedSnippet(sn *persistence.Snippet) v3api.DeletedSnippet {
	var projectID int
	if sn.ProjectID != nil {
		projectID = int(*sn.ProjectID)
	}
	return v3api.DeletedSnippet{ID: int(sn.ID), Title: sn.Title, Content: sn.Content, AuthorID: int(sn.AuthorID),
		ProjectID: projectID, CreatedAt: apitime.From(sn.CreatedAt), UpdatedAt: apitime.From(sn.UpdatedAt),
		FileName: sn.FileName, ExpiresAt: apitime.FromPtr(sn.ExpiresAt), Type: sn.Type, VisibilityLevel: sn.VisibilityLevel}
}

func (s *Server) presentNote(n *persistence.Note) v3api.Note {
	out := v3api.Note{ID: int(n.ID), Body: n.Note, Attachment: n.Attachment, Author: s.authorOf(n.Author),
		CreatedAt: apitime.From(n.CreatedAt), UpdatedAt: apitime.From(n.UpdatedAt), System: n.System,
		NoteableType: n.NoteableType}
	if n.NoteableID != nil {
		id := int(*n.NoteableID)
		out.NoteableID = &id
	}
	return out
}

func (s *Server) presentCommitNote(n *persistence.Note) v3api.CommitNote {
	out := v3api.CommitNote{Note: n.Note, Path: n.Path, LineType: n.LineType, Author: s.authorOf(n.Author),
		CreatedAt: apitime.From(n.CreatedAt)}
	if n.Line != nil {
		l := int(*n.Line)
		out.Line = &l
	}
	return out
}
