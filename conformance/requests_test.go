package conformance

// Request handling common to every route (doc/api/README.md; the spec's
// description "Parameters" and "Errors"). These rows are not about one
// operation; unknown routes and methods are not in the ledger.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRequestHandling(t *testing.T) {
	t.Parallel()
	u := newUser(t)

	t.Run(".json suffix", func(t *testing.T) {
		for _, row := range []struct{ name, path, tok, username string }{
			{"GET /user.json", "/api/v3/user.json", u.Token, u.Username},
			{"GET /users/:id.json", "/api/v3/users/" + u.idPath() + ".json", env.rootToken, u.Username},
		} {
			t.Run(row.name, func(t *testing.T) {
				r := do(t, http.MethodGet, row.path, token(row.tok))
				if wantStatus(t, r, http.StatusOK) {
					wantField(t, decode[obj](t, r.body), "username", row.username)
				}
			})
		}
	})

	t.Run("POST /users parameters", func(t *testing.T) {
		rows := []struct {
			name string
			opts func(n string) []reqOpt
		}{
			{"in the query string", func(n string) []reqOpt {
				return []reqOpt{query("email", n+"@example.com", "password", "password1", "name", n, "username", n)}
			}},
			{"in a form body", func(n string) []reqOpt {
				return []reqOpt{formBody("email", n+"@example.com", "password", "password1", "name", n, "username", n)}
			}},
			{"in a JSON body", func(n string) []reqOpt {
				return []reqOpt{jsonBody(map[string]string{"email": n + "@example.com", "password": "password1", "name": n, "username": n})}
			}},
			{"split between query and form body", func(n string) []reqOpt {
				return []reqOpt{query("email", n+"@example.com", "password", "password1"), formBody("name", n, "username", n)}
			}},
		}
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				n := uniqueName(t)
				r := do(t, http.MethodPost, "/users", append([]reqOpt{token(env.rootToken)}, row.opts(n)...)...)
				if !wantStatus(t, r, http.StatusCreated) {
					return
				}
				got := decode[obj](t, r.body)
				wantField(t, got, "username", n)
				wantField(t, got, "email", n+"@example.com")
				if list := usersNamed(t, n); len(list) != 1 {
					t.Errorf("users named %s: %d, want 1", n, len(list))
				}
			})
		}
	})

	t.Run("malformed JSON body", func(t *testing.T) {
		n := uniqueName(t)
		body := `{"email":"` + n + `@example.com","password":"password1","name":"` + n + `","username":"` + n + `"`
		r := do(t, http.MethodPost, "/users", token(env.rootToken), jsonBody(body))
		wantStatus(t, r, http.StatusBadRequest)
		wantNoUser(t, n)
	})

	t.Run("body over the cap", func(t *testing.T) {
		if env.maxBody == 0 {
			t.Skip("the server's body cap is unknown when attached to a running server")
		}
		n := uniqueName(t)
		bio := strings.Repeat("a", int(env.maxBody)+1024)
		r := do(t, http.MethodPost, "/users", token(env.rootToken),
			jsonBody(map[string]string{"email": n + "@example.com", "password": "password1", "name": n, "username": n, "bio": bio}))
		wantError(t, r, http.StatusRequestEntityTooLarge, `{"message":"413 Request Entity Too Large"}`)
		wantNoUser(t, n)
	})

	t.Run("HEAD is answered like GET, without the body", func(t *testing.T) {
		r := do(t, http.MethodHead, "/user", token(env.rootToken))
		if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %q %q, want 200 application/json with no body", r.status, r.header.Get("Content-Type"), r.body)
		}
		r = do(t, http.MethodHead, "/users", token(env.rootToken), query("per_page", "1"))
		if r.status != http.StatusOK || r.header.Get("X-Total") == "" || len(r.body) != 0 {
			t.Fatalf("list: got %d X-Total %q body %q, want 200 with the pagination headers and no body", r.status, r.header.Get("X-Total"), r.body)
		}
	})

	t.Run("HEAD keeps the connection open", func(t *testing.T) {
		// A list declares its length; the answer to a HEAD of it must still
		// leave the keep-alive connection usable for the next request.
		api, err := url.Parse(env.api)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", api.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(conn)
		for _, req := range []struct{ method, path string }{
			{"HEAD", "/users?per_page=2"}, {"HEAD", "/users?per_page=2"}, {"GET", "/user"},
		} {
			fmt.Fprintf(conn, "%s %s%s HTTP/1.1\r\nHost: %s\r\nPRIVATE-TOKEN: %s\r\n\r\n", req.method, api.Path, req.path, api.Host, env.rootToken)
			resp, err := http.ReadResponse(br, &http.Request{Method: req.method})
			if err != nil {
				t.Fatalf("%s %s on the same connection: %v", req.method, req.path, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("%s %s: %d, closing the connection: %v", req.method, req.path, resp.StatusCode, resp.Close)
			}
		}
	})

	t.Run("wrong method on a known path", func(t *testing.T) {
		for _, row := range []struct {
			method, path string
			allow        []string
		}{
			{"PATCH", "/user", []string{"GET"}},
			{"DELETE", "/session", []string{"POST"}},
			{"PATCH", "/users", []string{"GET", "POST"}},
		} {
			t.Run(row.method+" "+row.path, func(t *testing.T) {
				r := do(t, row.method, row.path, token(u.Token))
				wantError(t, r, http.StatusMethodNotAllowed, `{"error":"405 Not Allowed"}`)
				allow := r.header.Get("Allow")
				for _, m := range row.allow {
					if !strings.Contains(allow, m) {
						t.Errorf("Allow = %q, want it to list %s", allow, m)
					}
				}
			})
		}
	})

	t.Run("unknown route", func(t *testing.T) {
		for _, path := range []string{"/api/v3/nope", "/api/v3/users/1/nope"} {
			t.Run(path, func(t *testing.T) {
				wantError(t, do(t, http.MethodGet, path, token(u.Token)), http.StatusNotFound, `{"error":"404 Not Found"}`)
			})
		}
	})

	t.Run("Content-Type is application/json", func(t *testing.T) {
		for _, row := range []struct {
			name   string
			path   string
			opts   []reqOpt
			status int
		}{
			{"success", "/user", []reqOpt{token(u.Token)}, 200},
			{"error", "/user", nil, 401},
			{"not found", "/users/999999999", []reqOpt{token(u.Token)}, 404},
			{"unknown route", "/nope", []reqOpt{token(u.Token)}, 404},
		} {
			t.Run(row.name, func(t *testing.T) {
				r := do(t, http.MethodGet, row.path, row.opts...)
				wantStatus(t, r, row.status)
				if got := r.header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
					t.Errorf("Content-Type = %q, want exactly application/json", got)
				}
			})
		}
	})

	t.Run("timestamps", func(t *testing.T) {
		r := do(t, http.MethodGet, "/user", token(u.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantTimestamp(t, got, "created_at")
			wantTimestamp(t, got, "confirmed_at")
		}
		// No other time form anywhere in the body.
		if bytes.Contains(r.body, []byte(`+00:00"`)) {
			t.Errorf("body has a +00:00 zone, want Z: %s", r.body)
		}
	})

	t.Run("GET /-/health", func(t *testing.T) {
		if env.attached {
			t.Skip("a Labrador endpoint; a running GitLab need not have it")
		}
		wantStatus(t, do(t, http.MethodGet, "/-/health"), http.StatusOK)
	})
}

// TestBodyCapEveryOperation sends every operation that takes a body one
// larger than the server's cap: each answers 413 with GitLab's body, before
// authentication or parameters are looked at, and nothing is written.
func TestBodyCapEveryOperation(t *testing.T) {
	t.Parallel()
	if env.maxBody == 0 {
		t.Skip("the server's body cap is unknown when attached to a running server")
	}
	big := `{"pad":"` + strings.Repeat("a", int(env.maxBody)) + `"}`
	var n int
	for _, path := range env.spec.Paths.InMatchingOrder() {
		for method, o := range env.spec.Paths.Value(path).Operations() {
			if o.RequestBody == nil {
				continue
			}
			n++
			op := operation{method, path}
			t.Run(method+" "+path, func(t *testing.T) {
				r := do(t, op.method, op.sample(), token(env.rootToken), jsonBody(big))
				wantError(t, r, http.StatusRequestEntityTooLarge, `{"message":"413 Request Entity Too Large"}`)
			})
		}
	}
	if n == 0 {
		t.Fatal("the spec has no operation with a request body")
	}
}
