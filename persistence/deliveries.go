package persistence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Hook types, as GitLab's web_hooks.type named them.
const (
	HookTypeProject = "ProjectHook"
	HookTypeSystem  = "SystemHook"
)

// Delivery states. A delivery is pending until a worker claims it, then
// delivering under a lease; it ends delivered or failed, or goes back to
// pending for another attempt. A delivering row whose lease ran out (its
// worker died) is claimable again, so nothing enqueued is lost.
const (
	DeliveryPending    = "pending"
	DeliveryDelivering = "delivering"
	DeliveryDelivered  = "delivered"
	DeliveryFailed     = "failed"
)

// maxDeliveryError bounds last_error; transport errors are short, but a
// text column should not grow with whatever a receiver makes us say.
const maxDeliveryError = 1024

// HookDelivery is a row of hook_deliveries: one payload for one hook URL.
type HookDelivery struct {
	ID                    int64 `gorm:"primaryKey"`
	HookID                *int64
	HookType              string
	URL                   string
	Event                 string // the X-Gitlab-Event header, e.g. "Push Hook"
	Payload               string // JSON text
	EnableSSLVerification bool   `gorm:"column:enable_ssl_verification"`
	State                 string
	Attempts              int
	NextAttemptAt         time.Time
	LeaseUntil            *time.Time
	LastStatus            *int
	LastError             *string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// TableName names the table (GORM would guess it, but the SQL below names it).
func (HookDelivery) TableName() string { return "hook_deliveries" }

// NewDelivery is one delivery to enqueue.
type NewDelivery struct {
	HookID    *int64 // nil when the hook has no row (none yet, but keep it possible)
	HookType  string // HookTypeProject or HookTypeSystem
	URL       string
	Event     string
	Payload   []byte // JSON
	SSLVerify bool
}

// deliveryColumns are the columns every query returns, in struct order.
const deliveryColumns = `id, hook_id, hook_type, url, event, payload, enable_ssl_verification, state,
	attempts, next_attempt_at, lease_until, last_status, last_error, created_at, updated_at`

// EnqueueDeliveries stores ds, due at once, in one transaction: either all
// are queued or none.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []NewDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := s.now()
	rows := make([]HookDelivery, len(ds))
	for i, d := range ds {
		if err := d.check(); err != nil {
			return fmt.Errorf("delivery %d: %w", i, err)
		}
		rows[i] = HookDelivery{
			HookID: d.HookID, HookType: d.HookType, URL: d.URL, Event: d.Event,
			Payload: string(d.Payload), EnableSSLVerification: d.SSLVerify,
			State: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		}
	}
	return s.write(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.CreateInBatches(rows, 100).Error
	})
}

func (d *NewDelivery) check() error {
	switch {
	case d.HookType != HookTypeProject && d.HookType != HookTypeSystem:
		return fmt.Errorf("hook type %q is neither %s nor %s", d.HookType, HookTypeProject, HookTypeSystem)
	case d.URL == "":
		return errors.New("no URL")
	case d.Event == "":
		return errors.New("no event")
	case !json.Valid(d.Payload):
		return errors.New("payload is not JSON")
	}
	return nil
}

// ClaimDelivery takes the oldest due delivery — pending and due, or
// delivering with its lease run out — and marks it delivering until
// now+lease, counting the attempt. One UPDATE … RETURNING does it, so
// exactly one claimer wins a row, whether the claimers share this Store or
// not. On PostgreSQL the row is picked FOR UPDATE SKIP LOCKED, so
// concurrent claimers take different rows instead of queueing for one and
// coming back empty. It returns (nil, nil) when nothing is due.
func (s *Store) ClaimDelivery(ctx context.Context, lease time.Duration) (*HookDelivery, error) {
	now := s.now()
	skipLocked := ""
	if s.dialect == "postgres" {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	const due = `((state = 'pending' AND next_attempt_at <= @now) OR (state = 'delivering' AND lease_until <= @now))`
	sql := `UPDATE hook_deliveries SET state = 'delivering', lease_until = @lease, attempts = attempts + 1, updated_at = @now
		WHERE id = (SELECT id FROM hook_deliveries WHERE ` + due + ` ORDER BY next_attempt_at, id LIMIT 1` + skipLocked + `)
		AND ` + due + `
		RETURNING ` + deliveryColumns
	var rows []HookDelivery
	err := s.write(ctx).Raw(sql, map[string]any{"now": now, "lease": now.Add(lease)}).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// CompleteDelivery records a successful attempt. A receiver got the payload,
// so this wins whatever state the row is in (even if the lease ran out
// meanwhile and another worker took it).
func (s *Store) CompleteDelivery(ctx context.Context, id int64, status int) error {
	res := s.write(ctx).Model(&HookDelivery{}).Where("id = ?", id).Updates(map[string]any{
		"state": DeliveryDelivered, "lease_until": nil, "last_status": nullStatus(status),
		"last_error": nil, "updated_at": s.now(),
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// RetryDelivery records a failed attempt and makes the delivery due again
// at at. status 0 means there was no HTTP response. It returns ErrNotFound
// unless the row is delivering: a worker whose lease ran out must not undo
// what another worker has recorded since.
func (s *Store) RetryDelivery(ctx context.Context, id int64, status int, errText string, at time.Time) error {
	return s.endAttempt(ctx, id, map[string]any{
		"state": DeliveryPending, "next_attempt_at": at.UTC().Truncate(time.Microsecond),
		"lease_until": nil, "last_status": nullStatus(status), "last_error": clip(errText),
	})
}

// FailDelivery records the last failed attempt of a delivery given up on;
// like RetryDelivery it only touches a delivering row.
func (s *Store) FailDelivery(ctx context.Context, id int64, status int, errText string) error {
	return s.endAttempt(ctx, id, map[string]any{
		"state": DeliveryFailed, "lease_until": nil, "last_status": nullStatus(status),
		"last_error": clip(errText),
	})
}

func (s *Store) endAttempt(ctx context.Context, id int64, set map[string]any) error {
	set["updated_at"] = s.now()
	res := s.write(ctx).Model(&HookDelivery{}).Where("id = ? AND state = ?", id, DeliveryDelivering).Updates(set)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ListDeliveries lists a hook's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, hookID int64) ([]HookDelivery, error) {
	var ds []HookDelivery
	err := s.read(ctx).Where("hook_id = ?", hookID).Order("id DESC").Find(&ds).Error
	return ds, err
}

// NextDeliveryDue says when a worker with nothing to do should look again:
// the earliest next_attempt_at of a pending delivery, or lease_until of a
// delivering one, whichever comes first (a lease running out makes its
// delivery claimable too). ok is false when neither exists.
func (s *Store) NextDeliveryDue(ctx context.Context) (at time.Time, ok bool, err error) {
	// ORDER BY … LIMIT 1 rather than MIN(): SQLite gives an aggregate no
	// declared type, and the driver would hand back a string.
	var next []time.Time
	err = s.read(ctx).Model(&HookDelivery{}).Where("state = ?", DeliveryPending).
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error
	if err != nil {
		return time.Time{}, false, err
	}
	var lease []time.Time
	err = s.read(ctx).Model(&HookDelivery{}).Where("state = ? AND lease_until IS NOT NULL", DeliveryDelivering).
		Order("lease_until").Limit(1).Pluck("lease_until", &lease).Error
	if err != nil {
		return time.Time{}, false, err
	}
	for _, t := range append(next, lease...) {
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok, nil
}

func nullStatus(status int) *int {
	if status == 0 {
		return nil
	}
	return &status
}

func clip(s string) *string {
	if s == "" {
		return nil
	}
	if len(s) > maxDeliveryError {
		// Cut on a rune boundary so PostgreSQL takes it as UTF-8.
		n := maxDeliveryError
		for n > 0 && s[n]&0xC0 == 0x80 {
			n--
		}
		s = s[:n]
	}
	return &s
}
