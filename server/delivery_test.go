package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server"
)

// quietLog drops the deliverer's log lines.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testDelivererConfig retries at once and never polls: every wake-up in
// these tests comes from Enqueue, a retry falling due, or a lease running
// out, so a worker that missed one would stall and fail the test.
func testDelivererConfig() server.DelivererConfig {
	return server.DelivererConfig{
		Timeout:      5 * time.Second,
		MaxAttempts:  5,
		Backoff:      func(int) time.Duration { return time.Millisecond },
		PollInterval: time.Hour,
		Logger:       quietLog,
	}
}

func openDeliveryStore(t *testing.T, dir string) *persistence.Store {
	t.Helper()
	s, err := persistence.Open(context.Background(), persistence.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// startDeliverer runs a Deliverer until the returned stop is called or
// the test ends; stop waits for Run to return.
func startDeliverer(t *testing.T, s server.DeliveryStore, cfg server.DelivererConfig) (*server.Deliverer, func()) {
	t.Helper()
	d := server.NewDeliverer(s, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("Run did not return after its context was canceled")
			}
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// eventually polls cond until it holds or 15s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hookDelivery(t *testing.T, s *persistence.Store, hookID int64) persistence.HookDelivery {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), hookID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("got %d deliveries for hook %d, want 1", len(ds), hookID)
	}
	return ds[0]
}

// waitState waits until hook's one delivery leaves pending/delivering and
// checks where it ended.
func waitState(t *testing.T, s *persistence.Store, hookID int64, state string, attempts int) persistence.HookDelivery {
	t.Helper()
	var d persistence.HookDelivery
	eventually(t, fmt.Sprintf("hook %d's delivery is %s", hookID, state), func() bool {
		d = hookDelivery(t, s, hookID)
		return d.State == persistence.DeliveryDelivered || d.State == persistence.DeliveryFailed
	})
	if d.State != state || d.Attempts != attempts {
		t.Fatalf("got %s after %d attempts (status %v, error %q), want %s after %d",
			d.State, d.Attempts, d.LastStatus, deref(d.LastError), state, attempts)
	}
	return d
}

func newHook(hookID int64, url, payload string) persistence.NewDelivery {
	return persistence.NewDelivery{
		HookID: &hookID, HookType: persistence.HookTypeProject, URL: url,
		Event: "Push Hook", Payload: []byte(payload), SSLVerify: true,
	}
}

func enqueueHooks(t *testing.T, d *server.Deliverer, ds ...persistence.NewDelivery) {
	t.Helper()
	if err := d.Enqueue(context.Background(), ds); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

// receiver records what it is sent and answers with the statuses given,
// the last one repeated.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	hits     []hit
	statuses []int
}

// hit is one request as the receiver saw it.
type hit struct {
	method, path, query string
	header              http.Header
	body                string
}

func newReceiver(t *testing.T, tls bool, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.hits)
		r.hits = append(r.hits, hit{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(b)})
		status := r.statuses[min(n, len(r.statuses)-1)]
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"message":"noted"}`)
	}))
	// Refused handshakes are the point of some tests; keep them quiet.
	r.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		r.StartTLS()
	} else {
		r.Start()
	}
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func (r *receiver) count() int { return len(r.got()) }

func (r *receiver) bodies() []string {
	var bs []string
	for _, h := range r.got() {
		bs = append(bs, h.body)
	}
	return bs
}

func TestDeliverBodyAndHeaders(t *testing.T) {
	tests := []struct {
		name     string
		hookType string
		event    string
		status   int
	}{
		{"project hook, 200", persistence.HookTypeProject, "Push Hook", http.StatusOK},
		{"system hook, 204", persistence.HookTypeSystem, "System Hook", http.StatusNoContent},
		{"project hook, 202", persistence.HookTypeProject, "Tag Push Hook", http.StatusAccepted},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openDeliveryStore(t, t.TempDir())
			rcv := newReceiver(t, false, tt.status)
			d, _ := startDeliverer(t, s, testDelivererConfig())
			payload := `{"object_kind":"push","ref":"refs/heads/master","commits":[{"message":"Zoë's fix\n"}]}`
			nd := newHook(int64(i+1), rcv.URL+"/hooks/receive?x=1", payload)
			nd.HookType, nd.Event = tt.hookType, tt.event
			enqueueHooks(t, d, nd)

			got := waitState(t, s, int64(i+1), persistence.DeliveryDelivered, 1)
			if got.LastStatus == nil || *got.LastStatus != tt.status || got.LastError != nil {
				t.Fatalf("got status %v error %v, want %d and none", got.LastStatus, got.LastError, tt.status)
			}
			hits := rcv.got()
			if len(hits) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(hits))
			}
			h := hits[0]
			if h.method != http.MethodPost || h.path != "/hooks/receive" || h.query != "x=1" {
				t.Errorf("got %s %s?%s, want POST /hooks/receive?x=1", h.method, h.path, h.query)
			}
			if h.body != payload {
				t.Errorf("got body %q, want %q", h.body, payload)
			}
			if ct := h.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", ct)
			}
			if ev := h.header.Get("X-Gitlab-Event"); ev != tt.event {
				t.Errorf("got X-Gitlab-Event %q, want %q", ev, tt.event)
			}
			if tok, ok := h.header["X-Gitlab-Token"]; ok {
				t.Errorf("got X-Gitlab-Token %q, want none (GitLab 8.7 sent none)", tok)
			}
		})
	}
}

func TestDeliverRetriesUntilSuccess(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	rcv := newReceiver(t, false, 500, 500, 200)
	var attempts []int
	var mu sync.Mutex
	cfg := testDelivererConfig()
	cfg.Backoff = func(n int) time.Duration {
		mu.Lock()
		attempts = append(attempts, n)
		mu.Unlock()
		return time.Millisecond
	}
	d, _ := startDeliverer(t, s, cfg)
	enqueueHooks(t, d, newHook(1, rcv.URL, `{"n":1}`))

	got := waitState(t, s, 1, persistence.DeliveryDelivered, 3)
	if got.LastStatus == nil || *got.LastStatus != 200 {
		t.Fatalf("got last status %v, want 200", got.LastStatus)
	}
	if n := rcv.count(); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	for i, b := range rcv.bodies() {
		if b != `{"n":1}` {
			t.Errorf("attempt %d: got body %q, want the same payload each time", i+1, b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(attempts) != "[1 2]" {
		t.Fatalf("Backoff was asked for %v, want [1 2]", attempts)
	}
}

func TestDeliverGivesUp(t *testing.T) {
	// A port nothing listens on: bind one, note it, close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/hook"
	l.Close()

	tests := []struct {
		name       string
		status     int // receiver's answer; 0 for the refusing port
		wantStatus int
		wantErr    string
	}{
		{"always 500", 500, 500, "HTTP 500 Internal Server Error"},
		{"always 404", 404, 404, "HTTP 404 Not Found"},
		{"connection refused", 0, 0, "connection refused"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openDeliveryStore(t, t.TempDir())
			url, rcv := refused, (*receiver)(nil)
			if tt.status != 0 {
				rcv = newReceiver(t, false, tt.status)
				url = rcv.URL
			}
			cfg := testDelivererConfig()
			cfg.MaxAttempts = 3
			d, _ := startDeliverer(t, s, cfg)
			enqueueHooks(t, d, newHook(int64(i+1), url, `{}`))

			got := waitState(t, s, int64(i+1), persistence.DeliveryFailed, 3)
			if deref(got.LastStatus) != tt.wantStatus || !strings.Contains(deref(got.LastError), tt.wantErr) {
				t.Fatalf("got status %v error %q, want %d and %q", got.LastStatus, deref(got.LastError), tt.wantStatus, tt.wantErr)
			}
			if rcv != nil && rcv.count() != 3 {
				t.Fatalf("receiver got %d requests, want 3", rcv.count())
			}
		})
	}
}

func TestDeliverInvalidURLFailsAtOnce(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	d, _ := startDeliverer(t, s, testDelivererConfig())
	enqueueHooks(t, d, newHook(1, "http://127.0.0.1:1/%zz", `{}`), newHook(2, "ftp://127.0.0.1/x", `{}`))
	for hook, want := range map[int64]string{1: "invalid hook URL", 2: `scheme "ftp"`} {
		if got := waitState(t, s, hook, persistence.DeliveryFailed, 1); !strings.Contains(deref(got.LastError), want) {
			t.Errorf("hook %d: got error %q, want %q", hook, deref(got.LastError), want)
		}
	}
}

func TestDeliverSSLVerification(t *testing.T) {
	tests := []struct {
		name      string
		verify    bool
		wantState string
		wantTries int
	}{
		{"verification on, self-signed certificate", true, persistence.DeliveryFailed, 2},
		{"verification off", false, persistence.DeliveryDelivered, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openDeliveryStore(t, t.TempDir())
			rcv := newReceiver(t, true, 200)
			cfg := testDelivererConfig()
			cfg.MaxAttempts = 2
			d, _ := startDeliverer(t, s, cfg)
			nd := newHook(int64(i+1), rcv.URL, `{"secure":true}`)
			nd.SSLVerify = tt.verify
			enqueueHooks(t, d, nd)

			got := waitState(t, s, int64(i+1), tt.wantState, tt.wantTries)
			if tt.verify {
				if !strings.Contains(deref(got.LastError), "certificate") || rcv.count() != 0 {
					t.Fatalf("got error %q and %d requests through, want a certificate error and none", deref(got.LastError), rcv.count())
				}
				return
			}
			if b := rcv.bodies(); len(b) != 1 || b[0] != `{"secure":true}` {
				t.Fatalf("receiver got %q, want the payload once", b)
			}
		})
	}
}

// A receiver slower than Timeout: the attempt is abandoned and retried.
func TestDeliverTimeout(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	var calls atomic.Int32
	abandoned := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leave
		if calls.Add(1) == 1 {
			// Answer only when the deliverer has given up on us.
			select {
			case <-r.Context().Done():
				close(abandoned)
			case <-time.After(30 * time.Second):
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rcv.Close)
	cfg := testDelivererConfig()
	cfg.Timeout = 200 * time.Millisecond
	d, _ := startDeliverer(t, s, cfg)
	enqueueHooks(t, d, newHook(1, rcv.URL, `{}`))

	waitState(t, s, 1, persistence.DeliveryDelivered, 2)
	select {
	case <-abandoned:
	default:
		t.Fatal("the first attempt was not abandoned by the deliverer")
	}

	// And one that never answers in time ends failed, saying why.
	cfg.MaxAttempts = 1
	d2, _ := startDeliverer(t, s, cfg)
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(stuck.Close)
	enqueueHooks(t, d2, newHook(2, stuck.URL, `{}`))
	if got := waitState(t, s, 2, persistence.DeliveryFailed, 1); !strings.Contains(deref(got.LastError), "timed out after 200ms") {
		t.Fatalf("got error %q, want a timeout", deref(got.LastError))
	}
}

// blockingReceiver holds every request until released.
type blockingReceiver struct {
	*httptest.Server
	arrived chan string
	release chan struct{}
	once    sync.Once
}

func newBlockingReceiver(t *testing.T) *blockingReceiver {
	t.Helper()
	b := &blockingReceiver{arrived: make(chan string, 16), release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.arrived <- string(body)
		<-b.release
	}))
	t.Cleanup(b.Close)
	t.Cleanup(b.open) // before Close: Close waits for handlers
	return b
}

func (b *blockingReceiver) open() { b.once.Do(func() { close(b.release) }) }

func (b *blockingReceiver) wait(t *testing.T) string {
	t.Helper()
	select {
	case body := <-b.arrived:
		return body
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for a delivery to arrive")
		return ""
	}
}

func TestDeliverEnqueueDoesNotWait(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	rcv := newBlockingReceiver(t)
	d, _ := startDeliverer(t, s, testDelivererConfig())

	returned := make(chan error, 1)
	go func() {
		returned <- d.Enqueue(context.Background(), []persistence.NewDelivery{newHook(1, rcv.URL, `{"n":1}`)})
	}()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Enqueue is waiting for the receiver")
	}
	if body := rcv.wait(t); body != `{"n":1}` {
		t.Fatalf("got %q, want the payload", body)
	}
	// The receiver holds the request: Enqueue returned before any answer.
	if got := hookDelivery(t, s, 1); got.State != persistence.DeliveryDelivering {
		t.Fatalf("got state %s while the receiver holds the request, want delivering", got.State)
	}
	rcv.open()
	waitState(t, s, 1, persistence.DeliveryDelivered, 1)
}

// Deliveries outlive the process: queued with no Deliverer running, or
// claimed by a process that died mid-attempt, a new Deliverer on the same
// database file sends them.
func TestDeliverAfterRestart(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t, false, 200)

	first := openDeliveryStore(t, dir)
	d := server.NewDeliverer(first, testDelivererConfig()) // never run
	// Claimed by a process that died mid-attempt: its lease runs out.
	enqueueHooks(t, d, newHook(1, rcv.URL, `{"n":1}`))
	if hd, err := first.ClaimDelivery(context.Background(), 300*time.Millisecond); err != nil || hd == nil {
		t.Fatalf("claim: got %v, %v", hd, err)
	}
	// Queued by a process that exits before delivering anything.
	enqueueHooks(t, d, newHook(2, rcv.URL, `{"n":2}`), newHook(3, rcv.URL, `{"n":3}`))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openDeliveryStore(t, dir)
	startDeliverer(t, second, testDelivererConfig())
	// With PollInterval an hour, the lease's end itself must wake a worker.
	waitState(t, second, 1, persistence.DeliveryDelivered, 2)
	waitState(t, second, 2, persistence.DeliveryDelivered, 1)
	waitState(t, second, 3, persistence.DeliveryDelivered, 1)
	got := map[string]int{}
	for _, b := range rcv.bodies() {
		got[b]++
	}
	if len(got) != 3 || got[`{"n":1}`] != 1 || got[`{"n":2}`] != 1 || got[`{"n":3}`] != 1 {
		t.Fatalf("receiver got %q, want each payload once", rcv.bodies())
	}
}

// Stopping a Deliverer lets the attempt in flight finish and record its
// outcome; what is queued afterwards waits for the next Deliverer.
func TestDeliverStopMidway(t *testing.T) {
	dir := t.TempDir()
	s := openDeliveryStore(t, dir)
	rcv := newBlockingReceiver(t)
	d, stop := startDeliverer(t, s, testDelivererConfig())
	enqueueHooks(t, d, newHook(1, rcv.URL, `{"n":1}`))
	rcv.wait(t)

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// Run waits for the attempt in flight.
	select {
	case <-stopped:
		t.Fatal("Run returned while an attempt was in flight")
	case <-time.After(50 * time.Millisecond): // a bounded check that it is still waiting, not a synchronization
	}
	rcv.open()
	<-stopped
	waitState(t, s, 1, persistence.DeliveryDelivered, 1)

	// Queued while no Deliverer runs: nothing is sent …
	enqueueHooks(t, d, newHook(2, rcv.URL, `{"n":2}`))
	if got := hookDelivery(t, s, 2); got.State != persistence.DeliveryPending || got.Attempts != 0 {
		t.Fatalf("got %s after %d attempts with the deliverer stopped, want pending, 0", got.State, got.Attempts)
	}
	// … until one starts on the same database file.
	s.Close()
	s2 := openDeliveryStore(t, dir)
	startDeliverer(t, s2, testDelivererConfig())
	if body := rcv.wait(t); body != `{"n":2}` {
		t.Fatalf("got %q, want the second payload", body)
	}
	waitState(t, s2, 2, persistence.DeliveryDelivered, 1)
}

// syncBuffer is a bytes.Buffer safe for the workers' concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Credentials in a hook URL go to the receiver as basic auth, as GitLab
// sent them, and never into the logs or stored errors; nor do payloads.
func TestDeliverKeepsSecretsOutOfLogs(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	rcv := newReceiver(t, false, 500, 200)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()

	var logs syncBuffer
	cfg := testDelivererConfig()
	cfg.MaxAttempts = 2
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, _ := startDeliverer(t, s, cfg)
	secretURL := func(hostport string) string {
		return "http://hookuser:s3cr3t-pass@" + hostport + "/hook?token=q-s3cr3t"
	}
	enqueueHooks(t, d,
		newHook(1, secretURL(strings.TrimPrefix(rcv.URL, "http://")), `{"password":"payload-s3cr3t"}`),
		newHook(2, secretURL(refused), `{"password":"payload-s3cr3t"}`))

	waitState(t, s, 1, persistence.DeliveryDelivered, 2)
	failed := waitState(t, s, 2, persistence.DeliveryFailed, 2)
	hits := rcv.got()
	user, pass, ok := (&http.Request{Header: hits[1].header}).BasicAuth()
	if !ok || user != "hookuser" || pass != "s3cr3t-pass" {
		t.Fatalf("got basic auth %q %q (%v), want hookuser and the password", user, pass, ok)
	}
	out := logs.String()
	for _, want := range []string{"hook delivered", "will retry", "giving up", "/hook"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"hookuser", "s3cr3t"} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, out)
		}
		if strings.Contains(deref(failed.LastError), secret) {
			t.Errorf("the stored error %q holds %q", deref(failed.LastError), secret)
		}
	}
}

// Many deliveries to one receiver: each arrives exactly once when all
// succeed.
func TestDeliverMany(t *testing.T) {
	s := openDeliveryStore(t, t.TempDir())
	rcv := newReceiver(t, false, 200)
	d, _ := startDeliverer(t, s, testDelivererConfig())
	const n = 60
	ds := make([]persistence.NewDelivery, n)
	for i := range ds {
		ds[i] = newHook(1, rcv.URL, fmt.Sprintf(`{"n":%d}`, i))
	}
	// Half in one batch, the rest one at a time.
	enqueueHooks(t, d, ds[:n/2]...)
	for _, nd := range ds[n/2:] {
		enqueueHooks(t, d, nd)
	}
	eventually(t, "all deliveries are delivered", func() bool {
		rows, err := s.ListDeliveries(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.State != persistence.DeliveryDelivered {
				return false
			}
		}
		return len(rows) == n
	})
	seen := map[string]int{}
	for _, b := range rcv.bodies() {
		seen[b]++
	}
	for i := range n {
		if c := seen[fmt.Sprintf(`{"n":%d}`, i)]; c != 1 {
			t.Errorf("payload %d arrived %d times, want once", i, c)
		}
	}
}

func TestDeliverDefaultBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{
		{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {5, 160 * time.Second},
		{9, 2560 * time.Second}, {10, time.Hour}, {64, time.Hour}, {1000, time.Hour},
	} {
		if got := server.DefaultBackoff(tt.attempt); got != tt.want {
			t.Errorf("DefaultBackoff(%d): got %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
