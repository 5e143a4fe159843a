package persistence

import (
	"context"
	"fmt"
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
	for _, m := range migrations {
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
