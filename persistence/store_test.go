package persistence_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/pgtest"
)

// Every store test is written once and run against each database, the way
// Mattermost's storetest does.
var storeTests = []struct {
	name string
	fn   func(t *testing.T, s *persistence.Store)
}{
	{"MigrationsRerun", testMigrationsRerun},
	{"CreateUser", testCreateUser},
	{"UserValidation", testUserValidation},
	{"UserUniqueness", testUserUniqueness},
	{"UpdateUser", testUpdateUser},
	{"DeleteUser", testDeleteUser},
	{"UserState", testUserState},
	{"Authenticate", testAuthenticate},
	{"Lookups", testLookups},
	{"ListUsers", testListUsers},
	{"Keys", testKeys},
	{"Emails", testEmails},
	{"Namespaces", testNamespaces},
	{"Bootstrap", testBootstrap},
	{"ConcurrentCreates", testConcurrentCreates},
}

func TestSQLite(t *testing.T) {
	for _, tt := range storeTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, openStore(t, persistence.Config{DataDir: filepath.Join(t.TempDir(), "data")}))
		})
	}
}

func TestPostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	for i, tt := range storeTests {
		t.Run(tt.name, func(t *testing.T) {
			// One cluster, one fresh database per test.
			db := fmt.Sprintf("store_%d", i)
			admin := openStore(t, persistence.Config{DatabaseURL: dsn})
			if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			tt.fn(t, openStore(t, persistence.Config{DatabaseURL: strings.Replace(dsn, "/postgres?", "/"+db+"?", 1)}))
		})
	}
}

func openStore(t *testing.T, cfg persistence.Config) *persistence.Store {
	t.Helper()
	cfg.BcryptCost = bcrypt.MinCost
	s, err := persistence.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func str(s string) *string { return &s }

var seq atomic.Int64

// newUser creates a valid user with unique names.
func newUser(t *testing.T, s *persistence.Store, mod ...func(*persistence.UserParams)) *persistence.User {
	t.Helper()
	n := seq.Add(1)
	p := persistence.UserParams{
		Email: str(fmt.Sprintf("user%d@example.com", n)), Name: str(fmt.Sprintf("User %d", n)),
		Username: str(fmt.Sprintf("user%d", n)), Password: str("password123"),
	}
	for _, m := range mod {
		m(&p)
	}
	u, err := s.CreateUser(context.Background(), p)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func wantValidation(t *testing.T, err error, field, msg string) {
	t.Helper()
	var v *persistence.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("got error %v, want a validation error on %s", err, field)
	}
	if !v.Has(field, msg) {
		t.Fatalf("got %v, want %s %q", v.Fields, field, msg)
	}
}

func sshKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))) + " me@host"
}

func testMigrationsRerun(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	before, err := s.SchemaVersions(ctx)
	if err != nil || len(before) == 0 {
		t.Fatalf("versions: %v %v", before, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	after, _ := s.SchemaVersions(ctx)
	if len(after) != len(before) {
		t.Fatalf("got %d versions after rerun, want %d", len(after), len(before))
	}
}

func testCreateUser(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s, func(p *persistence.UserParams) {
		p.Provider, p.ExternUID = str("github"), str("gh-1")
		p.SkipConfirmation = true
	})
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != persistence.UserActive || got.ProjectsLimit != persistence.DefaultProjectsLimit || !got.CanCreateGroup {
		t.Errorf("defaults: got state=%s limit=%d cancreate=%v", got.State, got.ProjectsLimit, got.CanCreateGroup)
	}
	if got.ConfirmedAt == nil {
		t.Error("got confirmed_at nil, want set when confirmation is skipped")
	}
	if len(got.PrivateToken) != 20 || got.EncryptedPassword == "" || got.EncryptedPassword == "password123" {
		t.Errorf("got token %q hash %q", got.PrivateToken, got.EncryptedPassword)
	}
	if len(got.Identities) != 1 || got.Identities[0].Provider != "github" || got.Identities[0].ExternUID != "gh-1" {
		t.Errorf("got identities %+v", got.Identities)
	}
	nss, total, err := s.ListNamespaces(ctx, persistence.NamespaceFilter{UserID: &u.ID}, persistence.Page{Limit: 10})
	if err != nil || total != 1 || nss[0].Path != u.Username || nss[0].Kind() != "user" {
		t.Fatalf("got namespaces %+v total %d err %v, want the personal one", nss, total, err)
	}
}

func testUserValidation(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	base := func() persistence.UserParams {
		return persistence.UserParams{Email: str("v@example.com"), Name: str("V"), Username: str("valid"), Password: str("password123")}
	}
	long := strings.Repeat("x", 256)
	neg := -1
	for _, tc := range []struct {
		name       string
		mod        func(*persistence.UserParams)
		field, msg string
	}{
		{"short password", func(p *persistence.UserParams) { p.Password = str("short") }, "password", "is too short (minimum is 8 characters)"},
		{"no password", func(p *persistence.UserParams) { p.Password = nil }, "password", "can't be blank"},
		{"bad email", func(p *persistence.UserParams) { p.Email = str("not-an-email") }, "email", "is invalid"},
		{"blank name", func(p *persistence.UserParams) { p.Name = str(" ") }, "name", "can't be blank"},
		{"bad username", func(p *persistence.UserParams) { p.Username = str("-bad") }, "username", "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.'."},
		{"username ends in dot", func(p *persistence.UserParams) { p.Username = str("bad.") }, "username", "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.'."},
		{"reserved username", func(p *persistence.UserParams) { p.Username = str("admin") }, "username", "is reserved"},
		{"long bio", func(p *persistence.UserParams) { p.Bio = &long }, "bio", "is too long (maximum is 255 characters)"},
		{"negative limit", func(p *persistence.UserParams) { p.ProjectsLimit = &neg }, "projects_limit", "must be greater than or equal to 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.mod(&p)
			_, err := s.CreateUser(ctx, p)
			wantValidation(t, err, tc.field, tc.msg)
		})
	}
	if n, _ := s.CountUsers(ctx); n != 0 {
		t.Fatalf("got %d users after rejected creates, want 0", n)
	}
}

func testUserUniqueness(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a := newUser(t, s)
	_, err := s.CreateUser(ctx, persistence.UserParams{Email: str(strings.ToUpper(a.Email)), Name: str("B"), Username: str("bbb"), Password: str("password123")})
	wantValidation(t, err, "email", "has already been taken")
	_, err = s.CreateUser(ctx, persistence.UserParams{Email: str("b@example.com"), Name: str("B"), Username: str(strings.ToUpper(a.Username)), Password: str("password123")})
	wantValidation(t, err, "username", "has already been taken")
	// A secondary email blocks a primary one.
	if _, err := s.CreateEmail(ctx, a.ID, "second@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateUser(ctx, persistence.UserParams{Email: str("second@example.com"), Name: str("C"), Username: str("ccc"), Password: str("password123")})
	wantValidation(t, err, "email", "has already been taken")
	if ok, _ := s.EmailTaken(ctx, a.Email, 0); !ok {
		t.Error("EmailTaken: got false, want true")
	}
	if ok, _ := s.EmailTaken(ctx, a.Email, a.ID); ok {
		t.Error("EmailTaken excluding the owner: got true, want false")
	}
	if ok, _ := s.UsernameTaken(ctx, a.Username, 0); !ok {
		t.Error("UsernameTaken: got false, want true")
	}
}

func testUpdateUser(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, b := newUser(t, s), newUser(t, s)
	limit, yes := 42, true
	u, err := s.UpdateUser(ctx, a.ID, persistence.UserParams{Username: str(a.Username + "x"), Bio: str("hi"), ProjectsLimit: &limit, Admin: &yes, Password: str("newpassword1")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != a.Username+"x" || *u.Bio != "hi" || u.ProjectsLimit != 42 || !u.Admin {
		t.Errorf("got %+v", u)
	}
	nss, _, _ := s.ListNamespaces(ctx, persistence.NamespaceFilter{UserID: &a.ID}, persistence.Page{Limit: 10})
	if len(nss) != 1 || nss[0].Path != u.Username {
		t.Errorf("got namespace %+v, want it renamed to %s", nss, u.Username)
	}
	if _, err := s.Authenticate(ctx, u.Username, "newpassword1"); err != nil {
		t.Errorf("new password: %v", err)
	}
	_, err = s.UpdateUser(ctx, a.ID, persistence.UserParams{Email: str(b.Email)})
	wantValidation(t, err, "email", "has already been taken")
	_, err = s.UpdateUser(ctx, a.ID, persistence.UserParams{Name: str("changed"), Password: str("x")})
	wantValidation(t, err, "password", "is too short (minimum is 8 characters)")
	got, _ := s.GetUser(ctx, a.ID)
	if got.Name == "changed" {
		t.Error("a rejected update changed the name")
	}
	if _, err := s.UpdateUser(ctx, 999999, persistence.UserParams{Name: str("x")}); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func testDeleteUser(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s, func(p *persistence.UserParams) { p.Provider, p.ExternUID = str("x"), str("y") })
	if _, err := s.CreateKey(ctx, u.ID, "k", sshKey(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateEmail(ctx, u.ID, "gone@example.com"); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.DeleteUser(ctx, u.ID)
	if err != nil || d.ID != u.ID {
		t.Fatalf("delete: %v %+v", err, d)
	}
	if _, err := s.GetUser(ctx, u.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	keys, _ := s.ListUserKeys(ctx, u.ID)
	emails, _ := s.ListUserEmails(ctx, u.ID)
	_, nsTotal, _ := s.ListNamespaces(ctx, persistence.NamespaceFilter{UserID: &u.ID}, persistence.Page{Limit: 1})
	if len(keys)+len(emails) != 0 || nsTotal != 0 {
		t.Errorf("left behind: %d keys, %d emails, %d namespaces", len(keys), len(emails), nsTotal)
	}
	// The username and email are free again.
	newUser(t, s, func(p *persistence.UserParams) { p.Username, p.Email = &u.Username, &u.Email })
	if _, _, err := s.DeleteUser(ctx, u.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func testUserState(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	for i, step := range []struct {
		from, to string
		want     bool
	}{
		{persistence.UserActive, persistence.UserBlocked, true},
		{persistence.UserActive, persistence.UserBlocked, false},
		{persistence.UserBlocked, persistence.UserActive, true},
		{persistence.UserBlocked, persistence.UserActive, false},
	} {
		got, err := s.SetUserState(ctx, u.ID, step.from, step.to)
		if err != nil || got != step.want {
			t.Errorf("step %d: got %v %v, want %v", i, got, err, step.want)
		}
	}
}

func testAuthenticate(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	for _, login := range []string{u.Username, u.Email, strings.ToUpper(u.Email)} {
		if got, err := s.Authenticate(ctx, login, "password123"); err != nil || got.ID != u.ID {
			t.Errorf("login %q: got %v %v", login, got, err)
		}
	}
	for _, tc := range [][2]string{{u.Username, "wrong-password"}, {"nobody", "password123"}, {u.Username, ""}, {"", "password123"}} {
		if _, err := s.Authenticate(ctx, tc[0], tc[1]); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("login %q/%q: got %v, want ErrNotFound", tc[0], tc[1], err)
		}
	}
}

func testLookups(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	u := newUser(t, s)
	if got, err := s.UserByToken(ctx, u.PrivateToken); err != nil || got.ID != u.ID {
		t.Errorf("by token: %v %v", got, err)
	}
	if _, err := s.UserByToken(ctx, ""); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("empty token: %v", err)
	}
	for _, ident := range []string{u.Username, fmt.Sprint(u.ID)} {
		if got, err := s.UserByUsernameOrID(ctx, ident); err != nil || got.ID != u.ID {
			t.Errorf("by %q: %v %v", ident, got, err)
		}
	}
	if _, err := s.UserByUsernameOrID(ctx, "nosuchuser"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
}

func testListUsers(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	var made []*persistence.User
	for i := 0; i < 5; i++ {
		made = append(made, newUser(t, s))
	}
	s.SetUserState(ctx, made[0].ID, persistence.UserActive, persistence.UserBlocked)
	page, total, err := s.ListUsers(ctx, persistence.UserFilter{}, persistence.Page{Offset: 2, Limit: 2})
	if err != nil || total != 5 || len(page) != 2 || page[0].ID != made[2].ID {
		t.Fatalf("page: got %d items (first %v) total %d err %v", len(page), page, total, err)
	}
	_, total, _ = s.ListUsers(ctx, persistence.UserFilter{ActiveOnly: true}, persistence.Page{Limit: 10})
	if total != 4 {
		t.Errorf("active: got %d, want 4", total)
	}
	got, total, _ := s.ListUsers(ctx, persistence.UserFilter{Username: made[3].Username}, persistence.Page{Limit: 10})
	if total != 1 || got[0].ID != made[3].ID {
		t.Errorf("username: got %+v", got)
	}
	got, total, _ = s.ListUsers(ctx, persistence.UserFilter{Search: strings.ToUpper(made[4].Email)}, persistence.Page{Limit: 10})
	if total != 1 || got[0].ID != made[4].ID {
		t.Errorf("search: got %d users", total)
	}
	_, total, _ = s.ListUsers(ctx, persistence.UserFilter{Search: "%"}, persistence.Page{Limit: 10})
	if total != 0 {
		t.Errorf("search %%: got %d users, want 0 (LIKE wildcards are escaped)", total)
	}
}

func testKeys(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, b := newUser(t, s), newUser(t, s)
	text := sshKey(t)
	k, err := s.CreateKey(ctx, a.ID, "laptop", "  "+text+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if k.Key != text || !strings.Contains(k.Fingerprint, ":") {
		t.Errorf("got key %q fingerprint %q", k.Key, k.Fingerprint)
	}
	_, err = s.CreateKey(ctx, b.ID, "again", text)
	wantValidation(t, err, "fingerprint", "has already been taken")
	_, err = s.CreateKey(ctx, a.ID, "bad", "ssh-rsa notakey")
	wantValidation(t, err, "fingerprint", "cannot be generated")
	_, err = s.CreateKey(ctx, a.ID, "bad", "hello")
	wantValidation(t, err, "key", "is invalid")
	_, err = s.CreateKey(ctx, a.ID, "", sshKey(t))
	wantValidation(t, err, "title", "can't be blank")
	if keys, _ := s.ListUserKeys(ctx, a.ID); len(keys) != 1 {
		t.Errorf("got %d keys, want 1", len(keys))
	}
	if _, err := s.GetUserKey(ctx, b.ID, k.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("another user's key: %v", err)
	}
	if _, err := s.DeleteUserKey(ctx, b.ID, k.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("delete another user's key: %v", err)
	}
	if d, err := s.DeleteUserKey(ctx, a.ID, k.ID); err != nil || d.ID != k.ID {
		t.Errorf("delete: %v", err)
	}
	if _, err := s.GetKey(ctx, k.ID); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
}

func testEmails(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a := newUser(t, s)
	e, err := s.CreateEmail(ctx, a.ID, " Second@Example.com ")
	if err != nil || e.Email != "second@example.com" {
		t.Fatalf("got %+v %v", e, err)
	}
	_, err = s.CreateEmail(ctx, a.ID, "second@example.com")
	wantValidation(t, err, "email", "has already been taken")
	_, err = s.CreateEmail(ctx, a.ID, a.Email)
	wantValidation(t, err, "email", "has already been taken")
	_, err = s.CreateEmail(ctx, a.ID, "nope")
	wantValidation(t, err, "email", "is invalid")
	if got, err := s.GetUserEmail(ctx, a.ID, e.ID); err != nil || got.Email != e.Email {
		t.Errorf("get: %v", err)
	}
	if _, err := s.DeleteUserEmail(ctx, a.ID, e.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
	if list, _ := s.ListUserEmails(ctx, a.ID); len(list) != 0 {
		t.Errorf("got %d emails after delete", len(list))
	}
}

func testNamespaces(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	a, _ := newUser(t, s), newUser(t, s)
	all, total, err := s.ListNamespaces(ctx, persistence.NamespaceFilter{}, persistence.Page{Limit: 1})
	if err != nil || total != 2 || len(all) != 1 {
		t.Fatalf("all: %d/%d %v", len(all), total, err)
	}
	got, total, _ := s.ListNamespaces(ctx, persistence.NamespaceFilter{Search: strings.ToUpper(a.Username)}, persistence.Page{Limit: 10})
	if total != 1 || got[0].Path != a.Username {
		t.Errorf("search: %+v", got)
	}
}

func testBootstrap(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	res, err := s.Bootstrap(ctx, persistence.Bootstrap{RootPassword: "rootpassword", RunnersRegistrationToken: "tok123"})
	if err != nil || !res.RootCreated || res.RunnersRegistrationToken != "tok123" {
		t.Fatalf("first: %+v %v", res, err)
	}
	root, err := s.Authenticate(ctx, "root", "rootpassword")
	if err != nil || !root.Admin || root.ConfirmedAt == nil {
		t.Fatalf("root: %+v %v", root, err)
	}
	res, err = s.Bootstrap(ctx, persistence.Bootstrap{RootPassword: "otherpassword", RunnersRegistrationToken: "other"})
	if err != nil || res.RootCreated || res.RunnersRegistrationToken != "" {
		t.Fatalf("second: %+v %v", res, err)
	}
	st, err := s.Settings(ctx)
	if err != nil || st.RunnersRegistrationToken != "tok123" {
		t.Fatalf("settings: %+v %v", st, err)
	}
}

// Concurrent creates of the same username: exactly one wins, the others get
// a validation error, never a raw database error.
func testConcurrentCreates(t *testing.T, s *persistence.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var ok, taken atomic.Int32
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.CreateUser(ctx, persistence.UserParams{
				Email: str(fmt.Sprintf("race%d@example.com", i)), Name: str("Race"), Username: str("racer"), Password: str("password123"),
			})
			var v *persistence.ValidationError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &v) && v.Has("username", "has already been taken"):
				taken.Add(1)
			default:
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 1 || taken.Load() != 15 {
		t.Fatalf("got %d created and %d taken, want 1 and 15", ok.Load(), taken.Load())
	}
}
