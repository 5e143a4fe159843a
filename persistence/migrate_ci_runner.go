package persistence

// The runner protocol's schema (issue 5): the artifacts size cap of 8.7's
// application settings, and an index for the build-token lookups of the
// trace and artifacts calls.

func init() {
	registerMigrations(migration{"20261122000055_ci_runner", []string{
		// Megabytes; 8.7's default was 100.
		`ALTER TABLE application_settings ADD COLUMN max_artifacts_size INTEGER NOT NULL DEFAULT 100`,
		// The poll of an idle runner reads only this index: pending builds
		// not yet taken, oldest first.
		`CREATE INDEX index_commit_statuses_on_runner_queue ON commit_statuses (status, type, runner_id, id)`,
	}})
}
