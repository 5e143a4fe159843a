package persistence

// The CI schema (issue 5), after GitLab 8.7's: pipelines (8.7's ci_commits:
// one per project, sha and ref), builds as rows of commit_statuses with
// type 'Ci::Build' next to the 'GenericCommitStatus' rows that external
// systems report (8.7 kept both in ci_builds the same way, so a commit's
// statuses list shows both), runners and the projects they serve,
// variables, triggers and trigger requests, and build traces.

func init() {
	registerMigrations(migration{"20261122000050_ci", []string{
		`ALTER TABLE projects ADD COLUMN build_timeout INTEGER NOT NULL DEFAULT 3600`,
		`ALTER TABLE projects ADD COLUMN build_allow_git_fetch BOOLEAN NOT NULL DEFAULT TRUE`,
		`ALTER TABLE projects ADD COLUMN build_coverage_regex VARCHAR(255)`,
		`CREATE TABLE ci_pipelines (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			ref VARCHAR(255) NOT NULL,
			sha VARCHAR(40) NOT NULL,
			before_sha VARCHAR(40),
			tag BOOLEAN NOT NULL DEFAULT FALSE,
			yaml_errors {{text}},
			status VARCHAR(32),
			user_id INTEGER,
			started_at {{ts}},
			finished_at {{ts}},
			duration INTEGER,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_ci_pipelines_on_project_sha_ref ON ci_pipelines (project_id, sha, ref)`,
		`CREATE INDEX index_ci_pipelines_on_project_id_and_id ON ci_pipelines (project_id, id)`,

		`ALTER TABLE commit_statuses ADD COLUMN type VARCHAR(32) NOT NULL DEFAULT 'GenericCommitStatus'`,
		`ALTER TABLE commit_statuses ADD COLUMN pipeline_id INTEGER REFERENCES ci_pipelines (id) ON DELETE CASCADE`,
		`ALTER TABLE commit_statuses ADD COLUMN stage_idx INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE commit_statuses ADD COLUMN run_when VARCHAR(32) NOT NULL DEFAULT 'on_success'`,
		`ALTER TABLE commit_statuses ADD COLUMN tag BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE commit_statuses ADD COLUMN tag_list {{text}} NOT NULL DEFAULT ''`,
		`ALTER TABLE commit_statuses ADD COLUMN commands {{text}}`,
		`ALTER TABLE commit_statuses ADD COLUMN options {{text}}`,
		`ALTER TABLE commit_statuses ADD COLUMN yaml_variables {{text}}`,
		`ALTER TABLE commit_statuses ADD COLUMN token VARCHAR(255)`,
		`ALTER TABLE commit_statuses ADD COLUMN runner_id INTEGER`,
		`ALTER TABLE commit_statuses ADD COLUMN trigger_request_id INTEGER`,
		`ALTER TABLE commit_statuses ADD COLUMN coverage REAL`,
		`ALTER TABLE commit_statuses ADD COLUMN artifacts_file VARCHAR(255)`,
		`ALTER TABLE commit_statuses ADD COLUMN artifacts_metadata VARCHAR(255)`,
		`ALTER TABLE commit_statuses ADD COLUMN artifacts_size INTEGER`,
		`ALTER TABLE commit_statuses ADD COLUMN erased_at {{ts}}`,
		`ALTER TABLE commit_statuses ADD COLUMN erased_by_id INTEGER`,
		`ALTER TABLE commit_statuses ADD COLUMN lock_version INTEGER NOT NULL DEFAULT 0`,
		`CREATE UNIQUE INDEX index_commit_statuses_on_token ON commit_statuses (token)`,
		`CREATE INDEX index_commit_statuses_on_pipeline_id ON commit_statuses (pipeline_id, stage_idx)`,
		// The runner queue: pending builds, oldest first.
		`CREATE INDEX index_commit_statuses_on_type_status_id ON commit_statuses (type, status, id)`,
		`CREATE INDEX index_commit_statuses_on_project_type_id ON commit_statuses (project_id, type, id)`,

		`CREATE TABLE ci_build_traces (
			build_id INTEGER PRIMARY KEY REFERENCES commit_statuses (id) ON DELETE CASCADE,
			trace {{text}} NOT NULL DEFAULT '',
			size INTEGER NOT NULL DEFAULT 0
		)`,

		`CREATE TABLE ci_runners (
			id {{pk}},
			token VARCHAR(255) NOT NULL,
			description VARCHAR(255),
			name VARCHAR(255),
			version VARCHAR(255),
			revision VARCHAR(255),
			platform VARCHAR(255),
			architecture VARCHAR(255),
			tag_list {{text}} NOT NULL DEFAULT '',
			active BOOLEAN NOT NULL DEFAULT TRUE,
			is_shared BOOLEAN NOT NULL DEFAULT FALSE,
			contacted_at {{ts}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_ci_runners_on_token ON ci_runners (token)`,
		`CREATE TABLE ci_runner_projects (
			id {{pk}},
			runner_id INTEGER NOT NULL REFERENCES ci_runners (id) ON DELETE CASCADE,
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_ci_runner_projects_on_runner_and_project ON ci_runner_projects (runner_id, project_id)`,
		`CREATE INDEX index_ci_runner_projects_on_project_id ON ci_runner_projects (project_id)`,

		`CREATE TABLE ci_variables (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			key VARCHAR(255) NOT NULL,
			value {{text}}
		)`,
		`CREATE UNIQUE INDEX index_ci_variables_on_project_id_and_key ON ci_variables (project_id, key)`,

		`CREATE TABLE ci_triggers (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			token VARCHAR(255) NOT NULL,
			deleted_at {{ts}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_ci_triggers_on_token ON ci_triggers (token)`,
		`CREATE INDEX index_ci_triggers_on_project_id ON ci_triggers (project_id)`,
		`CREATE TABLE ci_trigger_requests (
			id {{pk}},
			trigger_id INTEGER NOT NULL REFERENCES ci_triggers (id) ON DELETE CASCADE,
			pipeline_id INTEGER REFERENCES ci_pipelines (id) ON DELETE CASCADE,
			variables {{text}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_ci_trigger_requests_on_trigger_id ON ci_trigger_requests (trigger_id, id)`,
	}})
}
