package persistence

// Project snippets (GitLab 8.7's snippets table, type 'ProjectSnippet'):
// a titled file of code in a project, with its own visibility level.

func init() {
	registerMigrations(migration{"20261122000045_snippets", []string{
		`CREATE TABLE snippets (
			id {{pk}},
			title VARCHAR(255) NOT NULL,
			content {{text}} NOT NULL,
			author_id INTEGER NOT NULL,
			project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
			file_name VARCHAR(255) NOT NULL,
			visibility_level INTEGER NOT NULL DEFAULT 0,
			type VARCHAR(255) NOT NULL DEFAULT 'ProjectSnippet',
			expires_at {{ts}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_snippets_on_project_id ON snippets (project_id, id)`,
	}})
}
