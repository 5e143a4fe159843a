// Package persistence is Labrador's storage: GORM over SQLite (the embedded
// default) or PostgreSQL (scale-out), versioned migrations, and typed errors
// that know nothing of HTTP.
package persistence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Config says where the data lives.
type Config struct {
	// DatabaseURL is a postgres:// URL, or empty for SQLite in DataDir.
	DatabaseURL string
	// DataDir holds the SQLite file (and, later, repositories and artifacts).
	DataDir string
	// BcryptCost is the password hashing cost; 0 means bcrypt.DefaultCost
	// (10, as Devise used).
	BcryptCost int
}

// Store is the one entry point to the data. Writes go through w; reads
// through r. On SQLite w is a single connection, so writers queue in Go
// rather than fight over the file lock, and the WAL stays small; r is a pool
// of read-only connections. On PostgreSQL both are the same pool.
type Store struct {
	w, r       *gorm.DB
	dialect    string
	bcryptCost int
	// On SQLite: the writes of this process so far (see writeCounter), and
	// the reads kept since (see readCache). Nil on PostgreSQL.
	writes     *atomic.Uint64
	tokens     *readCache[User]
	userTotals *readCache[int64]
	// prepared holds the reader statements of preparedRow.
	prepared sync.Map // query → *sql.Stmt
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Open connects, migrates, and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	gcfg := &gorm.Config{
		SkipDefaultTransaction: true,
		TranslateError:         true,
		Logger:                 logger.Default.LogMode(logger.Silent),
	}
	s := &Store{bcryptCost: cfg.BcryptCost}
	if s.bcryptCost == 0 {
		s.bcryptCost = bcrypt.DefaultCost
	}
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		db, err := gorm.Open(postgres.Open(cfg.DatabaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		s.w, s.r, s.dialect = db, db, "postgres"
	case cfg.DatabaseURL == "" || strings.HasPrefix(cfg.DatabaseURL, "sqlite:"):
		path := strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")
		if path == "" {
			if cfg.DataDir == "" {
				return nil, errors.New("persistence: neither a database URL nor a data dir given")
			}
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				return nil, err
			}
			path = filepath.Join(cfg.DataDir, "labrador.db")
		}
		// GORM's prepared-statement cache serves the hot reads. It stays off
		// the single writer connection (and off PostgreSQL, whose driver
		// caches statements itself): a goroutine preparing a statement waits
		// for a connection while holding the cache's lock, and one inside a
		// transaction that needs to prepare waits for that lock — deadlock.
		s.writes, s.tokens, s.userTotals = new(atomic.Uint64), newReadCache[User](), newReadCache[int64]()
		w, err := openSQLite(path, "&_txlock=immediate", gcfg, s.writes)
		if err != nil {
			return nil, err
		}
		rcfg := *gcfg
		rcfg.PrepareStmt = true
		r, err := openSQLite(path, "&mode=ro", &rcfg, nil)
		if err != nil {
			return nil, err
		}
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		rdb, _ := r.DB()
		n := 2 * runtime.GOMAXPROCS(0)
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		rdb.SetConnMaxLifetime(0)
		s.w, s.r, s.dialect = w, r, "sqlite"
	default:
		return nil, fmt.Errorf("persistence: unsupported database URL %q (want postgres://… or empty for SQLite)", redact(cfg.DatabaseURL))
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}

// openSQLite opens the file; with writes, every connection counts its
// writes there (the writer's).
func openSQLite(path, extra string, gcfg *gorm.Config, writes *atomic.Uint64) (*gorm.DB, error) {
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on" + extra
	dialector := sqlite.Open(dsn)
	if writes != nil {
		dialector = sqlite.New(sqlite.Config{Conn: sql.OpenDB(&writeCounter{dsn: dsn, driver: &sqlite3.SQLiteDriver{}, writes: writes})})
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// redact hides a password in a database URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close releases the connections.
func (s *Store) Close() error {
	var errs []error
	s.prepared.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	for _, db := range []*gorm.DB{s.w, s.r} {
		if db == nil {
			continue
		}
		if sqlDB, err := db.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
		if s.r == s.w {
			break
		}
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.r.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// read and write give a context-bound handle. On SQLite the context loses
// its cancellation: mattn/go-sqlite3 runs every row fetch of a cancellable
// query in a goroutine of its own to watch for it, which costs more than
// the sub-millisecond queries it could interrupt.
func (s *Store) read(ctx context.Context) *gorm.DB  { return s.r.WithContext(s.queryContext(ctx)) }
func (s *Store) write(ctx context.Context) *gorm.DB { return s.w.WithContext(s.queryContext(ctx)) }

// preparedRow runs a hot read of a handful of fixed query texts as a
// statement prepared once on the reader pool, past GORM's building of a
// statement on every call (a tenth of GET /users' time in the database).
func (s *Store) preparedRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = s.queryContext(ctx)
	if st, ok := s.prepared.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	db, err := s.r.DB()
	if err != nil {
		return s.r.WithContext(ctx).Raw(query, args...).Row()
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return db.QueryRowContext(ctx, query, args...) // answers with the same error
	}
	if prev, loaded := s.prepared.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) queryContext(ctx context.Context) context.Context {
	if s.dialect == "sqlite" {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// tx runs fn in one write transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write(ctx).Transaction(fn)
}

// notFound turns gorm's record-not-found into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// Migrate applies pending migrations; Open already did, so this is for
// tools and tests that check reruns are harmless.
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx) }

// Exec runs a statement outside any model, for administration (creating a
// database in tests, for one).
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	return s.write(ctx).Exec(sql, args...).Error
}
