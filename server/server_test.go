package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server"
)

// panicStore is the real store, except that listing namespaces panics.
type panicStore struct{ *persistence.Store }

func (panicStore) ListNamespaces(context.Context, persistence.NamespaceFilter, persistence.Page) ([]persistence.Namespace, int64, error) {
	panic("boom")
}

func newTestServer(t *testing.T, wrap func(*persistence.Store) server.Store) (*httptest.Server, string, *persistence.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := persistence.Open(ctx, persistence.Config{DataDir: filepath.Join(t.TempDir(), "data"), BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Bootstrap(ctx, persistence.Bootstrap{RootPassword: "rootpassword", RunnersRegistrationToken: "x"}); err != nil {
		t.Fatal(err)
	}
	root, err := store.Authenticate(ctx, "root", "rootpassword")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, wrap(store))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, root.PrivateToken, store
}

func get(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// A panic in a handler is GitLab's catch-all answer, and the server goes on.
func TestPanicIsACleanInternalError(t *testing.T) {
	ts, token, _ := newTestServer(t, func(s *persistence.Store) server.Store { return panicStore{s} })
	req, _ := http.NewRequest("GET", ts.URL+"/api/v3/namespaces", nil)
	req.Header.Set("PRIVATE-TOKEN", token)
	status, ctype, body := get(t, req)
	if status != 500 || ctype != "application/json" || body != `{"message":"500 Internal Server Error"}` {
		t.Fatalf("got %d %q %s, want 500 application/json {\"message\":\"500 Internal Server Error\"}", status, ctype, body)
	}
	req, _ = http.NewRequest("GET", ts.URL+"/api/v3/user", nil)
	req.Header.Set("PRIVATE-TOKEN", token)
	if status, _, body := get(t, req); status != 200 {
		t.Fatalf("after the panic: got %d %s, want 200", status, body)
	}
}

// Grape read parameters from a body whatever the method: a GET with a form
// body filters like one with a query string.
func TestBodyParametersOnAGet(t *testing.T) {
	ts, token, store := newTestServer(t, func(s *persistence.Store) server.Store { return s })
	email, name, username, password := "other@example.com", "Other", "other", "password123"
	if _, err := store.CreateUser(context.Background(), persistence.UserParams{Email: &email, Name: &name, Username: &username, Password: &password}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ctype, body string }{
		{"application/x-www-form-urlencoded", "username=root"},
		{"application/json", `{"username":"root"}`},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v3/users", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("PRIVATE-TOKEN", token)
		status, _, body := get(t, req)
		var users []map[string]any
		if err := json.Unmarshal([]byte(body), &users); err != nil || status != 200 {
			t.Fatalf("%s: got %d %s", tc.ctype, status, body)
		}
		if len(users) != 1 || users[0]["username"] != "root" {
			t.Errorf("%s: got %v, want only root", tc.ctype, users)
		}
	}
}
