package persistence

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// Every way the writer connection runs SQL is counted, and only once the
// statement is over: a reader that saw the count unchanged across its read
// saw no write end in between.
func TestSQLiteWritesAreCountedWhenDone(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteStore(t, filepath.Join(t.TempDir(), "data"))
	if s.writes == nil || s.tokens == nil {
		t.Fatal("SQLite store without a write count or token cache")
	}
	counted := func(name string, fn func()) {
		t.Helper()
		before := s.writes.Load()
		fn()
		if s.writes.Load() == before {
			t.Errorf("%s: not counted", name)
		}
	}
	counted("a statement outside a transaction", func() {
		if err := s.Exec(ctx, `CREATE TABLE counted (n INTEGER)`); err != nil {
			t.Fatal(err)
		}
	})
	counted("a committed transaction", func() {
		if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Exec(`INSERT INTO counted VALUES (1)`).Error }); err != nil {
			t.Fatal(err)
		}
	})
	counted("a rolled back transaction", func() {
		_ = s.tx(ctx, func(tx *gorm.DB) error {
			tx.Exec(`INSERT INTO counted VALUES (2)`)
			return sql.ErrNoRows
		})
	})
	// UPDATE … RETURNING has ended only when its rows are closed.
	before := s.writes.Load()
	rows, err := s.write(ctx).Raw(`UPDATE counted SET n = n + 1 RETURNING n`).Rows()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("UPDATE … RETURNING returned nothing")
	}
	if s.writes.Load() != before {
		t.Error("UPDATE … RETURNING counted before its rows closed")
	}
	rows.Close()
	if s.writes.Load() == before {
		t.Error("UPDATE … RETURNING: not counted when its rows closed")
	}
	counted("a prepared statement", func() {
		db, err := s.w.DB()
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.PrepareContext(ctx, `UPDATE counted SET n = ?`)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.ExecContext(ctx, 7); err != nil {
			t.Fatal(err)
		}
	})
}

// A user found by token is served again without a read until a write ends,
// and never once a write has ended: blocking a user is seen by the very
// next lookup, however many lookups run beside it.
func TestTokenCacheNeverOutlivesAWrite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s := openSQLiteStore(t, dir)
	email, name, username, password := "cached@example.com", "Cached", "cached", "password123"
	u, err := s.CreateUser(ctx, UserParams{Email: &email, Name: &name, Username: &username, Password: &password, SkipConfirmation: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByToken(ctx, u.PrivateToken); err != nil || got.ID != u.ID {
		t.Fatalf("UserByToken = %v, %v", got, err)
	}

	// Served from the cache: a write the process cannot see (another
	// program on the file) is not read until the TTL runs out.
	other, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "labrador.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`UPDATE users SET name = 'Renamed elsewhere' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserByToken(ctx, u.PrivateToken); got.Name != "Cached" {
		t.Fatalf("name %q: the lookup was not served from the cache", got.Name)
	}
	time.Sleep(readCacheTTL + 50*time.Millisecond)
	if got, _ := s.UserByToken(ctx, u.PrivateToken); got.Name != "Renamed elsewhere" {
		t.Fatalf("name %q after the TTL, want the renamed user", got.Name)
	}

	// A copy each time: a caller's change stays its own.
	a, _ := s.UserByToken(ctx, u.PrivateToken)
	a.Name = "changed by a caller"
	if b, _ := s.UserByToken(ctx, u.PrivateToken); b.Name == a.Name {
		t.Fatal("the cache handed out its own user")
	}

	// Block and unblock under a storm of lookups: after each write returns,
	// the next lookup sees it.
	stop := make(chan struct{})
	var lookups atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.UserByToken(ctx, u.PrivateToken); err != nil {
					t.Error(err)
					return
				}
				lookups.Add(1)
			}
		}()
	}
	state := UserActive
	for i := 0; i < 300; i++ {
		from, to := state, UserBlocked
		if state == UserBlocked {
			to = UserActive
		}
		if ok, err := s.SetUserState(ctx, u.ID, from, to); err != nil || !ok {
			t.Fatalf("SetUserState %s → %s: %v %v", from, to, ok, err)
		}
		state = to
		got, err := s.UserByToken(ctx, u.PrivateToken)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != state {
			close(stop)
			t.Fatalf("write %d: lookup gives state %q after %q was written", i, got.State, state)
		}
	}
	close(stop)
	wg.Wait()
	if lookups.Load() == 0 {
		t.Fatal("no concurrent lookups ran")
	}
}

// A user list's total is kept like a token's user: a new user is counted
// by the very next page.
func TestUserTotalNeverOutlivesAWrite(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteStore(t, filepath.Join(t.TempDir(), "data"))
	for i := 0; i < 5; i++ {
		_, before, err := s.ListUsers(ctx, UserFilter{}, Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		_, again, _ := s.ListUsers(ctx, UserFilter{}, Page{Limit: 20})
		email, name, username, password := fmt.Sprintf("t%d@example.com", i), "T", fmt.Sprintf("t%d", i), "password123"
		if _, err := s.CreateUser(ctx, UserParams{Email: &email, Name: &name, Username: &username, Password: &password}); err != nil {
			t.Fatal(err)
		}
		page, after, err := s.ListUsers(ctx, UserFilter{}, Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if again != before || after != before+1 || int64(len(page)) != after {
			t.Fatalf("totals %d, %d, then %d after a create (page of %d)", before, again, after, len(page))
		}
		// A filtered list has a total of its own.
		if _, n, _ := s.ListUsers(ctx, UserFilter{Search: username}, Page{Limit: 20}); n != 1 {
			t.Fatalf("search %q: total %d, want 1", username, n)
		}
	}
}

// openSQLiteStore opens a store on SQLite in dir, closed when the test ends.
func openSQLiteStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
