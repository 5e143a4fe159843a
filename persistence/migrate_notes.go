package persistence

// The notes table, shared by every noteable (issues, snippets, commits and,
// later, merge requests), as GitLab 8.7 kept it: one row per comment, with
// noteable_type/noteable_id naming what it is on (commit comments name the
// commit by commit_id instead).

func init() {
	registerMigrations(migration{"20261122000040_notes", []string{
		`CREATE TABLE notes (
			id {{pk}},
			project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
			noteable_type VARCHAR(255) NOT NULL,
			noteable_id INTEGER,
			commit_id VARCHAR(40),
			note {{text}} NOT NULL,
			author_id INTEGER,
			system BOOLEAN NOT NULL DEFAULT FALSE,
			attachment VARCHAR(255),
			line_code VARCHAR(255),
			path {{text}},
			line INTEGER,
			line_type VARCHAR(8),
			updated_by_id INTEGER,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_notes_on_noteable ON notes (noteable_type, noteable_id, id)`,
		`CREATE INDEX index_notes_on_project_id_and_commit_id ON notes (project_id, commit_id, id)`,
	}})
}
