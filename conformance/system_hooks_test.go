package conformance

// System hooks (doc/api/system_hooks.md; endpoints.tsv rows for /hooks) and
// the deliveries they make: a real receiver on 127.0.0.1 records what the
// server POSTs (doc/system_hooks/system_hooks.md payloads, as
// server/system_hooks.go lists their fields).

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"
)

// hookRequest is one delivery the receiver got.
type hookRequest struct {
	method string
	path   string
	header http.Header
	body   []byte
	at     time.Time
}

// payload decodes the delivery's JSON body (nil when it is not an object).
func (h hookRequest) payload() obj {
	var o obj
	if json.Unmarshal(h.body, &o) != nil {
		return nil
	}
	return o
}

// receiver is an HTTP server on 127.0.0.1 that records every request; its
// answer is 200 unless respond says otherwise.
type receiver struct {
	srv     *httptest.Server
	respond func(h hookRequest, seen []hookRequest) int

	mu  sync.Mutex
	got []hookRequest
}

func newReceiver(t testing.TB, respond func(h hookRequest, seen []hookRequest) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hookRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body, at: time.Now()}
		rc.mu.Lock()
		rc.got = append(rc.got, h)
		seen := append([]hookRequest(nil), rc.got...)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(h, seen)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// matching returns the requests to path whose payload satisfies match.
func (rc *receiver) matching(path string, match func(obj) bool) []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hookRequest
	for _, h := range rc.got {
		if h.path == path && match(h.payload()) {
			out = append(out, h)
		}
	}
	return out
}

// waitFor waits until n requests to path match, and returns them.
func (rc *receiver) waitFor(t testing.TB, path string, n int, match func(obj) bool) []hookRequest {
	t.Helper()
	var got []hookRequest
	eventually(20*time.Second, func() bool {
		got = rc.matching(path, match)
		return len(got) >= n
	})
	return got
}

// skipUnlessLocal skips delivery rows when the server under test could not
// reach a receiver on 127.0.0.1.
func skipUnlessLocal(t testing.TB) {
	t.Helper()
	u, err := url.Parse(env.base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		t.Skip("the server under test is not on this machine: it cannot reach a receiver on 127.0.0.1")
	}
}

// addSystemHook registers a system hook as root and deletes it when the test ends.
func addSystemHook(t testing.TB, hookURL string) int {
	t.Helper()
	r := do(t, http.MethodPost, "/hooks", token(env.rootToken), formBody("url", hookURL))
	if r.status != http.StatusCreated {
		t.Fatalf("add system hook: %s", r)
	}
	id := num(decode[obj](t, r.body), "id")
	t.Cleanup(func() { do(t, http.MethodDelete, "/hooks/"+itoa(id), token(env.rootToken)) })
	return id
}

var (
	xmlschemaRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)    // Ruby's Time#xmlschema
	keyTimeRE   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`) // a key's created_at, as Ruby's to_s wrote it
)

// wantPayload wants exactly the keys of want plus created_at (in the given
// form) and presentKeys (any value); values compare as JSON.
func wantPayload(t testing.TB, got obj, want map[string]any, timeRE *regexp.Regexp, presentKeys ...string) {
	t.Helper()
	if got == nil {
		t.Errorf("payload is not a JSON object")
		return
	}
	keys := map[string]bool{"created_at": true}
	for k, v := range want {
		keys[k] = true
		wantField(t, got, k, v)
	}
	for _, k := range presentKeys {
		keys[k] = true
		wantFields(t, got, k)
	}
	if s, _ := got["created_at"].(string); !timeRE.MatchString(s) {
		t.Errorf("created_at = %v, want the form %s", got["created_at"], timeRE)
	}
	var extra []string
	for k := range got {
		if !keys[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("payload %s has unexpected keys %v", mustJSON(t, got), extra)
	}
}

// wantSystemHookRequest checks how a delivery was made.
func wantSystemHookRequest(t testing.TB, h hookRequest) {
	t.Helper()
	if h.method != http.MethodPost {
		t.Errorf("method = %s, want POST", h.method)
	}
	if got := h.header.Get("X-Gitlab-Event"); got != "System Hook" {
		t.Errorf("X-Gitlab-Event = %q, want System Hook", got)
	}
	if got := h.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
}

const samplePayload = `{"event_name":"project_create","name":"Ruby","path":"ruby","project_id":1,"owner_name":"Someone","owner_email":"example@gitlabhq.com"}`

func TestSystemHooksAPI(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	nonAdmin := newUser(t)
	hookURL := rc.srv.URL + "/api-rows?x=1"

	var id int
	t.Run("add", func(t *testing.T) {
		r := do(t, http.MethodPost, "/hooks", token(env.rootToken), formBody("url", hookURL))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		got := decode[obj](t, r.body)
		wantFields(t, got, "id")
		wantField(t, got, "url", hookURL)
		wantTimestamp(t, got, "created_at")
		wantNoFields(t, got, "project_id", "push_events")
		id = num(got, "id")
	})
	t.Run("add, JSON", func(t *testing.T) {
		r := do(t, http.MethodPost, "/hooks", token(env.rootToken), jsonBody(map[string]string{"url": rc.srv.URL + "/json"}))
		if wantStatus(t, r, http.StatusCreated) {
			hid := num(decode[obj](t, r.body), "id")
			wantStatus(t, do(t, http.MethodDelete, "/hooks/"+itoa(hid), token(env.rootToken)), http.StatusOK)
		}
	})
	t.Run("list: not paginated", func(t *testing.T) {
		r := do(t, http.MethodGet, "/hooks", token(env.rootToken))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		found := false
		for _, h := range decode[[]obj](t, r.body) {
			wantFields(t, h, "id", "url", "created_at")
			wantNoFields(t, h, "project_id", "push_events")
			if num(h, "id") == id {
				found = true
				wantField(t, h, "url", hookURL)
			}
		}
		if !found {
			t.Errorf("hook %d not listed: %s", id, r.body)
		}
		if v := r.header.Get("X-Total"); v != "" {
			t.Errorf("X-Total = %q, want no pagination headers", v)
		}
	})
	t.Run("test: the sample payload", func(t *testing.T) {
		r := do(t, http.MethodGet, "/hooks/"+itoa(id), token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, samplePayload)
		}
	})
	for _, row := range []struct {
		name, method, path, tok string
		form                    []string
		status                  int
		body                    string
	}{
		{"add without url", "POST", "/hooks", env.rootToken, []string{"other", "x"}, 400, `{"message":"400 (Bad request) \"url\" not given"}`},
		{"add an invalid url", "POST", "/hooks", env.rootToken, []string{"url", "ftp://example.com/hook"}, 404, `{"message":"404 Not Found"}`},
		{"add, not a URL", "POST", "/hooks", env.rootToken, []string{"url", "not a url"}, 404, `{"message":"404 Not Found"}`},
		{"add as non-admin", "POST", "/hooks", nonAdmin.Token, []string{"url", "http://example.com/x"}, 403, forbidden403},
		{"add as non-admin without url", "POST", "/hooks", nonAdmin.Token, nil, 403, forbidden403},
		{"list as non-admin", "GET", "/hooks", nonAdmin.Token, nil, 403, forbidden403},
		{"test as non-admin", "GET", "/hooks/" + itoa(id), nonAdmin.Token, nil, 403, forbidden403},
		{"test an unknown hook", "GET", "/hooks/999999999", env.rootToken, nil, 404, recordNotFound},
		{"test a non-numeric id", "GET", "/hooks/abc", env.rootToken, nil, 404, recordNotFound},
		{"delete as non-admin", "DELETE", "/hooks/" + itoa(id), nonAdmin.Token, nil, 403, forbidden403},
	} {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.form != nil {
				opts = append(opts, formBody(row.form...))
			}
			wantError(t, do(t, row.method, row.path, opts...), row.status, row.body)
			// Nothing was added (other tests add hooks too: look for this URL).
			hooks := decode[[]obj](t, do(t, http.MethodGet, "/hooks", token(env.rootToken)).body)
			for i := 0; i+1 < len(row.form); i += 2 {
				if row.form[i] == "url" {
					for _, h := range hooks {
						if str(h, "url") == row.form[i+1] {
							t.Errorf("hook %v with url %s exists after the rejected add", h["id"], row.form[i+1])
						}
					}
				}
			}
			if !containsInt(ids(hooks), id) {
				t.Errorf("hook %d is gone after the rejected request", id)
			}
		})
	}
	t.Run("delete: the hook's record", func(t *testing.T) {
		r := do(t, http.MethodDelete, "/hooks/"+itoa(id), token(env.rootToken))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		wantField(t, got, "id", id)
		wantField(t, got, "url", hookURL)
		wantField(t, got, "project_id", nil)
		wantField(t, got, "type", "SystemHook")
		for _, f := range hookFlags {
			wantField(t, got, f, f == "push_events" || f == "enable_ssl_verification")
		}
		if v, ok := got["service_id"]; ok && v != nil {
			t.Errorf("service_id = %v, want null", v)
		}
		wantTimestamp(t, got, "created_at")
		wantTimestamp(t, got, "updated_at")
	})
	for _, row := range []struct{ name, id string }{
		{"delete again: null", itoa(id)},
		{"delete an unknown hook: null", "999999999"},
		{"delete a non-numeric id: null", "abc"},
	} {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodDelete, "/hooks/"+row.id, token(env.rootToken))
			if wantStatus(t, r, http.StatusOK) {
				wantJSON(t, r.body, `null`)
			}
		})
	}
	t.Run("the deleted hook is not listed", func(t *testing.T) {
		if containsInt(ids(decode[[]obj](t, do(t, http.MethodGet, "/hooks", token(env.rootToken)).body)), id) {
			t.Errorf("hook %d still listed", id)
		}
		wantError(t, do(t, http.MethodGet, "/hooks/"+itoa(id), token(env.rootToken)), http.StatusNotFound, recordNotFound)
	})
}

// TestSystemHookDeliveries makes every kind of system event happen and
// wants each delivered to a system hook, with 8.7's payload.
func TestSystemHookDeliveries(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	rc := newReceiver(t, nil)
	hookID := addSystemHook(t, rc.srv.URL+"/system")

	o := newUser(t)
	// A project hook on the same receiver: system events never reach it.
	hooked := newProject(t, o.Token)
	if r := do(t, http.MethodPost, "/projects/"+hooked.idPath()+"/hooks", token(o.Token),
		formBody("url", rc.srv.URL+"/project", "issues_events", "true", "note_events", "true")); r.status != http.StatusCreated {
		t.Fatalf("add project hook: %s", r)
	}

	u := createUser(t)
	keyText := newPublicKey(t)
	r := do(t, http.MethodPost, "/users/"+u.idPath()+"/keys", token(env.rootToken), formBody("title", "hooked", "key", keyText))
	if r.status != http.StatusCreated {
		t.Fatalf("add key: %s", r)
	}
	keyID := num(decode[obj](t, r.body), "id")
	g := newGroup(t, o.Token)
	q := newProject(t, o.Token, "visibility_level", "10")
	addMember(t, "projects", q.ID, u.ID, accessDeveloper)
	addMember(t, "groups", g.ID, u.ID, accessReporter)
	for _, path := range []string{
		"/projects/" + q.idPath() + "/members/" + u.idPath(),
		"/groups/" + g.idPath() + "/members/" + u.idPath(),
		"/users/" + u.idPath() + "/keys/" + itoa(keyID),
		"/projects/" + q.idPath(),
		"/groups/" + g.idPath(),
		"/users/" + u.idPath(),
	} {
		if r := do(t, http.MethodDelete, path, token(env.rootToken)); r.status != http.StatusOK {
			t.Fatalf("DELETE %s: %s", path, r)
		}
	}

	user := map[string]any{"email": u.Email, "name": u.Name, "username": u.Username, "user_id": u.ID}
	key := map[string]any{"username": u.Username, "key": keyText, "id": keyID}
	project := map[string]any{"name": q.Name, "path": q.Path, "path_with_namespace": q.PathWithNamespace, "project_id": q.ID,
		"owner_name": o.Name, "owner_email": o.Email, "project_visibility": "internal"}
	team := map[string]any{"project_access": "Developer", "project_id": q.ID, "project_name": q.Name, "project_path": q.Path,
		"project_path_with_namespace": q.PathWithNamespace, "user_email": u.Email, "user_name": u.Name, "user_username": u.Username,
		"user_id": u.ID, "project_visibility": "internal"}
	group := map[string]any{"name": g.Name, "path": g.Path, "group_id": g.ID}
	member := map[string]any{"group_access": "Reporter", "group_id": g.ID, "group_name": g.Name, "group_path": g.Path,
		"user_email": u.Email, "user_name": u.Name, "user_username": u.Username, "user_id": u.ID}
	with := func(m map[string]any, event string) map[string]any {
		out := map[string]any{"event_name": event}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	events := []struct {
		event   string
		key     string // a payload field that names this test's object
		value   any
		want    map[string]any
		timeRE  *regexp.Regexp
		present []string
	}{
		{"user_create", "user_id", u.ID, with(user, "user_create"), xmlschemaRE, nil},
		{"key_create", "id", keyID, with(key, "key_create"), keyTimeRE, nil},
		// 8.7 read the group's owner when it built the payload; the suite
		// wants the two fields, not their values.
		{"group_create", "group_id", g.ID, with(group, "group_create"), xmlschemaRE, []string{"owner_name", "owner_email"}},
		{"project_create", "project_id", q.ID, with(project, "project_create"), xmlschemaRE, nil},
		{"user_add_to_team", "project_id", q.ID, with(team, "user_add_to_team"), xmlschemaRE, nil},
		{"user_add_to_group", "group_id", g.ID, with(member, "user_add_to_group"), xmlschemaRE, nil},
		{"user_remove_from_team", "project_id", q.ID, with(team, "user_remove_from_team"), xmlschemaRE, nil},
		{"user_remove_from_group", "group_id", g.ID, with(member, "user_remove_from_group"), xmlschemaRE, nil},
		{"key_destroy", "id", keyID, with(key, "key_destroy"), keyTimeRE, nil},
		{"project_destroy", "project_id", q.ID, with(project, "project_destroy"), xmlschemaRE, nil},
		{"group_destroy", "group_id", g.ID, with(group, "group_destroy"), xmlschemaRE, []string{"owner_name", "owner_email"}},
		{"user_destroy", "user_id", u.ID, with(user, "user_destroy"), xmlschemaRE, nil},
	}
	for _, e := range events {
		t.Run(e.event, func(t *testing.T) {
			match := func(p obj) bool {
				if p == nil || p["event_name"] != e.event {
					return false
				}
				if e.event == "user_add_to_team" || e.event == "user_remove_from_team" || e.event == "user_add_to_group" || e.event == "user_remove_from_group" {
					if num(p, "user_id") != u.ID {
						return false
					}
				}
				return reflect.DeepEqual(p[e.key], mustNumber(e.value))
			}
			got := rc.waitFor(t, "/system", 1, match)
			if len(got) == 0 {
				t.Fatalf("no %s delivery for %s=%v within the deadline", e.event, e.key, e.value)
			}
			if len(got) > 1 {
				t.Errorf("%d %s deliveries, want 1", len(got), e.event)
			}
			wantSystemHookRequest(t, got[0])
			wantPayload(t, got[0].payload(), e.want, e.timeRE, e.present...)
		})
	}

	t.Run("testing the hook delivers the sample", func(t *testing.T) {
		r := do(t, http.MethodGet, "/hooks/"+itoa(hookID), token(env.rootToken))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantJSON(t, r.body, samplePayload)
		got := rc.waitFor(t, "/system", 1, func(p obj) bool { return p != nil && p["name"] == "Ruby" })
		if len(got) == 0 {
			t.Fatal("the sample payload never arrived")
		}
		wantSystemHookRequest(t, got[0])
		wantJSON(t, got[0].body, samplePayload)
	})
	t.Run("the project hook got no system event", func(t *testing.T) {
		if got := rc.matching("/project", func(obj) bool { return true }); len(got) != 0 {
			t.Errorf("the project hook got %d requests, e.g. %s; want none", len(got), got[0].body)
		}
	})
}

// mustNumber turns an int into the float64 a decoded JSON number is.
func mustNumber(v any) any {
	if i, ok := v.(int); ok {
		return float64(i)
	}
	return v
}

// TestSystemHookRetry: a receiver that fails twice gets the delivery on the
// third attempt, after the backoff (100ms, then 200ms on the spawned server).
func TestSystemHookRetry(t *testing.T) {
	t.Parallel()
	if env.attached {
		t.Skip("the backoff of a running server is unknown")
	}
	rc := newReceiver(t, func(h hookRequest, seen []hookRequest) int {
		if p := h.payload(); p == nil || p["name"] != "Ruby" {
			return http.StatusOK // another test's event
		}
		n := 0
		for _, s := range seen {
			if p := s.payload(); p != nil && p["name"] == "Ruby" {
				n++
			}
		}
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	id := addSystemHook(t, rc.srv.URL+"/flaky")

	r := do(t, http.MethodGet, "/hooks/"+itoa(id), token(env.rootToken))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	// The delivery's outcome does not change the answer.
	wantJSON(t, r.body, samplePayload)
	got := rc.waitFor(t, "/flaky", 3, func(p obj) bool { return p != nil && p["name"] == "Ruby" })
	if len(got) < 3 {
		t.Fatalf("%d attempts within the deadline, want 3", len(got))
	}
	for i, h := range got[:3] {
		wantSystemHookRequest(t, h)
		if !reflect.DeepEqual(h.body, got[0].body) {
			t.Errorf("attempt %d body = %s, want the same as the first (%s)", i+1, h.body, got[0].body)
		}
		wantJSON(t, h.body, samplePayload)
	}
	// Allow for clock granularity; the waits are measured between arrivals.
	for i, min := range []time.Duration{hookBackoff, 2 * hookBackoff} {
		if gap := got[i+1].at.Sub(got[i].at); gap < min*9/10 {
			t.Errorf("attempt %d came %s after attempt %d, want at least %s", i+2, gap, i+1, min)
		}
	}
}
