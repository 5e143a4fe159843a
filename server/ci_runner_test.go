package server_test

// The runner protocol against server.New over loopback HTTP on a real
// store: the exactly-once stress test (SQLite and PostgreSQL), the cost of
// an idle poll, and the timeout sweep's effect on a runner.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/pgtest"
	"github.com/labrador-dev/labrador/server"
)

// runnerUA is what gitlab-ci-multi-runner 1.1 sends.
const runnerUA = "gitlab-ci-multi-runner 1.1.0 (1-1-stable; go1.5.1; linux/amd64)"

// ciFixture is a server on a fresh store with the shared registration
// token "regtoken" and one project.
type ciFixture struct {
	srv       *server.Server
	store     *persistence.Store
	url       string
	projectID int64
	client    *http.Client
}

func newCIFixture(tb testing.TB, dialect string) *ciFixture {
	tb.Helper()
	ctx := context.Background()
	dataDir := filepath.Join(tb.TempDir(), "data")
	cfg := persistence.Config{DataDir: dataDir, BcryptCost: bcrypt.MinCost}
	if dialect == "postgres" {
		cfg.DatabaseURL = pgtest.Start(tb)
	}
	store, err := persistence.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := store.Bootstrap(ctx, persistence.Bootstrap{RootPassword: "rootpassword", RunnersRegistrationToken: "regtoken"}); err != nil {
		tb.Fatal(err)
	}
	root, err := store.Authenticate(ctx, "root", "rootpassword")
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, store)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	f := &ciFixture{srv: srv, store: store, url: ts.URL,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}}
	tb.Cleanup(f.client.CloseIdleConnections)
	req, _ := http.NewRequest("POST", ts.URL+"/api/v3/projects", strings.NewReader(`{"name":"builder"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("PRIVATE-TOKEN", root.PrivateToken)
	status, body := f.do(tb, req)
	if status != http.StatusCreated {
		tb.Fatalf("create project: %d %s", status, body)
	}
	var p struct{ ID int64 }
	if err := json.Unmarshal(body, &p); err != nil {
		tb.Fatal(err)
	}
	f.projectID = p.ID
	return f
}

func (f *ciFixture) do(tb testing.TB, req *http.Request) (int, []byte) {
	resp, err := f.client.Do(req)
	if err != nil {
		tb.Errorf("%s %s: %v", req.Method, req.URL, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// ci sends a JSON call of the runner protocol as runners do.
func (f *ciFixture) ci(tb testing.TB, method, path string, body any) (int, []byte) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, f.url+"/ci/api/v1"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", runnerUA)
	return f.do(tb, req)
}

func (f *ciFixture) register(tb testing.TB) string {
	tb.Helper()
	status, body := f.ci(tb, "POST", "/runners/register.json", map[string]any{"token": "regtoken", "description": "stress"})
	if status != http.StatusCreated {
		tb.Fatalf("register: %d %s", status, body)
	}
	var r struct{ Token string }
	json.Unmarshal(body, &r)
	return r.Token
}

// seed puts n pending builds of the fixture's project in the queue.
func (f *ciFixture) seed(tb testing.TB, n int) {
	tb.Helper()
	stage, ref, cmds := "test", "master", "echo hello"
	builds := make([]persistence.CommitStatus, n)
	for i := range builds {
		builds[i] = persistence.CommitStatus{ProjectID: f.projectID, SHA: "0123456789012345678901234567890123456789",
			PipelineRef: ref, Ref: &ref, Name: fmt.Sprintf("job%d", i), Stage: &stage, Commands: &cmds}
	}
	if err := f.store.InsertBuilds(context.Background(), builds); err != nil {
		tb.Fatal(err)
	}
}

// TestExactlyOnce: 32 runners drain 10,000 pending builds concurrently;
// every build is handed out once, none is lost, and the database agrees.
func TestExactlyOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			const runners, builds = 32, 10000
			f := newCIFixture(t, dialect)
			f.seed(t, builds)
			tokens := make([]string, runners)
			for i := range tokens {
				tokens[i] = f.register(t)
			}
			var mu sync.Mutex
			owner := map[int64]int{} // build id → runner index
			var dup atomic.Int64
			var wg sync.WaitGroup
			for i, tok := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						status, body := f.ci(t, "POST", "/builds/register.json", map[string]any{"token": tok})
						switch status {
						case http.StatusCreated:
						case http.StatusNoContent:
							return // the queue is drained (nothing else adds to it)
						default:
							t.Errorf("runner %d: poll answered %d %s", i, status, body)
							return
						}
						var b struct {
							ID     int64
							Status string
						}
						if err := json.Unmarshal(body, &b); err != nil || b.ID == 0 || b.Status != "running" {
							t.Errorf("runner %d: payload %s (%v)", i, body, err)
							return
						}
						mu.Lock()
						if prev, ok := owner[b.ID]; ok {
							dup.Add(1)
							t.Errorf("build %d handed to runner %d and runner %d", b.ID, prev, i)
						}
						owner[b.ID] = i
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if dup.Load() != 0 || len(owner) != builds {
				t.Fatalf("handed out %d distinct builds with %d duplicates, want %d and 0", len(owner), dup.Load(), builds)
			}
			// Reconcile with the database: every build running, on the
			// runner that was told so.
			ctx := context.Background()
			ids := map[string]int64{}
			for i, tok := range tokens {
				r, err := f.store.RunnerByToken(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				ids[fmt.Sprint(i)] = r.ID
			}
			var running int
			for id, i := range owner {
				b, err := f.store.GetBuild(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if b.Status == persistence.StatusRunning && b.RunnerID != nil && *b.RunnerID == ids[fmt.Sprint(i)] {
					running++
				}
			}
			_, pending, err := f.store.PollRunner(ctx, tokens[0])
			if err != nil {
				t.Fatal(err)
			}
			if running != builds || pending {
				t.Errorf("database: %d builds running on the runner told, pending left: %v; want %d, false", running, pending, builds)
			}
			per := make([]int, runners)
			for _, i := range owner {
				per[i]++
			}
			t.Logf("%s: %d builds to %d runners, per runner %v", dialect, len(owner), runners, per)
		})
	}
}

// TestIdlePollIsOneIndexedQuery counts the statements of polls with nothing
// pending: one each, reading indexes only (no write: contacted_at is
// written at most once a minute).
func TestIdlePollIsOneIndexedQuery(t *testing.T) {
	f := newCIFixture(t, "sqlite")
	tok := f.register(t)
	info := map[string]any{"name": "gitlab-ci-multi-runner", "version": "1.1.0", "platform": "linux", "architecture": "amd64"}
	// The first poll records the contact and the info.
	if status, body := f.ci(t, "POST", "/builds/register.json", map[string]any{"token": tok, "info": info}); status != http.StatusNoContent {
		t.Fatalf("first poll: %d %s", status, body)
	}
	var mu sync.Mutex
	var stmts []string
	f.store.ObserveStatements(func(sql string) {
		mu.Lock()
		stmts = append(stmts, sql)
		mu.Unlock()
	})
	const polls = 20
	for i := 0; i < polls; i++ {
		if status, body := f.ci(t, "POST", "/builds/register.json", map[string]any{"token": tok, "info": info}); status != http.StatusNoContent {
			t.Fatalf("poll: %d %s", status, body)
		}
	}
	mu.Lock()
	if len(stmts) != polls {
		t.Errorf("%d polls ran %d statements, want one each:\n%s", polls, len(stmts), strings.Join(stmts, "\n"))
	}
	mu.Unlock()
	plan, err := f.store.ExplainPoll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(plan), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "SCAN") {
			t.Errorf("the poll scans a table:\n%s", plan)
		}
	}
	t.Logf("the poll's plan:\n%s", plan)
}

// TestTimeoutSweep: a build running past its project's timeout is failed
// by the sweep, and its runner learns it (404 on update, Build-Status on a
// trace patch).
func TestTimeoutSweep(t *testing.T) {
	f := newCIFixture(t, "sqlite")
	tok := f.register(t)
	f.seed(t, 1)
	status, body := f.ci(t, "POST", "/builds/register.json", map[string]any{"token": tok})
	if status != http.StatusCreated {
		t.Fatalf("claim: %d %s", status, body)
	}
	var b struct {
		ID    int64
		Token string
	}
	json.Unmarshal(body, &b)
	ctx := context.Background()
	if err := f.srv.SweepTimedOutBuilds(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetBuild(ctx, b.ID); got.Status != persistence.StatusRunning {
		t.Fatalf("a fresh build was swept: %s", got.Status)
	}
	if err := f.store.Exec(ctx, "UPDATE commit_statuses SET started_at = ? WHERE id = ?", time.Now().UTC().Add(-61*time.Minute), b.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.SweepTimedOutBuilds(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetBuild(ctx, b.ID); got.Status != persistence.StatusFailed || got.FinishedAt == nil {
		t.Fatalf("after the sweep: %s %v, want failed", got.Status, got.FinishedAt)
	}
	if status, body := f.ci(t, "PUT", fmt.Sprintf("/builds/%d.json", b.ID), map[string]any{"token": tok, "state": "success"}); status != http.StatusNotFound {
		t.Errorf("runner update after timeout: %d %s, want 404", status, body)
	}
	req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/ci/api/v1/builds/%d/trace.txt", f.url, b.ID), strings.NewReader("x"))
	req.Header.Set("BUILD-TOKEN", b.Token)
	req.Header.Set("Content-Range", "0-0")
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Build-Status") != "failed" {
		t.Errorf("trace patch after timeout: %d Build-Status %q, want 202 failed", resp.StatusCode, resp.Header.Get("Build-Status"))
	}
}
