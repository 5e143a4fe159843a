// Package conformance drives a Labrador server (or any GitLab 8.x) over real
// HTTP and checks it against the contract in openapi/v3.bundled.yaml and the
// GitLab CE 8.7.9 reference (/work/shared/reference).
//
// It is black-box on purpose: it never imports server/ or persistence/. Every
// request goes through one validating transport that checks the response
// against the spec and records the (operation, status) pair it exercised; after
// the run, TestMain fails on any documented pair that no row exercised.
//
// Run against a freshly built server (the default):
//
//	go test ./conformance/
//
// or against a running one:
//
//	LABRADOR_CONFORMANCE_URL=http://127.0.0.1:8080 LABRADOR_CONFORMANCE_TOKEN=<admin token> go test ./conformance/
//
// (with LABRADOR_CONFORMANCE_SHELL_SECRET=<the server's gitlab-shell secret>
// for the /internal/* rows).
package conformance

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/labrador-dev/labrador/persistence/pgtest"
)

// env is what every test needs to know about the server under test.
var env struct {
	base      string // e.g. http://127.0.0.1:34567, no trailing slash
	api       string // base + "/api/v3"
	rootToken string // an administrator's private token
	rootPass  string // root's password; empty when attached to a running server
	attached  bool   // true when LABRADOR_CONFORMANCE_URL points at a running server
	runID     string // random, so that names are unique across runs on a long-lived server
	maxBody   int64  // the request body cap the server was started with (0: unknown)
	repoDir   string // the spawned server's repositories directory ("" when attached)
	// shellSecret is what gitlab-shell sends to /internal/*: read from the
	// spawned server's data dir, or LABRADOR_CONFORMANCE_SHELL_SECRET.
	shellSecret string
	// regToken is the shared runner registration token: chosen for a
	// spawned server, LABRADOR_CONFORMANCE_REGISTRATION_TOKEN when attached.
	regToken string

	spec   *openapi3.T    // the GitLab API v3 contract
	router routers.Router // its routes, under api
	ci     string         // base + "/ci/api/v1"
	ciSpec *openapi3.T    // the CI API v1 contract
	// ciRouter matches the CI contract's routes under both of its mounts,
	// /ci/api/v1 and /api/v1.
	ciRouter routers.Router
	http     *http.Client // the validating client: every request of the suite goes through it
}

// maxBodyBytes is the request body cap the spawned server gets, kept small so
// that the 413 row is cheap.
const maxBodyBytes = 1 << 20

// hookBackoff is the spawned server's wait before the first retry of a
// failed hook delivery (it doubles after each further failure).
const hookBackoff = 100 * time.Millisecond

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 2
	}
	env.runID = randomHex(3)

	var srv *serverProcess
	if u := os.Getenv("LABRADOR_CONFORMANCE_URL"); u != "" {
		env.attached = true
		env.base = strings.TrimRight(u, "/")
		env.rootToken = os.Getenv("LABRADOR_CONFORMANCE_TOKEN")
		env.shellSecret = os.Getenv("LABRADOR_CONFORMANCE_SHELL_SECRET")
		env.regToken = os.Getenv("LABRADOR_CONFORMANCE_REGISTRATION_TOKEN")
		if env.rootToken == "" {
			fmt.Fprintln(os.Stderr, "conformance: LABRADOR_CONFORMANCE_URL needs LABRADOR_CONFORMANCE_TOKEN (an admin's private token)")
			return 2
		}
	} else {
		srv, err = startServer(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			if srv != nil {
				srv.printTail(os.Stderr)
				srv.stop()
			}
			return 2
		}
		defer srv.stop()
		env.base = srv.base
		env.rootPass = srv.rootPass
		env.regToken = srv.regToken
		env.maxBody = maxBodyBytes
		env.repoDir = filepath.Join(srv.dir, "data", "repositories")
		b, err := os.ReadFile(filepath.Join(srv.dir, "data", ".gitlab_shell_secret"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance: the server made no shell secret:", err)
			return 2
		}
		env.shellSecret = strings.TrimSpace(string(b))
	}
	env.api = env.base + "/api/v3"
	env.ci = env.base + "/ci/api/v1"

	if err := loadSpecs(root); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 2
	}
	env.http = &http.Client{
		Transport: &validatingTransport{base: http.DefaultTransport},
		// Redirects are answers to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}

	if !env.attached {
		token, err := loginRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			srv.printTail(os.Stderr)
			return 2
		}
		env.rootToken = token
	}

	code := m.Run()
	if srv != nil {
		// The server must shut down cleanly on SIGINT, and its log (one
		// line per request) must never show a secret it was sent.
		if err := srv.shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			code = 1
		}
		if err := srv.checkLog(env.rootToken, env.rootPass, env.regToken); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			code = 1
		}
	}
	if errs := ledger.orphanErrors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "conformance:", e)
		}
		code = 1
	}
	if code != 0 {
		if srv != nil {
			srv.printTail(os.Stderr)
		}
		return code
	}

	// The coverage ledger is only meaningful for a complete, green run: with a
	// -run/-skip filter most pairs are legitimately unexercised, and after a
	// failure the failure itself is the message that matters.
	if filtered() {
		return code
	}
	missing := append(ledger.untested("v3", env.spec), ledger.untested("ci-v1", env.ciSpec)...)
	if len(missing) > 0 {
		fmt.Fprintln(os.Stderr, "conformance: coverage ledger: documented (operation, status) pairs that no row exercised:")
		for _, line := range missing {
			fmt.Fprintln(os.Stderr, line)
		}
		return 1
	}
	return code
}

// filtered reports whether the run was limited to some tests.
func filtered() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// loadSpecs reads both bundled contracts and points their servers at the
// server under test, so that the routers match absolute request URLs.
func loadSpecs(root string) error {
	spec, router, err := loadSpec(filepath.Join(root, "openapi", "v3.bundled.yaml"), env.api)
	if err != nil {
		return err
	}
	env.spec, env.router = spec, router
	spec, router, err = loadSpec(filepath.Join(root, "openapi", "ci-v1.bundled.yaml"), env.ci, env.base+"/api/v1")
	if err != nil {
		return err
	}
	env.ciSpec, env.ciRouter = spec, router
	return nil
}

// loadSpec reads one bundled contract and routes it under the given bases.
func loadSpec(path string, bases ...string) (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("%s is not valid OpenAPI: %w", path, err)
	}
	spec.Servers = nil
	for _, b := range bases {
		spec.Servers = append(spec.Servers, &openapi3.Server{URL: b})
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("router for %s: %w", path, err)
	}
	return spec, router, nil
}

// loginRoot gets root's private token with the password the server was started with.
func loginRoot() (string, error) {
	form := url.Values{"login": {"root"}, "password": {env.rootPass}}
	req, err := http.NewRequest(http.MethodPost, env.api+"/session", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := env.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("root login: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("root login: status %d, body %s", resp.StatusCode, body)
	}
	var u struct {
		PrivateToken string `json:"private_token"`
	}
	if err := jsonUnmarshal(body, &u); err != nil || u.PrivateToken == "" {
		return "", fmt.Errorf("root login: no private_token in %s", body)
	}
	return u.PrivateToken, nil
}

// serverProcess is a labrador binary built and started for this run.
type serverProcess struct {
	dir      string
	cmd      *exec.Cmd
	base     string
	rootPass string
	regToken string // the shared runner registration token it was started with
	exited   chan struct{}

	stopDB func() error // the PostgreSQL cluster the server runs on, if any

	mu   sync.Mutex
	tail []string // the last lines of the server's stderr
	log  []string // every line of the server's stderr, checked after the run
}

const tailLines = 60

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

func startServer(root string) (*serverProcess, error) {
	dir, err := os.MkdirTemp("", "labrador-conformance-")
	if err != nil {
		return nil, err
	}
	s := &serverProcess{dir: dir, rootPass: randomHex(12), regToken: randomHex(10), exited: make(chan struct{})}
	bin := filepath.Join(dir, "labrador")
	build := exec.Command("go", "build", "-o", bin, "./cmd/labrador")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build ./cmd/labrador: %v\n%s", err, out)
	}

	args := []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	// LABRADOR_CONFORMANCE_DATABASE=postgres runs the server on a throw-away
	// PostgreSQL cluster instead of SQLite, to check the scale-out store.
	if os.Getenv("LABRADOR_CONFORMANCE_DATABASE") == "postgres" {
		dsn, stop, err := pgtest.Launch()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
		s.stopDB = stop
		args = append(args, "--database", dsn)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(),
		"LABRADOR_ROOT_PASSWORD="+s.rootPass,
		"LABRADOR_RUNNER_REGISTRATION_TOKEN="+s.regToken,
		fmt.Sprintf("LABRADOR_MAX_BODY_BYTES=%d", maxBodyBytes),
		// Failed hook deliveries are retried after 100ms, then 200ms…, so
		// that the retry row is quick.
		"LABRADOR_HOOK_BACKOFF="+hookBackoff.String(),
	)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return s, err
	}
	s.cmd.Stdout = io.Discard
	if err := s.cmd.Start(); err != nil {
		return s, fmt.Errorf("start labrador: %w", err)
	}

	found := make(chan string, 1)
	go func() {
		// Keep draining stderr for the whole run so the server never blocks
		// on a full pipe; keep the last lines for failure reports.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.tail = append(s.tail, line)
			s.log = append(s.log, line)
			if len(s.tail) > tailLines {
				s.tail = s.tail[len(s.tail)-tailLines:]
			}
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()

	select {
	case s.base = <-found:
	case <-s.exited:
		return s, errors.New("labrador exited before it was listening")
	case <-time.After(60 * time.Second):
		return s, errors.New("labrador did not report `listening on http://127.0.0.1:PORT` within 60s")
	}
	if err := s.waitHealthy(30 * time.Second); err != nil {
		return s, err
	}
	return s, nil
}

// waitHealthy polls GET /-/health until it answers 200. It runs before the
// spec is loaded, so it uses a plain client; /-/health is outside the API
// and would not be validated anyway.
func (s *serverProcess) waitHealthy(limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.base + "/-/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-s.exited:
			return errors.New("labrador exited while waiting for /-/health")
		case <-tick.C:
		}
	}
	return fmt.Errorf("GET /-/health not 200 within %s (last: %s)", limit, last)
}

func (s *serverProcess) printTail(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return
	}
	fmt.Fprintf(w, "--- last %d lines of the server's stderr ---\n", len(s.tail))
	for _, l := range s.tail {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "---")
}

// shutdown sends SIGINT and wants a clean exit (status 0) within 15s.
func (s *serverProcess) shutdown() error {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("signal labrador: %w", err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		return errors.New("labrador did not exit within 15s of SIGINT")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("labrador exited with status %d after SIGINT, want 0", code)
	}
	return nil
}

// checkLog wants an access log line for requests, and none of the secrets.
func (s *serverProcess) checkLog(secrets ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	requests := 0
	for _, line := range s.log {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(line, secret) {
				return fmt.Errorf("the server log shows a secret: %s", line)
			}
		}
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"status":`) && strings.Contains(line, `"path":"/api/v3/`) {
			requests++
		}
	}
	if requests == 0 {
		return errors.New("the server log has no access log line for an API request")
	}
	return nil
}

func (s *serverProcess) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Signal(os.Interrupt)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				s.cmd.Process.Kill()
				<-s.exited
			}
		}
	}
	if s.stopDB != nil {
		if err := s.stopDB(); err != nil {
			fmt.Fprintln(os.Stderr, "conformance: stop PostgreSQL:", err)
		}
		s.stopDB = nil
	}
	os.RemoveAll(s.dir)
}
