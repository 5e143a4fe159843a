package conformance

// GET /namespaces (doc/api/namespaces.md: a user sees their own namespaces,
// an administrator all; search matches name or path; paginated).

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

func TestNamespaces(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	other := createUser(t)

	// onlyPath keeps the namespaces with exactly this path (search is a
	// substring match, so other users may match too).
	onlyPath := func(list []obj, path string) []obj {
		var out []obj
		for _, n := range list {
			if str(n, "path") == path {
				out = append(out, n)
			}
		}
		return out
	}

	t.Run("a user sees their own namespace", func(t *testing.T) {
		r := do(t, http.MethodGet, "/namespaces", token(u.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if len(list) != 1 {
			t.Fatalf("%d namespaces, want 1 (the user's own): %s", len(list), r.body)
		}
		wantFields(t, list[0], "id", "path", "kind")
		wantField(t, list[0], "path", u.Username)
		wantField(t, list[0], "kind", "user")
		wantPage(t, r, page{path: "/namespaces", page: 1, perPage: 20, total: 1, pages: 1})
	})
	t.Run("a user does not find another's namespace", func(t *testing.T) {
		r := do(t, http.MethodGet, "/namespaces", token(u.Token), query("search", other.Username))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
		}
	})
	t.Run("a user's search finds their own", func(t *testing.T) {
		r := do(t, http.MethodGet, "/namespaces", token(u.Token), query("search", u.Username))
		if wantStatus(t, r, http.StatusOK) {
			list := decode[[]obj](t, r.body)
			if len(list) != 1 || str(list[0], "path") != u.Username {
				t.Errorf("namespaces = %s, want only %s", r.body, u.Username)
			}
		}
	})
	t.Run("a user sees the groups they are a member of", func(t *testing.T) {
		member := newUser(t)
		g := newGroup(t, env.rootToken)
		newGroup(t, env.rootToken) // another group: not listed
		addMember(t, "groups", g.ID, member.ID, accessGuest)
		r := do(t, http.MethodGet, "/namespaces", token(member.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		got := map[string]string{}
		for _, n := range list {
			got[str(n, "path")] = str(n, "kind")
		}
		want := map[string]string{member.Username: "user", g.Path: "group"}
		if len(got) != len(want) || got[member.Username] != "user" || got[g.Path] != "group" {
			t.Errorf("namespaces = %s, want %v", r.body, want)
		}
		for _, n := range list {
			if str(n, "path") == g.Path {
				wantField(t, n, "id", g.ID)
			}
		}
		wantPage(t, r, page{path: "/namespaces", page: 1, perPage: 20, total: 2, pages: 1})
		r = do(t, http.MethodGet, "/namespaces", token(member.Token), query("search", g.Path))
		if wantStatus(t, r, http.StatusOK) {
			if l := decode[[]obj](t, r.body); len(l) != 1 || str(l[0], "kind") != "group" {
				t.Errorf("search %s = %s, want only the group", g.Path, r.body)
			}
		}
	})
	t.Run("admin finds any user's namespace", func(t *testing.T) {
		r := do(t, http.MethodGet, "/namespaces", token(env.rootToken), query("search", other.Username))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := onlyPath(decode[[]obj](t, r.body), other.Username)
		if len(list) != 1 {
			t.Fatalf("namespaces with path %s: %d, want 1; body: %s", other.Username, len(list), r.body)
		}
		wantField(t, list[0], "kind", "user")
	})
	t.Run("admin sees more than their own", func(t *testing.T) {
		r := do(t, http.MethodGet, "/namespaces", token(env.rootToken), query("per_page", "100"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		total, err := strconv.Atoi(r.header.Get("X-Total"))
		if err != nil || total < 3 {
			t.Errorf("X-Total = %q, want at least 3 (root and this test's users)", r.header.Get("X-Total"))
		}
	})
	t.Run("pagination", func(t *testing.T) {
		tag := "ns" + env.runID + randomHex(2)
		for i := 0; i < 3; i++ {
			createUser(t, "username", tag+"_"+itoa(i))
		}
		params := url.Values{"search": {tag}}
		for _, p := range []struct{ page, items int }{{1, 2}, {2, 1}} {
			r := do(t, http.MethodGet, "/namespaces", token(env.rootToken), query("search", tag, "per_page", "2", "page", itoa(p.page)))
			if !wantStatus(t, r, http.StatusOK) {
				continue
			}
			list := decode[[]obj](t, r.body)
			if len(list) != p.items {
				t.Errorf("page %d: %d items, want %d: %s", p.page, len(list), p.items, r.body)
			}
			for _, n := range list {
				wantField(t, n, "kind", "user")
			}
			wantPage(t, r, page{path: "/namespaces", page: p.page, perPage: 2, total: 3, pages: 2, params: params})
		}
	})
}
