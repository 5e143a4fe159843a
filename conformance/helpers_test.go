package conformance

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// reqOpts is what one request carries besides its method and path.
type reqOpts struct {
	token       string
	tokenQuery  bool
	sudo        string
	sudoQuery   bool
	query       url.Values
	body        []byte
	contentType string
	header      http.Header
	raw         bool // the success answer is not JSON (files, archives)
}

type reqOpt func(*reqOpts)

// rawAnswer marks a request whose 200 answer is a file, not JSON.
func rawAnswer() reqOpt { return func(o *reqOpts) { o.raw = true } }

// token authenticates with the PRIVATE-TOKEN header.
func token(tok string) reqOpt { return func(o *reqOpts) { o.token, o.tokenQuery = tok, false } }

// tokenQuery authenticates with the private_token query parameter.
func tokenQuery(tok string) reqOpt { return func(o *reqOpts) { o.token, o.tokenQuery = tok, true } }

// sudo acts as another user with the SUDO header.
func sudo(who string) reqOpt { return func(o *reqOpts) { o.sudo, o.sudoQuery = who, false } }

// sudoQuery acts as another user with the sudo query parameter.
func sudoQuery(who string) reqOpt { return func(o *reqOpts) { o.sudo, o.sudoQuery = who, true } }

// query adds query parameters as key, value pairs.
func query(kv ...string) reqOpt {
	return func(o *reqOpts) {
		if o.query == nil {
			o.query = url.Values{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			o.query.Add(kv[i], kv[i+1])
		}
	}
}

// jsonBody sends v (a string is sent verbatim) as application/json.
func jsonBody(v any) reqOpt {
	return func(o *reqOpts) {
		switch b := v.(type) {
		case string:
			o.body = []byte(b)
		case []byte:
			o.body = b
		default:
			var err error
			o.body, err = json.Marshal(v)
			if err != nil {
				panic(err)
			}
		}
		o.contentType = "application/json"
	}
}

// formBody sends key, value pairs as application/x-www-form-urlencoded.
func formBody(kv ...string) reqOpt {
	return func(o *reqOpts) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		o.body = []byte(v.Encode())
		o.contentType = "application/x-www-form-urlencoded"
	}
}

// header sets a request header.
func header(k, v string) reqOpt {
	return func(o *reqOpts) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Set(k, v)
	}
}

// response is one answer of the server.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.status, truncate(r.body, 1000))
}

// do sends one request to the API; path is relative to /api/v3 unless it
// starts with "/-/", "/api/" or "/ci/" (relative to the server: "/ci/api/v1/…"
// and "/api/v1/…" are the CI API) or "http". It fails the test only when the request cannot
// be sent at all.
func do(t testing.TB, method, path string, opts ...reqOpt) response {
	t.Helper()
	var o reqOpts
	for _, f := range opts {
		f(&o)
	}
	u := path
	switch {
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
	case strings.HasPrefix(path, "/-/"), strings.HasPrefix(path, "/api/"), strings.HasPrefix(path, "/ci/"):
		u = env.base + path
	default:
		u = env.api + path
	}
	q := url.Values{}
	for k, vs := range o.query {
		q[k] = append(q[k], vs...)
	}
	if o.token != "" && o.tokenQuery {
		q.Set("private_token", o.token)
	}
	if o.sudo != "" && o.sudoQuery {
		q.Set("sudo", o.sudo)
	}
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	var body io.Reader
	if o.body != nil {
		body = bytes.NewReader(o.body)
	}
	req, err := http.NewRequestWithContext(withTest(context.Background(), t), method, u, body)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, u, err)
	}
	if o.contentType != "" {
		req.Header.Set("Content-Type", o.contentType)
	}
	if o.token != "" && !o.tokenQuery {
		req.Header.Set("PRIVATE-TOKEN", o.token)
	}
	if o.sudo != "" && !o.sudoQuery {
		req.Header.Set("SUDO", o.sudo)
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	resp, err := env.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	// Every answer of the API is JSON, labelled exactly so.
	if (strings.HasPrefix(u, env.api+"/") || strings.HasPrefix(u, env.ci+"/")) && len(b) > 0 && !(o.raw && resp.StatusCode == http.StatusOK) {
		if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
			t.Errorf("%s %s -> %d: Content-Type = %q, want exactly application/json", method, path, resp.StatusCode, ct)
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantStatus fails the test unless r has the given status.
func wantStatus(t testing.TB, r response, want int) bool {
	t.Helper()
	if r.status != want {
		t.Errorf("status = %d, want %d; body: %s", r.status, want, truncate(r.body, 1000))
		return false
	}
	return true
}

// wantJSON compares a body with the JSON text want semantically (key order
// and white space do not matter; every value does).
func wantJSON(t testing.TB, body []byte, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Errorf("body is not JSON: %v\ngot:  %s\nwant: %s", err, truncate(body, 1000), want)
		return
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body differs\ngot:  %s\nwant: %s", truncate(body, 1000), want)
	}
}

// wantError checks an error answer: its status and its exact JSON body.
func wantError(t testing.TB, r response, status int, body string) {
	t.Helper()
	if wantStatus(t, r, status) {
		wantJSON(t, r.body, body)
	}
}

// wantValidation checks a validation error answer: 400 with
// {"message":{"<field>":[...]}} naming field; if msg is not empty, the
// field's messages must include it.
func wantValidation(t testing.TB, r response, field, msg string) {
	t.Helper()
	if !wantStatus(t, r, http.StatusBadRequest) {
		return
	}
	var b struct {
		Message map[string]any `json:"message"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Message == nil {
		t.Errorf("body = %s, want a validation body {\"message\":{\"%s\":[...]}}", r.body, field)
		return
	}
	list, ok := b.Message[field].([]any)
	if !ok || len(list) == 0 {
		t.Errorf("body = %s, want a non-empty list of messages for field %q", r.body, field)
		return
	}
	if msg == "" {
		return
	}
	for _, m := range list {
		if m == msg {
			return
		}
	}
	t.Errorf("body = %s, want %q among the messages of %q", r.body, msg, field)
}

// decode unmarshals a body, failing the test if it is not the JSON expected.
func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, truncate(body, 1000))
	}
	return v
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// obj is a decoded JSON object.
type obj = map[string]any

// num reads an integer field of a decoded object; -1 when absent or not a number.
func num(o obj, key string) int {
	f, ok := o[key].(float64)
	if !ok {
		return -1
	}
	return int(f)
}

// str reads a string field of a decoded object.
func str(o obj, key string) string {
	s, _ := o[key].(string)
	return s
}

// wantField fails unless o[key] equals want (compared as JSON values).
func wantField(t testing.TB, o obj, key string, want any) {
	t.Helper()
	got, ok := o[key]
	if !ok {
		t.Errorf("field %q absent, want %v", key, want)
		return
	}
	wb, _ := json.Marshal(want)
	var w any
	json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}

// wantFields fails for each key absent from o.
func wantFields(t testing.TB, o obj, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := o[k]; !ok {
			t.Errorf("field %q absent; object: %v", k, o)
		}
	}
}

// wantNoFields fails for each key present in o.
func wantNoFields(t testing.TB, o obj, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := o[k]; ok {
			t.Errorf("field %q = %v present, want it absent", k, v)
		}
	}
}

// timestampRE is GitLab 8.7's timestamp form: UTC with milliseconds.
var timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func wantTimestamp(t testing.TB, o obj, key string) {
	t.Helper()
	s, ok := o[key].(string)
	if !ok || !timestampRE.MatchString(s) {
		t.Errorf("%s = %v, want a timestamp like 2016-01-04T15:31:51.081Z", key, o[key])
	}
}

// ---- users ----

var userSeq atomic.Int64

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName is a username nobody else in this run (or an earlier run on the
// same server) has: the run id, a counter and the test's name.
func uniqueName(t testing.TB) string {
	n := userSeq.Add(1)
	name := nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_")
	name = strings.Trim(name, "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("t%s%d_%s", env.runID, n, strings.Trim(name, "_"))
}

// testUser is a user created by the suite, with its token.
type testUser struct {
	ID       int
	Username string
	Name     string
	Email    string
	Password string
	Token    string
}

func (u testUser) idPath() string { return strconv.Itoa(u.ID) }

// newUser creates a confirmed user as root and logs it in. extra adds form
// fields to the create call (e.g. "name", "Jane" overrides the name).
func newUser(t testing.TB, extra ...string) testUser {
	t.Helper()
	u := createUser(t, extra...)
	u.Token = login(t, u.Username, u.Password)
	return u
}

// createUser creates a confirmed user as root, without logging it in.
func createUser(t testing.TB, extra ...string) testUser {
	t.Helper()
	username := uniqueName(t)
	u := testUser{
		Username: username,
		Name:     "User " + username,
		Email:    username + "@example.com",
		Password: "secret-" + randomHex(6),
	}
	fields := map[string]string{
		"email": u.Email, "password": u.Password, "name": u.Name, "username": u.Username, "confirm": "false",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fields[extra[i]] = extra[i+1]
	}
	u.Name, u.Email, u.Username = fields["name"], fields["email"], fields["username"]
	var kv []string
	for k, v := range fields {
		kv = append(kv, k, v)
	}
	r := do(t, http.MethodPost, "/users", token(env.rootToken), formBody(kv...))
	if r.status != http.StatusCreated {
		t.Fatalf("create user %s: %s", u.Username, r)
	}
	u.ID = num(decode[obj](t, r.body), "id")
	return u
}

// login posts to /session and returns the private token.
func login(t testing.TB, login, password string) string {
	t.Helper()
	r := do(t, http.MethodPost, "/session", formBody("login", login, "password", password))
	if r.status != http.StatusCreated {
		t.Fatalf("login %s: %s", login, r)
	}
	tok := str(decode[obj](t, r.body), "private_token")
	if tok == "" {
		t.Fatalf("login %s: no private_token in %s", login, r.body)
	}
	return tok
}

// getUserAsAdmin reads a user as root.
func getUserAsAdmin(t testing.TB, id int) obj {
	t.Helper()
	r := do(t, http.MethodGet, "/users/"+strconv.Itoa(id), token(env.rootToken))
	if r.status != http.StatusOK {
		t.Fatalf("GET /users/%d: %s", id, r)
	}
	return decode[obj](t, r.body)
}

// usersNamed lists the users with exactly this username, as root.
func usersNamed(t testing.TB, username string) []obj {
	t.Helper()
	r := do(t, http.MethodGet, "/users", token(env.rootToken), query("username", username))
	if r.status != http.StatusOK {
		t.Fatalf("GET /users?username=%s: %s", username, r)
	}
	return decode[[]obj](t, r.body)
}

// wantNoUser fails if a user with this username exists.
func wantNoUser(t testing.TB, username string) {
	t.Helper()
	if got := usersNamed(t, username); len(got) != 0 {
		t.Errorf("users named %q: %v, want none (the rejected request must create nothing)", username, got)
	}
}

// wantUnchanged fails unless the user reads back as before (by GET, as root).
func wantUnchanged(t testing.TB, id int, before obj, keys ...string) {
	t.Helper()
	after := getUserAsAdmin(t, id)
	for _, k := range keys {
		if !reflect.DeepEqual(after[k], before[k]) {
			t.Errorf("after the rejected request %s = %v, want it unchanged (%v)", k, after[k], before[k])
		}
	}
}

// ---- SSH keys ----

// newPublicKey returns a fresh ed25519 public key as an authorized_keys line
// without the trailing newline.
func newPublicKey(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

// ids collects the "id" field of a list.
func ids(list []obj) []int {
	var out []int
	for _, o := range list {
		out = append(out, num(o, "id"))
	}
	return out
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }

// ---- projects and groups ----

// Access levels (entities.md "Conventions").
const (
	accessGuest     = 10
	accessReporter  = 20
	accessDeveloper = 30
	accessMaster    = 40
	accessOwner     = 50
)

// Visibility levels.
const (
	visPrivate  = 0
	visInternal = 10
	visPublic   = 20
)

// testProject is a project created by the suite.
type testProject struct {
	ID                int
	Name              string
	Path              string
	PathWithNamespace string
	NamespaceID       int
	Visibility        int
}

func (p testProject) idPath() string { return itoa(p.ID) }

// encoded is the project's id as URL-encoded "namespace%2Fpath", the other
// form every /projects/:id route takes.
func (p testProject) encoded() string { return url.PathEscape(p.PathWithNamespace) }

// projectOf reads a Project entity.
func projectOf(o obj) testProject {
	p := testProject{ID: num(o, "id"), Name: str(o, "name"), Path: str(o, "path"),
		PathWithNamespace: str(o, "path_with_namespace"), Visibility: num(o, "visibility_level")}
	if ns, ok := o["namespace"].(obj); ok {
		p.NamespaceID = num(ns, "id")
	}
	return p
}

// fields merges key, value pairs into defaults (later pairs win) and
// flattens them back into pairs, so that a caller can override a default.
func fields(defaults []string, extra []string) []string {
	m := map[string]string{}
	var order []string
	for _, kv := range [][]string{defaults, extra} {
		for i := 0; i+1 < len(kv); i += 2 {
			if _, ok := m[kv[i]]; !ok {
				order = append(order, kv[i])
			}
			m[kv[i]] = kv[i+1]
		}
	}
	var out []string
	for _, k := range order {
		out = append(out, k, m[k])
	}
	return out
}

// newProject creates a project as the owner of tok, named and pathed with a
// unique name; extra adds or overrides form fields ("visibility_level",
// "20", "namespace_id", "7", …).
func newProject(t testing.TB, tok string, extra ...string) testProject {
	t.Helper()
	n := uniqueName(t)
	r := do(t, http.MethodPost, "/projects", token(tok), formBody(fields([]string{"name", n, "path", n}, extra)...))
	if r.status != http.StatusCreated {
		t.Fatalf("create project %s: %s", n, r)
	}
	return projectOf(decode[obj](t, r.body))
}

// getProject reads a project as the owner of tok; it fails the test unless 200.
func getProject(t testing.TB, tok string, id int) obj {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+itoa(id), token(tok))
	if r.status != http.StatusOK {
		t.Fatalf("GET /projects/%d: %s", id, r)
	}
	return decode[obj](t, r.body)
}

// testGroup is a group created by the suite.
type testGroup struct {
	ID   int
	Name string
	Path string
}

func (g testGroup) idPath() string { return itoa(g.ID) }

// newGroup creates a group as the owner of tok (who becomes its owner);
// extra adds or overrides form fields.
func newGroup(t testing.TB, tok string, extra ...string) testGroup {
	t.Helper()
	n := uniqueName(t)
	r := do(t, http.MethodPost, "/groups", token(tok), formBody(fields([]string{"name", n, "path", n}, extra)...))
	if r.status != http.StatusCreated {
		t.Fatalf("create group %s: %s", n, r)
	}
	o := decode[obj](t, r.body)
	return testGroup{ID: num(o, "id"), Name: str(o, "name"), Path: str(o, "path")}
}

// addMember adds a user to a project ("projects") or a group ("groups") as
// root, at the given level.
func addMember(t testing.TB, kind string, id, userID, level int) {
	t.Helper()
	r := do(t, http.MethodPost, "/"+kind+"/"+itoa(id)+"/members", token(env.rootToken),
		formBody("user_id", itoa(userID), "access_level", itoa(level)))
	if r.status != http.StatusCreated {
		t.Fatalf("add user %d to %s %d at %d: %s", userID, kind, id, level, r)
	}
}

// eventually polls cond every 20ms until it holds or the timeout passes;
// it reports whether it held. Hook deliveries are asynchronous: this is the
// one way the suite waits for them.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// multipartFile sends a multipart/form-data body with one file part (none
// when fileName is empty) and the given plain fields.
func multipartFile(t testing.TB, field, fileName string, content []byte, plain ...string) reqOpt {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(plain); i += 2 {
		if err := w.WriteField(plain[i], plain[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if fileName != "" {
		part, err := w.CreateFormFile(field, fileName)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return func(o *reqOpts) {
		o.body = buf.Bytes()
		o.contentType = w.FormDataContentType()
	}
}

// names collects a string field of a list.
func names(list []obj, key string) []string {
	var out []string
	for _, o := range list {
		out = append(out, str(o, key))
	}
	return out
}

// sameInts reports whether two lists hold the same ids in the same order.
func sameInts(a, b []int) bool {
	return reflect.DeepEqual(append([]int{}, a...), append([]int{}, b...))
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// namespaceID finds the id of the namespace with exactly this path, as root.
func namespaceID(t testing.TB, path string) int {
	t.Helper()
	r := do(t, http.MethodGet, "/namespaces", token(env.rootToken), query("search", path, "per_page", "100"))
	if r.status != http.StatusOK {
		t.Fatalf("GET /namespaces?search=%s: %s", path, r)
	}
	for _, n := range decode[[]obj](t, r.body) {
		if str(n, "path") == path {
			return num(n, "id")
		}
	}
	t.Fatalf("no namespace with path %s", path)
	return 0
}

// urlValues builds query values from key, value pairs.
func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// atoi parses a number the test wrote itself.
func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lockRef takes git's lock on a ref of the spawned server's repository of
// project id, as a concurrent git would, so that git fails to change the
// ref; unlock releases it. Attached to a running server the repositories
// are out of reach, and the test is skipped.
func lockRef(t *testing.T, id int, ref string) (unlock func()) {
	t.Helper()
	if env.repoDir == "" {
		t.Skip("needs the spawned server's repositories to lock a ref")
	}
	lock := filepath.Join(env.repoDir, strconv.Itoa(id)+".git", filepath.FromSlash(ref)+".lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Remove(lock); err != nil {
			t.Fatal(err)
		}
	}
}
