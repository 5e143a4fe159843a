package persistence

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The JSON read of user rows gives what the driver's column-wise read
// gives, for every kind of value a row can hold, and hands rows it cannot
// read alike back to it.
func TestUsersJSONMatchesColumns(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2016, 4, 22, 10, 30, 15, 123456789, time.FixedZone("", 2*3600))
	rows := []struct {
		name, email, username, bio string
		confirmed                  any
		created                    any
	}{
		{"Plain", "plain@example.com", "plain", "bio", at, at},
		{`Quote " and \ back`, "q@example.com", "q", "tab\there\nnewline\r\x01ctl", nil, at.UTC()},
		{"Ünïcødé 名前 😀", "u@example.com", "u", "/slash/ and </script>", "2016-04-22 10:30:15", "2016-04-22T10:30:15Z"},
		{"", "e@example.com", "e", "", "2016-04-22", "not a time"},
		{"India", "in@example.com", "in", "x", at.In(time.FixedZone("IST", 5*3600+1800)), "2016-04-22 10:30:15.5-03:00"},
		{"Odd", "odd@example.com", "odd", "x", "2016-04-31 10:30:15+00:00", "2016-02-29 23:59:59.000000001+00:00"},
	}
	for _, r := range rows {
		err := s.Exec(ctx, `INSERT INTO users (email, encrypted_password, name, username, bio, admin, private_token, confirmed_at, created_at, updated_at)
			VALUES (?, 'x', ?, ?, ?, 1, ?, ?, ?, ?)`, r.email, r.name, r.username, r.bio, "tok-"+r.username, r.confirmed, r.created, at)
		if err != nil {
			t.Fatal(err)
		}
	}
	q := "SELECT " + userColumns + " FROM users ORDER BY id"
	want, err := s.queryUsersColumns(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.queryUsersJSON(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(rows) || !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON read:\n%+v\nwant (column read):\n%+v", got, want)
	}

	// The list, in one query on SQLite, answers as the generic path does.
	if err := s.Exec(ctx, `INSERT INTO identities (user_id, provider, extern_uid, created_at, updated_at)
		SELECT id, 'ldapmain', 'uid=' || username, ?, ? FROM users WHERE username IN ('q', 'in')`, at, at); err != nil {
		t.Fatal(err)
	}
	lists := []struct {
		name string
		f    UserFilter
		pg   Page
	}{
		{"all", UserFilter{WithIdentities: true}, Page{Limit: 20}},
		{"page 2 of 2", UserFilter{WithIdentities: true}, Page{Offset: 2, Limit: 2}},
		{"no identities on the page", UserFilter{WithIdentities: true}, Page{Offset: 0, Limit: 1}},
		{"past the end", UserFilter{WithIdentities: true}, Page{Offset: 40, Limit: 20}},
		{"search", UserFilter{Search: "EXAMPLE", ActiveOnly: true}, Page{Limit: 3}},
		{"search, nothing", UserFilter{Search: "nobody"}, Page{Limit: 3}},
		{"username", UserFilter{Username: "in", WithIdentities: true}, Page{}},
	}
	if _, _, err := s.listUsersJSON(ctx, "", nil, Page{Limit: 20}, true); err != nil {
		t.Fatalf("the one-query list declined these rows: %v", err)
	}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			got, gotTotal, err := s.ListUsers(ctx, tc.f, tc.pg)
			if err != nil {
				t.Fatal(err)
			}
			s.dialect = "generic" // the column-wise path, on the same database
			want, wantTotal, err := s.ListUsers(ctx, tc.f, tc.pg)
			s.dialect = "sqlite"
			if err != nil {
				t.Fatal(err)
			}
			if gotTotal != wantTotal || !reflect.DeepEqual(got, want) {
				t.Errorf("ListUsers = %d %+v\nwant %d %+v", gotTotal, got, wantTotal, want)
			}
		})
	}

	// A time stored as a number: the driver reads it as Unix time, the
	// JSON path declines and the column read answers.
	if err := s.Exec(ctx, `UPDATE users SET last_sign_in_at = 1461320000 WHERE username = 'plain'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.queryUsersJSON(ctx, q); !errors.Is(err, errRowShape) {
		t.Fatalf("JSON read of a numeric time: %v, want errRowShape", err)
	}
	users, err := s.queryUserRows(ctx, q)
	if err != nil || users[0].LastSignInAt == nil || !users[0].LastSignInAt.Equal(time.Unix(1461320000, 0)) {
		t.Fatalf("last_sign_in_at = %v, %v; want the Unix time", users[0].LastSignInAt, err)
	}
}
