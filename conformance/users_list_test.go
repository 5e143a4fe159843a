package conformance

// GET /users (endpoints.tsv: "username = exact match and disables pagination;
// search matches name/email/username; active = only active users";
// admin callers get UserFull, others UserBasic).

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

func TestListUsers(t *testing.T) {
	t.Parallel()
	// A token only this test's users carry in their names.
	tag := "lst" + env.runID + randomHex(2)
	a := newUser(t, "name", "Alpha "+tag)
	b := createUser(t, "name", "Beta "+tag)
	blocked := createUser(t, "name", "Gamma "+tag)
	if r := do(t, http.MethodPut, "/users/"+blocked.idPath()+"/block", token(env.rootToken)); r.status != http.StatusOK {
		t.Fatalf("block: %s", r)
	}
	all := []int{a.ID, b.ID, blocked.ID}

	rows := []struct {
		name  string
		tok   string
		query []string
		want  []int // exactly these ids, in any order
		admin bool  // UserFull (with email) rather than UserBasic
	}{
		{name: "username exact match", tok: env.rootToken, query: []string{"username", a.Username}, want: []int{a.ID}, admin: true},
		{name: "username is not a prefix search", tok: env.rootToken, query: []string{"username", a.Username[:len(a.Username)-1]}, want: nil, admin: true},
		{name: "unknown username", tok: env.rootToken, query: []string{"username", "nosuchuser" + env.runID}, want: nil, admin: true},
		{name: "search by name", tok: env.rootToken, query: []string{"search", tag}, want: all, admin: true},
		{name: "search is case-insensitive", tok: env.rootToken, query: []string{"search", strings.ToUpper(tag)}, want: all, admin: true},
		{name: "search by email", tok: env.rootToken, query: []string{"search", b.Email}, want: []int{b.ID}, admin: true},
		{name: "search by username", tok: env.rootToken, query: []string{"search", blocked.Username}, want: []int{blocked.ID}, admin: true},
		{name: "active only", tok: env.rootToken, query: []string{"search", tag, "active", "true"}, want: []int{a.ID, b.ID}, admin: true},
		// 8.7 filtered whenever the parameter was present (`params[:active].present?`).
		{name: "active=false filters too", tok: env.rootToken, query: []string{"search", tag, "active", "false"}, want: []int{a.ID, b.ID}, admin: true},
		// username wins over search.
		{name: "username ignores search", tok: env.rootToken, query: []string{"username", b.Username, "search", a.Username}, want: []int{b.ID}, admin: true},
		{name: "non-admin: UserBasic", tok: a.Token, query: []string{"search", tag}, want: all},
		{name: "non-admin username", tok: a.Token, query: []string{"username", b.Username}, want: []int{b.ID}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := do(t, http.MethodGet, "/users", token(row.tok), query(row.query...))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			if row.query[0] == "username" {
				// endpoints.tsv: username "disables pagination".
				for _, h := range []string{"X-Total", "X-Total-Pages", "X-Page", "X-Per-Page", "Link"} {
					if v, ok := r.header[h]; ok {
						t.Errorf("header %s = %q, want none (username disables pagination)", h, v)
					}
				}
			}
			list := decode[[]obj](t, r.body)
			got := ids(list)
			sort.Ints(got)
			want := append([]int(nil), row.want...)
			sort.Ints(want)
			if !equalInts(got, want) {
				t.Errorf("ids = %v, want %v; body: %s", got, want, truncate(r.body, 1000))
			}
			for _, u := range list {
				wantFields(t, u, "id", "username", "name", "state", "avatar_url", "web_url")
				if row.admin {
					wantFields(t, u, "email", "created_at", "is_admin", "projects_limit", "identities")
				} else {
					wantNoFields(t, u, "email", "private_token", "projects_limit", "identities")
				}
				if num(u, "id") == blocked.ID {
					wantField(t, u, "state", "blocked")
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListUsersPagination(t *testing.T) {
	t.Parallel()
	tag := "pg" + env.runID + randomHex(2)
	var created []int
	for i := 0; i < 5; i++ {
		created = append(created, createUser(t, "name", "Paged "+tag).ID)
	}
	sort.Ints(created)
	params := url.Values{"search": {tag}}

	seen := map[int]int{}
	var firstNext string
	for _, p := range []struct{ page, items int }{{1, 2}, {2, 2}, {3, 1}} {
		t.Run("page "+itoa(p.page), func(t *testing.T) {
			r := do(t, http.MethodGet, "/users", token(env.rootToken),
				query("search", tag, "per_page", "2", "page", itoa(p.page)))
			if !wantStatus(t, r, http.StatusOK) {
				return
			}
			list := decode[[]obj](t, r.body)
			if len(list) != p.items {
				t.Errorf("%d items, want %d; body: %s", len(list), p.items, truncate(r.body, 1000))
			}
			for _, id := range ids(list) {
				seen[id]++
			}
			wantPage(t, r, page{path: "/users", page: p.page, perPage: 2, total: 5, pages: 3, params: params})
			if p.page == 1 {
				firstNext = parseLinks(t, r.header.Get("Link"))["next"]
			}
		})
	}
	t.Run("pages cover every user once", func(t *testing.T) {
		var got []int
		for id, n := range seen {
			got = append(got, id)
			if n != 1 {
				t.Errorf("user %d appeared on %d pages, want 1", id, n)
			}
		}
		sort.Ints(got)
		if !equalInts(got, created) {
			t.Errorf("ids over all pages = %v, want %v", got, created)
		}
	})
	t.Run("the next link works", func(t *testing.T) {
		if firstNext == "" {
			t.Fatal("no next link on page 1 (reported above)")
		}
		r := do(t, http.MethodGet, firstNext, token(env.rootToken))
		if wantStatus(t, r, http.StatusOK) {
			wantHeader(t, r, "X-Page", "2")
			if n := len(decode[[]obj](t, r.body)); n != 2 {
				t.Errorf("%d items, want 2", n)
			}
		}
	})
	t.Run("page past the end is empty", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users", token(env.rootToken), query("search", tag, "per_page", "2", "page", "4"))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `[]`)
			wantHeader(t, r, "X-Total", "5")
			wantHeader(t, r, "X-Page", "4")
			wantHeader(t, r, "X-Next-Page", "")
		}
	})
	t.Run("default per_page is 20", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users", token(env.rootToken), query("search", tag))
		if wantStatus(t, r, http.StatusOK) {
			wantPage(t, r, page{path: "/users", page: 1, perPage: 20, total: 5, pages: 1, params: params})
			if n := len(decode[[]obj](t, r.body)); n != 5 {
				t.Errorf("%d items, want 5", n)
			}
		}
	})
	t.Run("per_page above 100 is capped at 100", func(t *testing.T) {
		r := do(t, http.MethodGet, "/users", token(env.rootToken), query("search", tag, "per_page", "1000"))
		if wantStatus(t, r, http.StatusOK) {
			wantPage(t, r, page{path: "/users", page: 1, perPage: 100, total: 5, pages: 1, params: params})
		}
		// Unfiltered (other tests add users meanwhile, so only the bound is exact).
		r = do(t, http.MethodGet, "/users", token(env.rootToken), query("per_page", "1000"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantHeader(t, r, "X-Per-Page", "100")
		if n := len(decode[[]obj](t, r.body)); n > 100 {
			t.Errorf("%d items, want at most 100", n)
		}
	})
}
