package conformance

// The main flows once more, through the Go client generated from the spec
// (gen/v3client): what a typed consumer of the contract sees. The client
// uses the same validating transport, so these requests are validated and
// counted too.

import (
	"context"
	"net/http"
	"testing"

	"github.com/labrador-dev/labrador/gen/v3client"
)

// apiClient is a generated client that authenticates with tok (none if empty).
func apiClient(t testing.TB, tok string) *v3client.ClientWithResponses {
	t.Helper()
	c, err := v3client.NewClientWithResponses(env.api,
		v3client.WithHTTPClient(env.http),
		v3client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if tok != "" {
				req.Header.Set("PRIVATE-TOKEN", tok)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctx names t as the sender, so that the transport fails t on a response
// that does not match the spec.
func ctx(t testing.TB) context.Context { return withTest(context.Background(), t) }

func ptr[T any](v T) *T { return &v }

// genResponse is what every generated response type has.
type genResponse interface {
	StatusCode() int
	GetBody() []byte
}

// wantCode fails the test now unless the call succeeded with the status.
func wantCode(t testing.TB, what string, r genResponse, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := r.StatusCode(); got != want {
		t.Fatalf("%s: status = %d, want %d; body: %s", what, got, want, truncate(r.GetBody(), 1000))
	}
}

func TestTypedClientFlows(t *testing.T) {
	t.Parallel()
	root := apiClient(t, env.rootToken)
	username := uniqueName(t)
	password := "typed-" + randomHex(6)
	email := username + "@example.com"

	created, err := root.CreateUserWithResponse(ctx(t), v3client.CreateUserJSONRequestBody{
		Email: email, Password: password, Name: "Typed " + username, Username: username, Confirm: ptr(false),
	})
	wantCode(t, "createUser", created, err, http.StatusCreated)
	if created.JSON201 == nil || created.JSON201.Username != username || created.JSON201.Email != email {
		t.Fatalf("createUser: got %+v, want username %s and email %s", created.JSON201, username, email)
	}
	id := created.JSON201.ID

	session, err := apiClient(t, "").CreateSessionWithFormdataBodyWithResponse(ctx(t), v3client.CreateSessionBody{
		Login: ptr(username), Password: ptr(password),
	})
	wantCode(t, "createSession", session, err, http.StatusCreated)
	if session.JSON201 == nil || session.JSON201.PrivateToken == "" || session.JSON201.ID != id {
		t.Fatalf("createSession: got %+v, want user %d with a private_token", session.JSON201, id)
	}
	user := apiClient(t, session.JSON201.PrivateToken)

	t.Run("current user", func(t *testing.T) {
		me, err := user.GetCurrentUserWithResponse(ctx(t))
		wantCode(t, "getCurrentUser", me, err, http.StatusOK)
		if me.JSON200.Username != username || me.JSON200.PrivateToken != session.JSON201.PrivateToken || me.JSON200.IsAdmin {
			t.Errorf("getCurrentUser: got %+v, want %s with the session's token, not admin", me.JSON200, username)
		}
		if me.JSON200.ConfirmedAt == nil {
			t.Errorf("getCurrentUser: confirmed_at = null, want a time (created with confirm=false)")
		}
	})

	t.Run("update as admin", func(t *testing.T) {
		upd, err := root.UpdateUserWithResponse(ctx(t), id, v3client.UpdateUserJSONRequestBody{Name: ptr("Renamed"), ProjectsLimit: ptr(4)})
		wantCode(t, "updateUser", upd, err, http.StatusOK)
		if upd.JSON200.Name != "Renamed" || upd.JSON200.ProjectsLimit != 4 {
			t.Errorf("updateUser: got name %q projects_limit %d, want Renamed and 4", upd.JSON200.Name, upd.JSON200.ProjectsLimit)
		}
		got, err := root.GetUserWithResponse(ctx(t), id)
		wantCode(t, "getUser", got, err, http.StatusOK)
		full, err := got.JSON200.AsUserFull()
		if err != nil || full.Name != "Renamed" || full.Email != email {
			t.Errorf("getUser: got %+v (%v), want name Renamed and email %s", full, err, email)
		}
	})

	t.Run("list by username", func(t *testing.T) {
		list, err := root.ListUsersWithResponse(ctx(t), &v3client.ListUsersParams{Username: ptr(username)})
		wantCode(t, "listUsers", list, err, http.StatusOK)
		if list.JSON200 == nil || len(*list.JSON200) != 1 {
			t.Fatalf("listUsers: got %s, want one user", bodyOf(list))
		}
		full, err := (*list.JSON200)[0].AsUserFull()
		if err != nil || full.ID != id {
			t.Errorf("listUsers: got %+v (%v), want user %d", full, err, id)
		}
	})

	t.Run("SSH key", func(t *testing.T) {
		key := newPublicKey(t)
		add, err := user.CreateCurrentUserKeyWithResponse(ctx(t), v3client.CreateSSHKeyBody{Title: "typed", Key: key})
		wantCode(t, "createCurrentUserKey", add, err, http.StatusCreated)
		keyID := add.JSON201.ID

		list, err := user.ListCurrentUserKeysWithResponse(ctx(t))
		wantCode(t, "listCurrentUserKeys", list, err, http.StatusOK)
		if len(*list.JSON200) != 1 || (*list.JSON200)[0].Key != key {
			t.Errorf("listCurrentUserKeys: got %s, want the one key", bodyOf(list))
		}
		one, err := user.GetCurrentUserKeyWithResponse(ctx(t), keyID)
		wantCode(t, "getCurrentUserKey", one, err, http.StatusOK)
		if one.JSON200.Title != "typed" {
			t.Errorf("getCurrentUserKey: title %q, want typed", one.JSON200.Title)
		}
		withUser, err := root.GetKeyWithResponse(ctx(t), keyID)
		wantCode(t, "getKey", withUser, err, http.StatusOK)
		if withUser.JSON200.User == nil || withUser.JSON200.User.Username != username {
			t.Errorf("getKey: user %+v, want %s", withUser.JSON200.User, username)
		}
		del, err := user.DeleteCurrentUserKeyWithResponse(ctx(t), itoa(keyID))
		wantCode(t, "deleteCurrentUserKey", del, err, http.StatusOK)
		if k, err := del.JSON200.AsDeletedKey(); err != nil || k.ID != keyID {
			t.Errorf("deleteCurrentUserKey: got %s (%v), want key %d", bodyOf(del), err, keyID)
		}
	})

	t.Run("email", func(t *testing.T) {
		addr := uniqueName(t) + "@example.org"
		add, err := user.CreateCurrentUserEmailWithFormdataBodyWithResponse(ctx(t), v3client.CreateEmailBody{Email: addr})
		wantCode(t, "createCurrentUserEmail", add, err, http.StatusCreated)
		list, err := root.ListUserEmailsWithResponse(ctx(t), id)
		wantCode(t, "listUserEmails", list, err, http.StatusOK)
		if len(*list.JSON200) != 1 || (*list.JSON200)[0].Email != addr {
			t.Errorf("listUserEmails: got %s, want [%s]", bodyOf(list), addr)
		}
		del, err := root.DeleteUserEmailWithResponse(ctx(t), id, add.JSON201.ID)
		wantCode(t, "deleteUserEmail", del, err, http.StatusOK)
	})

	t.Run("namespaces", func(t *testing.T) {
		ns, err := user.ListNamespacesWithResponse(ctx(t), &v3client.ListNamespacesParams{})
		wantCode(t, "listNamespaces", ns, err, http.StatusOK)
		if len(*ns.JSON200) != 1 || (*ns.JSON200)[0].Path != username || (*ns.JSON200)[0].Kind != "user" {
			t.Errorf("listNamespaces: got %s, want the user's own namespace", bodyOf(ns))
		}
	})

	t.Run("block, unblock, delete", func(t *testing.T) {
		b, err := root.BlockUserWithResponse(ctx(t), id)
		wantCode(t, "blockUser", b, err, http.StatusOK)
		if b.JSON200 == nil || !*b.JSON200 {
			t.Errorf("blockUser: got %s, want true", bodyOf(b))
		}
		u, err := root.UnblockUserWithResponse(ctx(t), id)
		wantCode(t, "unblockUser", u, err, http.StatusOK)
		if u.JSON200 == nil || !*u.JSON200 {
			t.Errorf("unblockUser: got %s, want true", bodyOf(u))
		}
		d, err := root.DeleteUserWithResponse(ctx(t), id)
		wantCode(t, "deleteUser", d, err, http.StatusOK)
		if d.JSON200 == nil || d.JSON200.ID != id || d.JSON200.Username != username {
			t.Errorf("deleteUser: got %s, want user %d", bodyOf(d), id)
		}
		gone, err := root.GetUserWithResponse(ctx(t), id)
		wantCode(t, "getUser", gone, err, http.StatusNotFound)
		if gone.JSON404 == nil || gone.JSON404.Message != "404 Not found" {
			t.Errorf("getUser: got %s, want 404 Not found", bodyOf(gone))
		}
	})
}

// bodyOf reads the raw body of any generated response, for messages.
func bodyOf(r genResponse) string { return truncate(r.GetBody(), 1000) }
