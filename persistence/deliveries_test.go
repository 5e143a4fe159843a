package persistence_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/pgtest"
)

// The delivery queue's tests, written once and run on each database. Each
// gets a function that opens another Store on the same database, standing
// in for a second server process.
var deliveryTests = []struct {
	name string
	fn   func(t *testing.T, s *persistence.Store, reopen func() *persistence.Store)
}{
	{"EnqueueAndClaim", testEnqueueAndClaim},
	{"EnqueueRejects", testEnqueueRejects},
	{"ClaimOrder", testClaimOrder},
	{"Complete", testCompleteDelivery},
	{"Retry", testRetryDelivery},
	{"Fail", testFailDelivery},
	{"StaleWorker", testStaleWorker},
	{"LeaseExpiry", testLeaseExpiry},
	{"NextDue", testNextDeliveryDue},
	{"ConcurrentClaims", testConcurrentClaims},
}

func TestDeliveriesSQLite(t *testing.T) {
	for _, tt := range deliveryTests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := persistence.Config{DataDir: filepath.Join(t.TempDir(), "data")}
			tt.fn(t, openStore(t, cfg), func() *persistence.Store { return openStore(t, cfg) })
		})
	}
}

func TestDeliveriesPostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	for i, tt := range deliveryTests {
		t.Run(tt.name, func(t *testing.T) {
			db := fmt.Sprintf("deliveries_%d", i)
			admin := openStore(t, persistence.Config{DatabaseURL: dsn})
			if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			cfg := persistence.Config{DatabaseURL: strings.Replace(dsn, "/postgres?", "/"+db+"?", 1)}
			tt.fn(t, openStore(t, cfg), func() *persistence.Store { return openStore(t, cfg) })
		})
	}
}

func i64(n int64) *int64 { return &n }

func delivery(hookID int64, payload string) persistence.NewDelivery {
	return persistence.NewDelivery{
		HookID: i64(hookID), HookType: persistence.HookTypeProject, URL: "http://127.0.0.1:9/hook",
		Event: "Push Hook", Payload: []byte(payload), SSLVerify: true,
	}
}

func enqueue(t *testing.T, s *persistence.Store, ds ...persistence.NewDelivery) {
	t.Helper()
	if err := s.EnqueueDeliveries(context.Background(), ds); err != nil {
		t.Fatalf("EnqueueDeliveries: %v", err)
	}
}

func claim(t *testing.T, s *persistence.Store, lease time.Duration) *persistence.HookDelivery {
	t.Helper()
	d, err := s.ClaimDelivery(context.Background(), lease)
	if err != nil {
		t.Fatalf("ClaimDelivery: %v", err)
	}
	return d
}

func wantNoClaim(t *testing.T, s *persistence.Store) {
	t.Helper()
	if d := claim(t, s, time.Minute); d != nil {
		t.Fatalf("claimed delivery %d (state %s, attempts %d), want nothing due", d.ID, d.State, d.Attempts)
	}
}

// only returns the single delivery of hookID.
func only(t *testing.T, s *persistence.Store, hookID int64) persistence.HookDelivery {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), hookID)
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(ds) != 1 {
		t.Fatalf("got %d deliveries for hook %d, want 1", len(ds), hookID)
	}
	return ds[0]
}

func testEnqueueAndClaim(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	wantNoClaim(t, s)
	sys := persistence.NewDelivery{
		HookType: persistence.HookTypeSystem, URL: "https://127.0.0.1:9/sys", Event: "System Hook",
		Payload: []byte(`{"event_name":"user_create","name":"Zoë"}`),
	}
	enqueue(t, s, delivery(7, `{"object_kind":"push"}`), sys)
	before := time.Now()

	d := claim(t, s, time.Minute)
	if d == nil {
		t.Fatal("claimed nothing, want the first delivery")
	}
	if d.HookID == nil || *d.HookID != 7 || d.HookType != "ProjectHook" || d.URL != "http://127.0.0.1:9/hook" ||
		d.Event != "Push Hook" || d.Payload != `{"object_kind":"push"}` || !d.EnableSSLVerification {
		t.Fatalf("got %+v, want hook 7's push delivery", d)
	}
	if d.State != persistence.DeliveryDelivering || d.Attempts != 1 {
		t.Fatalf("got state %s attempts %d, want delivering 1", d.State, d.Attempts)
	}
	if d.LeaseUntil == nil || d.LeaseUntil.Before(before.Add(50*time.Second)) || d.LeaseUntil.After(before.Add(70*time.Second)) {
		t.Fatalf("got lease until %v, want about a minute after %v", d.LeaseUntil, before)
	}
	if d.CreatedAt.IsZero() || d.UpdatedAt.Before(d.CreatedAt) || d.NextAttemptAt.After(before) {
		t.Fatalf("got created %v updated %v next %v, want set and due", d.CreatedAt, d.UpdatedAt, d.NextAttemptAt)
	}
	if d.LastStatus != nil || d.LastError != nil {
		t.Fatalf("got last status %v error %v, want none", d.LastStatus, d.LastError)
	}

	d2 := claim(t, s, time.Minute)
	if d2 == nil || d2.HookID != nil || d2.HookType != "SystemHook" || d2.Event != "System Hook" ||
		d2.Payload != `{"event_name":"user_create","name":"Zoë"}` || d2.EnableSSLVerification {
		t.Fatalf("got %+v, want the system hook delivery", d2)
	}
	wantNoClaim(t, s)

	// Claimed rows read back the same through the read path.
	got := only(t, s, 7)
	if got.ID != d.ID || got.State != persistence.DeliveryDelivering || got.Attempts != 1 {
		t.Fatalf("listed %+v, want the claimed delivery %d", got, d.ID)
	}
	if err := s.EnqueueDeliveries(ctx, nil); err != nil {
		t.Fatalf("enqueueing nothing: %v", err)
	}
}

func testEnqueueRejects(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	bad := []struct {
		name string
		mod  func(*persistence.NewDelivery)
	}{
		{"hook type", func(d *persistence.NewDelivery) { d.HookType = "ServiceHook" }},
		{"url", func(d *persistence.NewDelivery) { d.URL = "" }},
		{"event", func(d *persistence.NewDelivery) { d.Event = "" }},
		{"payload", func(d *persistence.NewDelivery) { d.Payload = []byte(`{"a":`) }},
	}
	for _, tt := range bad {
		d := delivery(1, `{}`)
		tt.mod(&d)
		// The good one before it must not be stored either: one transaction.
		if err := s.EnqueueDeliveries(context.Background(), []persistence.NewDelivery{delivery(1, `{}`), d}); err == nil {
			t.Errorf("%s: enqueued, want an error", tt.name)
		}
	}
	wantNoClaim(t, s)
}

func testClaimOrder(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(1, `{"n":1}`), delivery(1, `{"n":2}`), delivery(1, `{"n":3}`))
	first := claim(t, s, time.Minute)
	if first.Payload != `{"n":1}` {
		t.Fatalf("claimed %s first, want n=1", first.Payload)
	}
	// Put the first back as due a moment ago, before the other two: it
	// goes first again. Then one due in the future is not claimable.
	if err := s.RetryDelivery(ctx, first.ID, 500, "HTTP 500", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d := claim(t, s, time.Minute); d.ID != first.ID || d.Attempts != 2 {
		t.Fatalf("claimed %s attempts %d, want n=1 again on attempt 2", d.Payload, d.Attempts)
	}
	if err := s.RetryDelivery(ctx, first.ID, 0, "refused", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"n":2}`, `{"n":3}`} {
		if d := claim(t, s, time.Minute); d == nil || d.Payload != want {
			t.Fatalf("claimed %+v, want %s", d, want)
		}
	}
	wantNoClaim(t, s)
}

func testCompleteDelivery(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(3, `{}`))
	d := claim(t, s, time.Minute)
	if err := s.RetryDelivery(ctx, d.ID, 502, "HTTP 502", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	d = claim(t, s, time.Minute)
	if err := s.CompleteDelivery(ctx, d.ID, 204); err != nil {
		t.Fatal(err)
	}
	got := only(t, s, 3)
	if got.State != persistence.DeliveryDelivered || got.Attempts != 2 || got.LeaseUntil != nil ||
		got.LastStatus == nil || *got.LastStatus != 204 || got.LastError != nil {
		t.Fatalf("got %+v, want delivered on attempt 2 with status 204 and no error", got)
	}
	wantNoClaim(t, s)
	if err := s.CompleteDelivery(ctx, d.ID+100, 200); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("completing a missing delivery: got %v, want ErrNotFound", err)
	}
}

func testRetryDelivery(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(4, `{}`))
	d := claim(t, s, time.Minute)
	at := time.Now().Add(10 * time.Minute)
	if err := s.RetryDelivery(ctx, d.ID, 0, "dial tcp 127.0.0.1:9: connect: connection refused", at); err != nil {
		t.Fatal(err)
	}
	got := only(t, s, 4)
	if got.State != persistence.DeliveryPending || got.Attempts != 1 || got.LeaseUntil != nil || got.LastStatus != nil ||
		got.LastError == nil || *got.LastError != "dial tcp 127.0.0.1:9: connect: connection refused" {
		t.Fatalf("got %+v, want pending after 1 attempt with the error and no status", got)
	}
	if d := got.NextAttemptAt.Sub(at); d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("got next attempt at %v, want %v", got.NextAttemptAt, at)
	}
	wantNoClaim(t, s)

	// A long error is clipped, and only a delivering row can be retried.
	long := strings.Repeat("é", 2000)
	if err := s.RetryDelivery(ctx, d.ID, 500, long, time.Now()); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("retrying a pending delivery: got %v, want ErrNotFound", err)
	}
	if err := s.Exec(ctx, "UPDATE hook_deliveries SET next_attempt_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), d.ID); err != nil {
		t.Fatal(err)
	}
	claim(t, s, time.Minute)
	if err := s.RetryDelivery(ctx, d.ID, 500, long, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := only(t, s, 4); got.LastError == nil || len(*got.LastError) > 1024 || !strings.HasPrefix(long, *got.LastError) ||
		got.LastStatus == nil || *got.LastStatus != 500 {
		t.Fatalf("got status %v and a %d-byte error, want 500 and at most 1024 bytes of the text", got.LastStatus, len(deref(got.LastError)))
	}
}

func testFailDelivery(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(5, `{}`))
	d := claim(t, s, time.Minute)
	if err := s.FailDelivery(ctx, d.ID, 404, "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	got := only(t, s, 5)
	if got.State != persistence.DeliveryFailed || got.LeaseUntil != nil || got.LastStatus == nil || *got.LastStatus != 404 ||
		got.LastError == nil || *got.LastError != "HTTP 404" {
		t.Fatalf("got %+v, want failed with 404", got)
	}
	wantNoClaim(t, s)
	if err := s.FailDelivery(ctx, d.ID, 404, "HTTP 404"); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("failing a failed delivery: got %v, want ErrNotFound", err)
	}
}

// A worker that outlived its lease reports after another worker delivered:
// its retry must not put a delivered row back in the queue.
func testStaleWorker(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(6, `{}`))
	stale := claim(t, s, -time.Second) // a lease already run out
	fresh := claim(t, s, time.Minute)
	if fresh == nil || fresh.ID != stale.ID || fresh.Attempts != 2 {
		t.Fatalf("got %+v, want the expired delivery %d again on attempt 2", fresh, stale.ID)
	}
	if err := s.CompleteDelivery(ctx, fresh.ID, 200); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryDelivery(ctx, stale.ID, 0, "timeout", time.Now()); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("stale retry: got %v, want ErrNotFound", err)
	}
	if got := only(t, s, 6); got.State != persistence.DeliveryDelivered {
		t.Fatalf("got state %s, want delivered", got.State)
	}
}

func testLeaseExpiry(t *testing.T, s *persistence.Store, reopen func() *persistence.Store) {
	ctx := context.Background()
	enqueue(t, s, delivery(8, `{}`))
	d := claim(t, s, 300*time.Millisecond)
	wantNoClaim(t, s) // leased
	// Another process picks it up once the lease has run out.
	other := reopen()
	deadline := time.Now().Add(5 * time.Second)
	var again *persistence.HookDelivery
	for again == nil && time.Now().Before(deadline) {
		again = claim(t, other, time.Minute)
		if again == nil {
			time.Sleep(20 * time.Millisecond) // polling a condition, bounded by deadline
		}
	}
	if again == nil {
		t.Fatal("the expired delivery was never claimable again")
	}
	if again.ID != d.ID || again.Attempts != 2 || again.State != persistence.DeliveryDelivering {
		t.Fatalf("got %+v, want delivery %d delivering on attempt 2", again, d.ID)
	}
	if again.LeaseUntil == nil || !again.LeaseUntil.After(time.Now().Add(50*time.Second)) {
		t.Fatalf("got lease until %v, want a fresh minute", again.LeaseUntil)
	}
	wantNoClaim(t, s)
	if err := other.CompleteDelivery(ctx, d.ID, 200); err != nil {
		t.Fatal(err)
	}
}

func testNextDeliveryDue(t *testing.T, s *persistence.Store, _ func() *persistence.Store) {
	ctx := context.Background()
	if _, ok, err := s.NextDeliveryDue(ctx); err != nil || ok {
		t.Fatalf("empty queue: got ok=%v err=%v, want nothing", ok, err)
	}
	enqueue(t, s, delivery(9, `{"n":1}`), delivery(9, `{"n":2}`))
	a := claim(t, s, time.Hour)
	b := claim(t, s, time.Hour)
	near := time.Now().Add(10 * time.Minute)
	if err := s.RetryDelivery(ctx, a.ID, 500, "HTTP 500", time.Now().Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryDelivery(ctx, b.ID, 500, "HTTP 500", near); err != nil {
		t.Fatal(err)
	}
	at, ok, err := s.NextDeliveryDue(ctx)
	if err != nil || !ok || at.Sub(near).Abs() > time.Millisecond {
		t.Fatalf("got %v ok=%v err=%v, want %v", at, ok, err, near)
	}
	// A lease running out sooner counts too: that delivery becomes due then.
	enqueue(t, s, delivery(9, `{"n":3}`))
	c := claim(t, s, time.Minute)
	at, ok, err = s.NextDeliveryDue(ctx)
	if err != nil || !ok || at.Sub(*c.LeaseUntil).Abs() > time.Millisecond {
		t.Fatalf("got %v ok=%v err=%v, want the lease end %v", at, ok, err, c.LeaseUntil)
	}
	for _, d := range []*persistence.HookDelivery{c} {
		if err := s.CompleteDelivery(ctx, d.ID, 200); err != nil {
			t.Fatal(err)
		}
	}
	if at, _, _ = s.NextDeliveryDue(ctx); at.Sub(near).Abs() > time.Millisecond {
		t.Fatalf("got %v, want %v once the lease is gone", at, near)
	}
}

// Two stores on one database (two processes), 8 claimers each, 500
// deliveries: every delivery is claimed and delivered exactly once.
func testConcurrentClaims(t *testing.T, s *persistence.Store, reopen func() *persistence.Store) {
	const total, claimers = 500, 16
	ctx := context.Background()
	ds := make([]persistence.NewDelivery, total)
	for i := range ds {
		ds[i] = delivery(10, fmt.Sprintf(`{"n":%d}`, i))
	}
	enqueue(t, s, ds...)
	stores := []*persistence.Store{s, reopen()}

	var (
		mu      sync.Mutex
		claimed = map[int64]int{}
		perG    = make([]int, claimers)
		errs    = make(chan error, claimers)
		wg      sync.WaitGroup
	)
	for g := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[g%len(stores)]
			for {
				d, err := st.ClaimDelivery(ctx, time.Hour)
				if err != nil {
					errs <- fmt.Errorf("claimer %d: %w", g, err)
					return
				}
				if d == nil {
					return
				}
				perG[g]++
				mu.Lock()
				claimed[d.ID]++
				mu.Unlock()
				if err := st.CompleteDelivery(ctx, d.ID, 200); err != nil {
					errs <- fmt.Errorf("claimer %d: complete %d: %w", g, d.ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sum := 0
	for _, n := range perG {
		sum += n
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times, want once", id, n)
		}
	}
	if sum != total || len(claimed) != total {
		t.Fatalf("got %d claims of %d distinct deliveries, want %d of %d (per claimer %v)", sum, len(claimed), total, total, perG)
	}
	rows, err := s.ListDeliveries(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for _, d := range rows {
		if d.State == persistence.DeliveryDelivered && d.Attempts == 1 && claimed[d.ID] == 1 {
			delivered++
		}
	}
	if len(rows) != total || delivered != total {
		t.Fatalf("got %d rows, %d delivered on the first attempt, want %d of %d", len(rows), delivered, total, total)
	}
	wantNoClaim(t, s)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
