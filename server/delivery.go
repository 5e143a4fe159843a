// Webhook delivery for project and system hooks (doc/web_hooks/web_hooks.md,
// doc/system_hooks/system_hooks.md): payloads are queued in the database and
// POSTed by workers in the background, at least once, with retries.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labrador-dev/labrador/persistence"
)

// DelivererConfig tunes webhook delivery; zero fields take the defaults.
type DelivererConfig struct {
	// Timeout bounds one HTTP attempt, redirects and reading the response
	// included. Default 10s.
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is failed.
	// Default 5.
	MaxAttempts int
	// Backoff is the wait before the next attempt, given how many attempts
	// have been made (1 after the first). Default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// Lease is how long a claimed delivery stays reserved for its worker;
	// when it runs out (the process died) another worker takes it. It must
	// exceed Timeout. Default Timeout+30s.
	Lease time.Duration
	// PollInterval is how often an idle worker looks at the queue anyway
	// (another process may have enqueued); Enqueue wakes workers at once,
	// and a retry or an expiring lease wakes them when it falls due.
	// Default 5s.
	PollInterval time.Duration
	// Workers is how many deliveries may be in flight at once. Default 4.
	Workers int
	Logger  *slog.Logger
}

// DefaultBackoff waits 10s after the first failed attempt, doubling each
// time, at most an hour.
func DefaultBackoff(attempt int) time.Duration { return ExponentialBackoff(10 * time.Second)(attempt) }

// ExponentialBackoff waits base after the first failed attempt, doubling
// each time, at most an hour.
func ExponentialBackoff(base time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < time.Hour; i++ {
			d *= 2
		}
		return min(d, time.Hour)
	}
}

// DeliveryStore is what the Deliverer needs of persistence.
type DeliveryStore interface {
	EnqueueDeliveries(ctx context.Context, ds []persistence.NewDelivery) error
	ClaimDelivery(ctx context.Context, lease time.Duration) (*persistence.HookDelivery, error)
	CompleteDelivery(ctx context.Context, id int64, status int) error
	RetryDelivery(ctx context.Context, id int64, status int, errText string, at time.Time) error
	FailDelivery(ctx context.Context, id int64, status int, errText string) error
	NextDeliveryDue(ctx context.Context) (time.Time, bool, error)
}

var _ DeliveryStore = (*persistence.Store)(nil)

const (
	// maxResponseRead is how much of a receiver's answer is read (and
	// discarded) so the connection can be reused.
	maxResponseRead = 64 << 10
	// minIdle keeps a worker from spinning when the queue says something
	// is due that another worker is claiming right now.
	minIdle = 10 * time.Millisecond
	// storeTimeout bounds recording an attempt's outcome.
	storeTimeout = 30 * time.Second
)

// Deliverer POSTs queued hook payloads. Enqueue stores them and returns;
// Run's workers claim due deliveries from the database, so deliveries
// survive restarts and several processes can share one PostgreSQL queue.
type Deliverer struct {
	store DeliveryStore
	cfg   DelivererConfig
	log   *slog.Logger
	// One client per SSL setting, shared by all deliveries, so that
	// connections to a receiver are reused.
	verifying, insecure *http.Client
	wake                chan struct{}
}

// NewDeliverer returns a Deliverer over store; start it with Run.
func NewDeliverer(store DeliveryStore, cfg DelivererConfig) *Deliverer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = cfg.Timeout + 30*time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Deliverer{
		store: store, cfg: cfg, log: cfg.Logger,
		verifying: hookClient(false), insecure: hookClient(true),
		wake: make(chan struct{}, cfg.Workers),
	}
}

// hookClient follows redirects as net/http does by default (up to 10), as
// GitLab's HTTParty did, and sends a URL's userinfo as basic auth, as
// GitLab's WebHook#execute did.
func hookClient(skipVerify bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if skipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the hook's enable_ssl_verification is false
	}
	return &http.Client{Transport: tr}
}

// Enqueue stores deliveries and wakes idle workers; it never waits for a
// delivery. Once it returns nil the deliveries are durable.
func (d *Deliverer) Enqueue(ctx context.Context, ds []persistence.NewDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	if err := d.store.EnqueueDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("enqueue hook deliveries: %w", err)
	}
	for range min(len(ds), d.cfg.Workers) {
		d.signal()
	}
	return nil
}

// signal wakes one idle worker, if none is already due to wake.
func (d *Deliverer) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done. Then it claims nothing more, lets the
// attempts in flight finish (each bounded by Timeout), and returns. A
// delivery whose outcome could not be recorded keeps its lease until it
// runs out and is then tried again: nothing is lost, though a receiver
// may see it twice.
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range d.cfg.Workers {
		wg.Go(func() { d.work(ctx) })
	}
	wg.Wait()
	d.verifying.CloseIdleConnections()
	d.insecure.CloseIdleConnections()
}

func (d *Deliverer) work(ctx context.Context) {
	for ctx.Err() == nil {
		hd, err := d.store.ClaimDelivery(ctx, d.cfg.Lease)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				d.log.Error("claim hook delivery", "err", err)
			}
			d.idle(ctx, d.cfg.PollInterval)
		case hd == nil:
			d.idle(ctx, d.untilDue(ctx))
		default:
			d.signal() // there may be more: let another worker look
			d.deliver(ctx, hd)
		}
	}
}

// untilDue is how long an idle worker may sleep: until the next retry or
// lease expiry, but no longer than PollInterval.
func (d *Deliverer) untilDue(ctx context.Context) time.Duration {
	at, ok, err := d.store.NextDeliveryDue(ctx)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			d.log.Error("next hook delivery", "err", err)
		}
		return d.cfg.PollInterval
	}
	return min(max(time.Until(at), minIdle), d.cfg.PollInterval)
}

func (d *Deliverer) idle(ctx context.Context, wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.wake:
	case <-t.C:
	}
}

// deliver makes one attempt and records its outcome. The attempt and the
// record do not stop when ctx does: cutting them short would only make a
// receiver see the delivery twice.
func (d *Deliverer) deliver(ctx context.Context, hd *persistence.HookDelivery) {
	ctx = context.WithoutCancel(ctx)
	log := d.log.With("delivery_id", hd.ID, "hook_type", hd.HookType, "event", hd.Event,
		"url", redactURL(hd.URL), "attempt", hd.Attempts)
	if hd.HookID != nil {
		log = log.With("hook_id", *hd.HookID)
	}
	start := time.Now()
	status, err := d.post(ctx, hd)
	log = log.With("duration_ms", float64(time.Since(start).Microseconds())/1000)

	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var serr error
	switch {
	case err == nil:
		log.Info("hook delivered", "status", status)
		serr = d.store.CompleteDelivery(sctx, hd.ID, status)
	case errors.As(err, new(permanentError)) || hd.Attempts >= d.cfg.MaxAttempts:
		log.Warn("hook delivery failed, giving up", "status", status, "err", err)
		serr = d.store.FailDelivery(sctx, hd.ID, status, err.Error())
	default:
		wait := d.cfg.Backoff(hd.Attempts)
		log.Warn("hook delivery failed, will retry", "status", status, "err", err, "retry_in", wait.String())
		serr = d.store.RetryDelivery(sctx, hd.ID, status, err.Error(), time.Now().Add(wait))
	}
	switch {
	case errors.Is(serr, persistence.ErrNotFound):
		// The lease ran out mid-attempt and another worker has the delivery.
		log.Warn("hook delivery lease lost before the outcome was recorded")
	case serr != nil:
		log.Error("record hook delivery outcome", "err", serr)
	}
}

// permanentError is a failure no retry can help, such as a malformed URL.
type permanentError string

func (e permanentError) Error() string { return string(e) }

// post makes one attempt. It returns the HTTP status (0 when there was no
// response) and an error unless the receiver answered 2xx. Error texts are
// stored and logged, so they never hold the URL, which may carry
// credentials in its userinfo or query.
func (d *Deliverer) post(ctx context.Context, hd *persistence.HookDelivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hd.URL, strings.NewReader(hd.Payload))
	if err != nil {
		return 0, permanentError("invalid hook URL")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return 0, permanentError(fmt.Sprintf("hook URL scheme %q is not http or https", req.URL.Scheme))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gitlab-Event", hd.Event)
	client := d.verifying
	if !hd.EnableSSLVerification {
		client = d.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL from the message
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("timed out after %s: %v", d.cfg.Timeout, err)
		}
		return 0, err
	}
	// The status decides; the body is read only so the connection can be
	// reused, and a receiver slow to send it does not undo a 2xx.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// redactURL keeps what identifies a receiver in the logs — scheme, host,
// path — and drops userinfo and query, which may hold secrets.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
