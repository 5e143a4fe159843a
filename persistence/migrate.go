package persistence

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// A migration is one versioned schema step. Steps are append-only: a change
// to the schema is a new step, never an edit of an applied one. Statements
// are written once for both databases; {{pk}}, {{ts}} and {{text}} expand per
// dialect.
type migration struct {
	version string
	stmts   []string
}

// registerMigrations adds steps from a file of their own (one file per
// concern, migrate_<concern>.go, each in an init func); migrate applies
// every step in version order, so files never contend for one list.
// Versions in use: 0000xx core (this file), 00004x issue tracking,
// 00005x CI.
func registerMigrations(steps ...migration) {
	migrations = append(migrations, steps...)
}

// sortedMigrations returns every step in version order and panics on a
// duplicate version: two steps with one version would apply only once.
func sortedMigrations() []migration {
	out := append([]migration(nil), migrations...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			panic("persistence: two migrations named " + out[i].version)
		}
	}
	return out
}

var migrations = []migration{
	{"20261122000001_users", []string{
		`CREATE TABLE users (
			id {{pk}},
			email VARCHAR(255) NOT NULL,
			encrypted_password VARCHAR(255) NOT NULL DEFAULT '',
			name VARCHAR(255) NOT NULL DEFAULT '',
			username VARCHAR(255) NOT NULL,
			state VARCHAR(32) NOT NULL DEFAULT 'active',
			admin BOOLEAN NOT NULL DEFAULT FALSE,
			bio VARCHAR(255),
			location VARCHAR(255),
			skype VARCHAR(255) NOT NULL DEFAULT '',
			linkedin VARCHAR(255) NOT NULL DEFAULT '',
			twitter VARCHAR(255) NOT NULL DEFAULT '',
			website_url VARCHAR(255) NOT NULL DEFAULT '',
			projects_limit INTEGER NOT NULL DEFAULT 10,
			can_create_group BOOLEAN NOT NULL DEFAULT TRUE,
			external BOOLEAN NOT NULL DEFAULT FALSE,
			theme_id INTEGER NOT NULL DEFAULT 1,
			color_scheme_id INTEGER NOT NULL DEFAULT 1,
			two_factor_enabled BOOLEAN NOT NULL DEFAULT FALSE,
			private_token VARCHAR(64) NOT NULL,
			confirmed_at {{ts}},
			last_sign_in_at {{ts}},
			current_sign_in_at {{ts}},
			sign_in_count INTEGER NOT NULL DEFAULT 0,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_users_on_private_token ON users (private_token)`,
		`CREATE UNIQUE INDEX index_users_on_lower_email ON users (lower(email))`,
		`CREATE UNIQUE INDEX index_users_on_lower_username ON users (lower(username))`,
		`CREATE INDEX index_users_on_state ON users (state)`,
		`CREATE TABLE identities (
			id {{pk}},
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			provider VARCHAR(255) NOT NULL,
			extern_uid VARCHAR(255) NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_identities_on_provider_and_extern_uid ON identities (provider, extern_uid)`,
		`CREATE UNIQUE INDEX index_identities_on_user_id_and_provider ON identities (user_id, provider)`,
		`CREATE TABLE keys (
			id {{pk}},
			user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
			title VARCHAR(255) NOT NULL,
			"key" {{text}} NOT NULL,
			fingerprint VARCHAR(255) NOT NULL,
			type VARCHAR(32),
			public BOOLEAN NOT NULL DEFAULT FALSE,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_keys_on_fingerprint ON keys (fingerprint)`,
		`CREATE INDEX index_keys_on_user_id ON keys (user_id)`,
		`CREATE TABLE emails (
			id {{pk}},
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			email VARCHAR(255) NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_emails_on_lower_email ON emails (lower(email))`,
		`CREATE INDEX index_emails_on_user_id ON emails (user_id)`,
		`CREATE TABLE namespaces (
			id {{pk}},
			name VARCHAR(255) NOT NULL,
			path VARCHAR(255) NOT NULL,
			owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
			type VARCHAR(32),
			description {{text}} NOT NULL DEFAULT '',
			visibility_level INTEGER NOT NULL DEFAULT 20,
			share_with_group_lock BOOLEAN NOT NULL DEFAULT FALSE,
			avatar VARCHAR(255),
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_namespaces_on_lower_path ON namespaces (lower(path))`,
		`CREATE INDEX index_namespaces_on_owner_id ON namespaces (owner_id)`,
		`CREATE TABLE application_settings (
			id {{pk}},
			runners_registration_token VARCHAR(255) NOT NULL,
			default_projects_limit INTEGER NOT NULL DEFAULT 10,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
	}},
	{"20261122000002_projects_groups_hooks", []string{
		`ALTER TABLE application_settings ADD COLUMN max_attachment_size INTEGER NOT NULL DEFAULT 10`,
		`CREATE TABLE projects (
			id {{pk}},
			name VARCHAR(255) NOT NULL,
			path VARCHAR(255) NOT NULL,
			description {{text}},
			namespace_id INTEGER NOT NULL REFERENCES namespaces (id),
			creator_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
			visibility_level INTEGER NOT NULL DEFAULT 0,
			archived BOOLEAN NOT NULL DEFAULT FALSE,
			issues_enabled BOOLEAN NOT NULL DEFAULT TRUE,
			merge_requests_enabled BOOLEAN NOT NULL DEFAULT TRUE,
			wiki_enabled BOOLEAN NOT NULL DEFAULT TRUE,
			builds_enabled BOOLEAN NOT NULL DEFAULT TRUE,
			snippets_enabled BOOLEAN NOT NULL DEFAULT FALSE,
			shared_runners_enabled BOOLEAN NOT NULL DEFAULT TRUE,
			public_builds BOOLEAN NOT NULL DEFAULT TRUE,
			default_branch VARCHAR(255),
			import_url VARCHAR(1024),
			runners_token VARCHAR(255) NOT NULL,
			star_count INTEGER NOT NULL DEFAULT 0,
			pending_delete BOOLEAN NOT NULL DEFAULT FALSE,
			last_activity_at {{ts}} NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_projects_on_namespace_id_and_lower_path ON projects (namespace_id, lower(path))`,
		`CREATE UNIQUE INDEX index_projects_on_namespace_id_and_lower_name ON projects (namespace_id, lower(name))`,
		`CREATE INDEX index_projects_on_visibility_level ON projects (visibility_level, id)`,
		`CREATE UNIQUE INDEX index_projects_on_runners_token ON projects (runners_token)`,
		`CREATE INDEX index_projects_on_creator_id ON projects (creator_id)`,
		`CREATE TABLE members (
			id {{pk}},
			source_type VARCHAR(32) NOT NULL,
			source_id INTEGER NOT NULL,
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			access_level INTEGER NOT NULL,
			notification_level INTEGER NOT NULL DEFAULT 3,
			created_by_id INTEGER,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_members_on_source_and_user ON members (source_type, source_id, user_id)`,
		`CREATE INDEX index_members_on_user_id_and_source ON members (user_id, source_type, source_id)`,
		`CREATE TABLE project_group_links (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			group_id INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
			group_access INTEGER NOT NULL DEFAULT 30,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_project_group_links_on_project_and_group ON project_group_links (project_id, group_id)`,
		`CREATE INDEX index_project_group_links_on_group_id ON project_group_links (group_id)`,
		`CREATE TABLE users_star_projects (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_users_star_projects_on_user_and_project ON users_star_projects (user_id, project_id)`,
		`CREATE INDEX index_users_star_projects_on_project_id ON users_star_projects (project_id)`,
		`CREATE TABLE forked_project_links (
			id {{pk}},
			forked_to_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			forked_from_project_id INTEGER NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_forked_project_links_on_forked_to ON forked_project_links (forked_to_project_id)`,
		`CREATE INDEX index_forked_project_links_on_forked_from ON forked_project_links (forked_from_project_id)`,
		`CREATE TABLE web_hooks (
			id {{pk}},
			url VARCHAR(2048) NOT NULL,
			project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
			type VARCHAR(32) NOT NULL,
			push_events BOOLEAN NOT NULL DEFAULT TRUE,
			issues_events BOOLEAN NOT NULL DEFAULT FALSE,
			merge_requests_events BOOLEAN NOT NULL DEFAULT FALSE,
			tag_push_events BOOLEAN NOT NULL DEFAULT FALSE,
			note_events BOOLEAN NOT NULL DEFAULT FALSE,
			build_events BOOLEAN NOT NULL DEFAULT FALSE,
			enable_ssl_verification BOOLEAN NOT NULL DEFAULT TRUE,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_web_hooks_on_project_id ON web_hooks (project_id)`,
		`CREATE INDEX index_web_hooks_on_type ON web_hooks (type)`,
		`CREATE TABLE deploy_keys_projects (
			id {{pk}},
			deploy_key_id INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_deploy_keys_projects_on_key_and_project ON deploy_keys_projects (deploy_key_id, project_id)`,
		`CREATE INDEX index_deploy_keys_projects_on_project_id ON deploy_keys_projects (project_id)`,
		`CREATE TABLE events (
			id {{pk}},
			target_type VARCHAR(64),
			target_id INTEGER,
			title VARCHAR(255),
			data {{text}},
			project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
			author_id INTEGER,
			action INTEGER NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_events_on_project_id_and_id ON events (project_id, id)`,
		`CREATE INDEX index_events_on_author_id ON events (author_id)`,
		`CREATE TABLE hook_deliveries (
			id {{pk}},
			hook_id INTEGER,
			hook_type VARCHAR(32) NOT NULL,
			url VARCHAR(2048) NOT NULL,
			event VARCHAR(64) NOT NULL,
			payload {{text}} NOT NULL,
			enable_ssl_verification BOOLEAN NOT NULL DEFAULT TRUE,
			state VARCHAR(16) NOT NULL DEFAULT 'pending',
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at {{ts}} NOT NULL,
			lease_until {{ts}},
			last_status INTEGER,
			last_error {{text}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_hook_deliveries_on_state_and_next_attempt_at ON hook_deliveries (state, next_attempt_at)`,
	}},
	// Who may reach which project, denormalized from members, group
	// memberships, shares and personal namespaces (GitLab added the same
	// table later): listing a user's projects reads one index range.
	{"20261122000003_project_authorizations", []string{
		`CREATE TABLE project_authorizations (
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			access_level INTEGER NOT NULL,
			PRIMARY KEY (user_id, project_id)
		)`,
		`CREATE INDEX index_project_authorizations_on_project_id ON project_authorizations (project_id)`,
		`INSERT INTO project_authorizations (user_id, project_id, access_level)
			SELECT user_id, project_id, max(level) FROM (` + authorizationSources("") + `) x GROUP BY user_id, project_id`,
	}},
	{"20261122000004_releases", []string{
		`CREATE TABLE releases (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			tag VARCHAR(255) NOT NULL,
			description {{text}} NOT NULL DEFAULT '',
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_releases_on_project_id_and_tag ON releases (project_id, tag)`,
	}},
	// Protected branches (8.7's protected_branches, without the later
	// developers_can_push): only masters and owners push to them, and
	// nobody force-pushes or deletes them.
	{"20261122000005_protected_branches", []string{
		`CREATE TABLE protected_branches (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			name VARCHAR(255) NOT NULL,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX index_protected_branches_on_project_id_and_name ON protected_branches (project_id, name)`,
	}},
	// Commit statuses (8.7's ci_builds rows of type GenericCommitStatus,
	// with the ref of the CI commit they belong to as pipeline_ref: 8.7
	// attached each status to a ci_commits row per sha and ref).
	{"20261122000030_commit_statuses", []string{
		`CREATE TABLE commit_statuses (
			id {{pk}},
			project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
			sha VARCHAR(40) NOT NULL,
			pipeline_ref VARCHAR(255) NOT NULL DEFAULT '',
			ref VARCHAR(255),
			name VARCHAR(255) NOT NULL,
			stage VARCHAR(255),
			status VARCHAR(32) NOT NULL,
			description {{text}},
			target_url {{text}},
			author_id INTEGER,
			allow_failure BOOLEAN NOT NULL DEFAULT FALSE,
			started_at {{ts}},
			finished_at {{ts}},
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE INDEX index_commit_statuses_on_project_id_and_sha ON commit_statuses (project_id, sha)`,
	}},
}

var dialectWords = map[string]*strings.Replacer{
	"sqlite":   strings.NewReplacer("{{pk}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "DATETIME", "{{text}}", "TEXT"),
	"postgres": strings.NewReplacer("{{pk}}", "BIGSERIAL PRIMARY KEY", "{{ts}}", "TIMESTAMP WITH TIME ZONE", "{{text}}", "TEXT"),
}

// migrate applies the steps not yet recorded in schema_migrations, each in
// its own transaction. Several processes may start at once on one
// PostgreSQL: an advisory lock makes them take turns; SQLite's immediate
// transactions do the same there. Rerunning is a no-op.
func (s *Store) migrate(ctx context.Context) error {
	db := s.write(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) PRIMARY KEY)`).Error; err != nil {
		return err
	}
	repl := dialectWords[s.dialect]
	for _, m := range sortedMigrations() {
		err := db.Transaction(func(tx *gorm.DB) error {
			if s.dialect == "postgres" {
				if err := tx.Exec(`SELECT pg_advisory_xact_lock(7411)`).Error; err != nil {
					return err
				}
			}
			var n int64
			if err := tx.Table("schema_migrations").Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range m.stmts {
				if err := tx.Exec(repl.Replace(stmt)).Error; err != nil {
					return fmt.Errorf("%s: %w", m.version, err)
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version) VALUES (?)`, m.version).Error
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersions lists the applied migrations, oldest first.
func (s *Store) SchemaVersions(ctx context.Context) ([]string, error) {
	var v []string
	err := s.read(ctx).Table("schema_migrations").Order("version").Pluck("version", &v).Error
	return v, err
}
