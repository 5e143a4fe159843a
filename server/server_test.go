package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
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
	ts, token, store, _ := newTestServerIn(t, filepath.Join(t.TempDir(), "data"), wrap)
	return ts, token, store
}

func newTestServerIn(t *testing.T, dataDir string, wrap func(*persistence.Store) server.Store) (*httptest.Server, string, *persistence.Store, string) {
	t.Helper()
	ctx := context.Background()
	store, err := persistence.Open(ctx, persistence.Config{DataDir: dataDir, BcryptCost: bcrypt.MinCost})
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
	srv, err := server.New(server.Config{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, wrap(store))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, root.PrivateToken, store, dataDir
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

// A project's uploads live on disk under the data dir and go with it.
func TestDeletedProjectLeavesNoFiles(t *testing.T) {
	ts, token, _, dataDir := newTestServerIn(t, filepath.Join(t.TempDir(), "data"), func(s *persistence.Store) server.Store { return s })
	send := func(method, path, ctype string, body io.Reader) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+"/api/v3"+path, body)
		req.Header.Set("PRIVATE-TOKEN", token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		status, _, out := get(t, req)
		return status, out
	}
	status, out := send("POST", "/projects", "application/json", strings.NewReader(`{"name":"attachments"}`))
	var p struct{ ID int }
	if err := json.Unmarshal([]byte(out), &p); status != 201 || err != nil {
		t.Fatalf("create: %d %s", status, out)
	}
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	status, out = send("POST", fmt.Sprintf("/projects/%d/uploads", p.ID), mw.FormDataContentType(), strings.NewReader(buf.String()))
	var up struct{ URL string }
	if err := json.Unmarshal([]byte(out), &up); status != 201 || err != nil || up.URL == "" {
		t.Fatalf("upload: %d %s", status, out)
	}
	dir := filepath.Join(dataDir, "uploads", fmt.Sprint(p.ID))
	stored := filepath.Join(dir, strings.TrimPrefix(up.URL, "/uploads/"))
	if b, err := os.ReadFile(stored); err != nil || string(b) != "hello" {
		t.Fatalf("stored file %s: %q %v", stored, b, err)
	}
	if status, out := send("DELETE", fmt.Sprintf("/projects/%d", p.ID), "", nil); status != 200 || strings.TrimSpace(out) != "true" {
		t.Fatalf("delete: %d %s", status, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("uploads dir after delete: %v, want it gone", err)
	}
}
