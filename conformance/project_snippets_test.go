package conformance

// Project snippets (doc/api/project_snippets.md; endpoints.tsv rows for
// /projects/:id/snippets; entities.md "ProjectSnippet"): who sees which
// snippets, who may write them, validations, raw content, and the deleted
// row DELETE answers.

import (
	"net/http"
	"reflect"
	"testing"
)

// newSnippet creates a snippet as tok's user and returns it.
func newSnippet(t testing.TB, tok string, p testProject, vis int, kv ...string) obj {
	t.Helper()
	form := append([]string{"title", "snip " + uniqueName(t), "file_name", "hello.rb", "code", "puts 'hello'\n", "visibility_level", itoa(vis)}, kv...)
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/snippets", token(tok), formBody(form...))
	if r.status != http.StatusCreated {
		t.Fatalf("create snippet: %s", r)
	}
	return decode[obj](t, r.body)
}

func TestProjectSnippets(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	// 8.7 made projects with snippets disabled unless asked (default_projects_features).
	p := newProject(t, owner.Token, "visibility_level", itoa(visPublic), "snippets_enabled", "true")
	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	master, dev, reporter, guest := member(accessMaster), member(accessDeveloper), member(accessReporter), member(accessGuest)
	outsider := newUser(t)
	base := "/projects/" + p.idPath() + "/snippets"

	t.Run("create", func(t *testing.T) {
		r := do(t, http.MethodPost, base, token(reporter.Token), jsonBody(map[string]any{
			"title": "hello", "file_name": "hello.rb", "code": "puts 'hi'", "visibility_level": 10}))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		got := decode[obj](t, r.body)
		wantFields(t, got, "id", "title", "file_name", "author", "expires_at", "updated_at", "created_at")
		wantNoFields(t, got, "content", "code", "visibility_level")
		wantField(t, got, "title", "hello")
		wantField(t, got, "file_name", "hello.rb")
		wantField(t, got, "expires_at", nil)
		wantTimestamp(t, got, "created_at")
		author, _ := got["author"].(map[string]any)
		wantField(t, author, "username", reporter.Username)
		wantField(t, author, "id", reporter.ID)
	})

	t.Run("create: bad input", func(t *testing.T) {
		notGiven := func(name string) string { return `{"message":"400 (Bad request) \"` + name + `\" not given"}` }
		full := map[string]string{"title": "t", "file_name": "a.rb", "code": "x", "visibility_level": "0"}
		without := func(drop string, set ...string) []string {
			var kv []string
			for _, k := range []string{"title", "file_name", "code", "visibility_level"} {
				if k != drop {
					kv = append(kv, k, full[k])
				}
			}
			return append(kv, set...)
		}
		for _, field := range []string{"title", "file_name", "code", "visibility_level"} {
			t.Run("no "+field, func(t *testing.T) {
				wantError(t, do(t, http.MethodPost, base, token(reporter.Token), formBody(without(field)...)), 400, notGiven(field))
			})
		}
		t.Run("blank code", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, base, token(reporter.Token), formBody(without("code", "code", "  ")...)), 400, notGiven("code"))
		})
		t.Run("file name with a space", func(t *testing.T) {
			r := do(t, http.MethodPost, base, token(reporter.Token), formBody(without("file_name", "file_name", "a b.rb")...))
			wantError(t, r, 400, `{"message":{"file_name":["can contain only letters, digits, '_', '-', '@' and '.'. "]}}`)
		})
		t.Run("unknown visibility level", func(t *testing.T) {
			r := do(t, http.MethodPost, base, token(reporter.Token), formBody(without("visibility_level", "visibility_level", "5")...))
			wantError(t, r, 400, `{"message":{"visibility_level":["is not included in the list"]}}`)
		})
		t.Run("guest", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, base, token(guest.Token), formBody(without("")...)), 403, forbidden403)
		})
		t.Run("non-member of a public project", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, base, token(outsider.Token), formBody(without("")...)), 403, forbidden403)
		})
		t.Run("unknown project", func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, "/projects/999999999/snippets", token(reporter.Token), formBody(without("")...)), 404, projectNotFound)
		})
	})

	private := newSnippet(t, dev.Token, p, visPrivate)
	internal := newSnippet(t, dev.Token, p, visInternal)
	public := newSnippet(t, dev.Token, p, visPublic)
	ext := newUser(t, "external", "true")

	t.Run("list: what each caller sees, newest first", func(t *testing.T) {
		for _, row := range []struct {
			name string
			tok  string
			want []int
		}{
			{"member", guest.Token, []int{num(public, "id"), num(internal, "id"), num(private, "id")}},
			{"admin", env.rootToken, []int{num(public, "id"), num(internal, "id"), num(private, "id")}},
			{"non-member", outsider.Token, []int{num(public, "id"), num(internal, "id")}},
		} {
			t.Run(row.name, func(t *testing.T) {
				r := do(t, http.MethodGet, base, token(row.tok), query("per_page", "100"))
				if !wantStatus(t, r, http.StatusOK) {
					return
				}
				got := ids(decode[[]obj](t, r.body))
				var mine []int
				for _, id := range got {
					if containsInt(row.want, id) {
						mine = append(mine, id)
					}
				}
				if !reflect.DeepEqual(mine, row.want) {
					t.Errorf("ids %v, want %v among them in this order", got, row.want)
				}
				for _, id := range got {
					if id == num(private, "id") && !containsInt(row.want, id) {
						t.Errorf("the private snippet is listed for %s", row.name)
					}
				}
			})
		}
		r := do(t, http.MethodGet, base, token(owner.Token), query("per_page", "1", "page", "2"))
		if wantStatus(t, r, http.StatusOK) {
			if got := r.header.Get("X-Page"); got != "2" {
				t.Errorf("X-Page = %q, want 2", got)
			}
			if got := r.header.Get("X-Per-Page"); got != "1" {
				t.Errorf("X-Per-Page = %q, want 1", got)
			}
			if len(decode[[]obj](t, r.body)) != 1 {
				t.Errorf("page 2 of 1: %s", r.body)
			}
		}
	})

	t.Run("get and raw", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/"+itoa(num(internal, "id")), token(outsider.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(mustJSON(t, internal)))
		}
		r = do(t, http.MethodGet, base+"/"+itoa(num(internal, "id"))+"/raw", token(outsider.Token), rawAnswer())
		if wantStatus(t, r, http.StatusOK) {
			if string(r.body) != "puts 'hello'\n" {
				t.Errorf("raw = %q", r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/plain" && ct != "text/plain; charset=utf-8" {
				t.Errorf("raw Content-Type = %q, want text/plain", ct)
			}
		}
		for _, row := range []struct {
			name, tok, id, suffix string
		}{
			{"private snippet, non-member", outsider.Token, itoa(num(private, "id")), ""},
			{"private snippet raw, non-member", outsider.Token, itoa(num(private, "id")), "/raw"},
			{"unknown snippet", owner.Token, "999999999", ""},
			{"unknown snippet raw", owner.Token, "999999999", "/raw"},
		} {
			t.Run(row.name, func(t *testing.T) {
				wantError(t, do(t, http.MethodGet, base+"/"+row.id+row.suffix, token(row.tok)), 404, recordNotFound)
			})
		}
		other := newProject(t, owner.Token)
		wantError(t, do(t, http.MethodGet, "/projects/"+other.idPath()+"/snippets/"+itoa(num(public, "id")), token(owner.Token)), 404, recordNotFound)
		priv := newProject(t, owner.Token)
		wantError(t, do(t, http.MethodGet, "/projects/"+priv.idPath()+"/snippets", token(outsider.Token)), 404, projectNotFound)
		// An external user sees a public project's public and internal snippets, as 8.7's finder did.
		r = do(t, http.MethodGet, base, token(ext.Token))
		if wantStatus(t, r, http.StatusOK) && containsInt(ids(decode[[]obj](t, r.body)), num(private, "id")) {
			t.Errorf("an external user sees the private snippet")
		}
	})

	t.Run("update", func(t *testing.T) {
		path := base + "/" + itoa(num(public, "id"))
		r := do(t, http.MethodPut, path, token(dev.Token), formBody("title", "by the author", "code", "new code"))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "title", "by the author")
			wantField(t, got, "file_name", "hello.rb")
		}
		r = do(t, http.MethodGet, path+"/raw", token(dev.Token), rawAnswer())
		if wantStatus(t, r, http.StatusOK) && string(r.body) != "new code" {
			t.Errorf("raw after update = %q", r.body)
		}
		r = do(t, http.MethodPut, path, token(master.Token), jsonBody(map[string]any{"file_name": "by-master.rb"}))
		if wantStatus(t, r, http.StatusOK) {
			wantField(t, decode[obj](t, r.body), "file_name", "by-master.rb")
		}
		before := do(t, http.MethodGet, path, token(dev.Token))
		wantError(t, do(t, http.MethodPut, path, token(reporter.Token), formBody("title", "no")), 403, forbidden403)
		wantError(t, do(t, http.MethodPut, path, token(outsider.Token), formBody("title", "no")), 403, forbidden403)
		wantValidation(t, do(t, http.MethodPut, path, token(dev.Token), formBody("title", "kept?", "visibility_level", "3")), "visibility_level", "is not included in the list")
		wantError(t, do(t, http.MethodPut, base+"/"+itoa(num(private, "id")), token(outsider.Token), formBody("title", "no")), 404, recordNotFound)
		after := do(t, http.MethodGet, path, token(dev.Token))
		wantJSON(t, after.body, string(before.body))
		// Nothing given: the snippet as it was.
		r = do(t, http.MethodPut, path, token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, string(before.body))
		}
	})

	t.Run("delete", func(t *testing.T) {
		sn := newSnippet(t, dev.Token, p, visPublic)
		path := base + "/" + itoa(num(sn, "id"))
		wantError(t, do(t, http.MethodDelete, path, token(reporter.Token)), 403, forbidden403)
		r := do(t, http.MethodDelete, path, token(dev.Token))
		if wantStatus(t, r, http.StatusOK) {
			got := decode[obj](t, r.body)
			wantField(t, got, "id", num(sn, "id"))
			wantField(t, got, "content", "puts 'hello'\n")
			wantField(t, got, "author_id", dev.ID)
			wantField(t, got, "project_id", p.ID)
			wantField(t, got, "type", "ProjectSnippet")
			wantField(t, got, "visibility_level", visPublic)
		}
		wantError(t, do(t, http.MethodDelete, path, token(dev.Token)), 404, `{"message":"404 Snippet Not Found"}`)
		wantError(t, do(t, http.MethodGet, path, token(dev.Token)), 404, recordNotFound)
		wantError(t, do(t, http.MethodDelete, base+"/"+itoa(num(private, "id")), token(outsider.Token)), 404, `{"message":"404 Snippet Not Found"}`)
		// A master deletes another's snippet.
		other := newSnippet(t, dev.Token, p, visPrivate)
		wantStatus(t, do(t, http.MethodDelete, base+"/"+itoa(num(other, "id")), token(master.Token)), http.StatusOK)
	})

	t.Run("snippets disabled", func(t *testing.T) {
		q := newProject(t, owner.Token, "snippets_enabled", "true")
		addMember(t, "projects", q.ID, master.ID, accessMaster)
		addMember(t, "projects", q.ID, dev.ID, accessDeveloper)
		sn := newSnippet(t, dev.Token, q, visPrivate)
		r := do(t, http.MethodPut, "/projects/"+q.idPath(), token(owner.Token), formBody("snippets_enabled", "false"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		qBase := "/projects/" + q.idPath() + "/snippets"
		wantError(t, do(t, http.MethodPost, qBase, token(owner.Token), formBody("title", "t", "file_name", "a.rb", "code", "x", "visibility_level", "0")), 403, forbidden403)
		wantError(t, do(t, http.MethodPost, qBase, token(env.rootToken), formBody("title", "t", "file_name", "a.rb", "code", "x", "visibility_level", "0")), 403, forbidden403)
		wantError(t, do(t, http.MethodPut, qBase+"/"+itoa(num(sn, "id")), token(master.Token), formBody("title", "no")), 403, forbidden403)
		wantStatus(t, do(t, http.MethodPut, qBase+"/"+itoa(num(sn, "id")), token(dev.Token), formBody("title", "still mine")), http.StatusOK)
		wantStatus(t, do(t, http.MethodGet, qBase, token(master.Token)), http.StatusOK)
	})
}
