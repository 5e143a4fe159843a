package persistence

// The issue tracker's tables, as GitLab 8.7 kept them: issues with a global
// id and a per-project iid, milestones (also with an iid), labels and their
// links to what they label, and subscriptions to issuables.

func init() {
	registerMigrations(
		migration{"20261122000041_issues", []string{
			`CREATE TABLE milestones (
				id {{pk}},
				project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
				iid INTEGER NOT NULL,
				title VARCHAR(255) NOT NULL,
				description {{text}},
				due_date VARCHAR(10),
				state VARCHAR(16) NOT NULL DEFAULT 'active',
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX index_milestones_on_project_id_and_iid ON milestones (project_id, iid)`,
			`CREATE INDEX index_milestones_on_project_id_and_title ON milestones (project_id, title)`,
			`CREATE TABLE issues (
				id {{pk}},
				project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
				iid INTEGER NOT NULL,
				title VARCHAR(255) NOT NULL,
				description {{text}},
				author_id INTEGER NOT NULL,
				assignee_id INTEGER,
				milestone_id INTEGER REFERENCES milestones (id) ON DELETE SET NULL,
				state VARCHAR(16) NOT NULL DEFAULT 'opened',
				position INTEGER NOT NULL DEFAULT 0,
				branch_name VARCHAR(255),
				confidential BOOLEAN NOT NULL DEFAULT FALSE,
				moved_to_id INTEGER,
				updated_by_id INTEGER,
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			// iids are unique per project; the list's filters and order
			// (state, then newest first) are served by one index.
			`CREATE UNIQUE INDEX index_issues_on_project_id_and_iid ON issues (project_id, iid)`,
			`CREATE INDEX index_issues_on_project_id_state_created_at ON issues (project_id, state, created_at, id)`,
			`CREATE INDEX index_issues_on_author_id ON issues (author_id, id)`,
			`CREATE INDEX index_issues_on_assignee_id ON issues (assignee_id)`,
			`CREATE INDEX index_issues_on_milestone_id ON issues (milestone_id, id)`,
		}},
		migration{"20261122000042_labels", []string{
			`CREATE TABLE labels (
				id {{pk}},
				project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
				title VARCHAR(255) NOT NULL,
				color VARCHAR(16) NOT NULL,
				description {{text}},
				template BOOLEAN NOT NULL DEFAULT FALSE,
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX index_labels_on_project_id_and_title ON labels (project_id, title)`,
			`CREATE TABLE label_links (
				id {{pk}},
				label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
				target_type VARCHAR(64) NOT NULL,
				target_id INTEGER NOT NULL,
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			// One link per label and target; the label filter walks a
			// label's targets, the presenters a target's labels.
			`CREATE UNIQUE INDEX index_label_links_on_label_and_target ON label_links (label_id, target_type, target_id)`,
			`CREATE INDEX index_label_links_on_target ON label_links (target_type, target_id, label_id)`,
		}},
		migration{"20261122000043_subscriptions", []string{
			`CREATE TABLE subscriptions (
				id {{pk}},
				user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				subscribable_type VARCHAR(64) NOT NULL,
				subscribable_id INTEGER NOT NULL,
				subscribed BOOLEAN NOT NULL,
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX index_subscriptions_on_subscribable_and_user ON subscriptions (subscribable_type, subscribable_id, user_id)`,
		}},
		// A link carries its issue's state (kept in step in the
		// transactions that change either), so that counting a project's
		// issues by labels and state reads one index and no issue rows.
		migration{"20261122000044_label_links_target_state", []string{
			`ALTER TABLE label_links ADD COLUMN target_state VARCHAR(16)`,
			`UPDATE label_links SET target_state = (SELECT state FROM issues WHERE issues.id = label_links.target_id) WHERE target_type = 'Issue'`,
			`CREATE INDEX index_label_links_on_label_and_state ON label_links (label_id, target_type, target_state, target_id)`,
		}},
	)
}
