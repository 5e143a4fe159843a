package persistence

// Pipelines are unique per project, sha and ref: a push and a trigger of the
// same commit at once find one pipeline (CreatePipeline retries when it
// lost the race to create it).

func init() {
	registerMigrations(migration{"20261122000051_ci_pipelines_unique", []string{
		`DROP INDEX index_ci_pipelines_on_project_sha_ref`,
		`CREATE UNIQUE INDEX index_ci_pipelines_on_project_sha_ref ON ci_pipelines (project_id, sha, ref)`,
	}})
}
