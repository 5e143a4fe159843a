package conformance

// gitlab-shell's internal API (8.7's lib/api/internal.rb): every call
// carries the shell secret; /internal/allowed judges a git command by
// Gitlab::GitAccess's rules, which are git over HTTP's too, so a push the
// server refuses over HTTP is refused here with the same words.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// shellSecret is the secret /internal/* wants; the rows cannot run without it.
func shellSecret(t testing.TB) string {
	t.Helper()
	if env.shellSecret == "" {
		t.Fatal("no shell secret: set LABRADOR_CONFORMANCE_SHELL_SECRET to the server's gitlab-shell secret")
	}
	return env.shellSecret
}

// allowed asks /internal/allowed with the given form fields (the secret
// added) and returns the verdict's message ("" when allowed).
func allowed(t testing.TB, kv ...string) string {
	t.Helper()
	r := do(t, http.MethodPost, "/internal/allowed", formBody(append([]string{"secret_token", shellSecret(t)}, kv...)...))
	if !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	o := decode[obj](t, r.body)
	status, _ := o["status"].(bool)
	msg, _ := o["message"].(string)
	if status != (msg == "") {
		t.Errorf("verdict %s: status and message disagree", r.body)
	}
	return msg
}

func TestInternalSecret(t *testing.T) {
	t.Parallel()
	secret := shellSecret(t)
	for _, tc := range []struct {
		name, method, path string
		opt                reqOpt
	}{
		{"allowed, wrong secret", http.MethodPost, "/internal/allowed", formBody("secret_token", "wrong", "action", "git-upload-pack")},
		{"allowed, no secret", http.MethodPost, "/internal/allowed", jsonBody(map[string]string{"action": "git-upload-pack"})},
		{"discover, wrong secret", http.MethodGet, "/internal/discover", query("secret_token", "wrong", "key_id", "1")},
		{"check, no secret", http.MethodGet, "/internal/check", nil},
		{"broadcast_message, wrong secret", http.MethodGet, "/internal/broadcast_message", query("secret_token", secret+"x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []reqOpt{}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			wantError(t, do(t, tc.method, tc.path, opts...), http.StatusUnauthorized, `{"message":"401 Unauthorized"}`)
		})
	}
	t.Run("check", func(t *testing.T) {
		r := do(t, http.MethodGet, "/internal/check", query("secret_token", secret))
		if wantStatus(t, r, http.StatusOK) {
			o := decode[obj](t, r.body)
			wantField(t, o, "api_version", "v3")
			if v := str(o, "gitlab_version"); !strings.HasPrefix(v, "8.7.") {
				t.Errorf("gitlab_version = %q, want 8.7.x", v)
			}
		}
	})
	t.Run("check: the secret with gitlab-shell's newline", func(t *testing.T) {
		wantStatus(t, do(t, http.MethodGet, "/internal/check", query("secret_token", secret+"\n")), http.StatusOK)
	})
	t.Run("broadcast_message: none", func(t *testing.T) {
		r := do(t, http.MethodGet, "/internal/broadcast_message", query("secret_token", secret))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{}`)
		}
	})
}

func TestInternalDiscover(t *testing.T) {
	t.Parallel()
	secret := shellSecret(t)
	owner := newUser(t)
	keyID, _ := addKey(t, owner.Token)
	p := newProject(t, owner.Token)
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/keys", token(owner.Token), formBody("title", "deploy", "key", newPublicKey(t)))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	deployID := num(decode[obj](t, r.body), "id")

	r = do(t, http.MethodGet, "/internal/discover", query("secret_token", secret, "key_id", itoa(keyID)))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `{"name":`+quote(owner.Name)+`,"username":`+quote(owner.Username)+`}`)
	}
	for name, id := range map[string]string{"unknown key": "999999999", "a deploy key has no owner": itoa(deployID), "not a number": "abc"} {
		t.Run(name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, "/internal/discover", query("secret_token", secret, "key_id", id)), 404, `{"message":"404 Not found"}`)
		})
	}
}

func TestInternalAllowed(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, dev, reporter, guest, outsider, blocked := newUser(t), newUser(t), newUser(t), newUser(t), newUser(t), newUser(t)
	p, raw, first := seededProject(t, g, owner)
	for _, m := range []struct{ id, level int }{{dev.ID, accessDeveloper}, {reporter.ID, accessReporter}, {guest.ID, accessGuest}, {blocked.ID, accessDeveloper}} {
		addMember(t, "projects", p.ID, m.id, m.level)
	}
	ownerKey, _ := addKey(t, owner.Token)
	r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/keys", token(owner.Token), formBody("title", "deploy", "key", newPublicKey(t)))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	deployKey := num(decode[obj](t, r.body), "id")
	other := newProject(t, outsider.Token)
	// A second commit on master, and a tag at the first.
	if r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/repository/files", token(owner.Token),
		formBody("file_path", "two.txt", "branch_name", "master", "content", "2", "commit_message", "two")); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	second := str(headOf(t, owner.Token, p, "master"), "id")
	if r := do(t, http.MethodPost, "/projects/"+p.idPath()+"/repository/tags", token(owner.Token), formBody("tag_name", "v1", "ref", first)); !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	if r := do(t, http.MethodPut, "/projects/"+p.idPath()+"/repository/branches/master/protect", token(owner.Token)); !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	if r := do(t, http.MethodPut, "/users/"+blocked.idPath()+"/block", token(env.rootToken)); !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	zero := strings.Repeat("0", 40)
	path := p.PathWithNamespace
	change := func(old, new, ref string) string { return old + " " + new + " " + ref }

	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"a reporter downloads", []string{"user_id", itoa(reporter.ID), "project", path, "action", "git-upload-pack"}, ""},
		{"the .git suffix, upload-archive", []string{"user_id", itoa(reporter.ID), "project", path + ".git", "action", "git-upload-archive"}, ""},
		{"the wiki is judged as the project", []string{"user_id", itoa(reporter.ID), "project", path + ".wiki", "action", "git-upload-pack"}, ""},
		{"by SSH key", []string{"key_id", itoa(ownerKey), "project", path, "action", "git-upload-pack"}, ""},
		{"a guest may not download", []string{"user_id", itoa(guest.ID), "project", path, "action", "git-upload-pack"},
			"You are not allowed to download code from this project."},
		{"no actor", []string{"project", path, "action", "git-upload-pack"}, "No user or key was provided."},
		{"unknown key", []string{"key_id", "999999999", "project", path, "action", "git-upload-pack"}, "No user or key was provided."},
		{"blocked user", []string{"user_id", itoa(blocked.ID), "project", path, "action", "git-upload-pack"}, "Your account has been blocked."},
		{"unknown project", []string{"user_id", itoa(owner.ID), "project", "nobody/nothing", "action", "git-upload-pack"},
			"The project you were looking for could not be found."},
		{"a private project of someone else", []string{"user_id", itoa(dev.ID), "project", other.PathWithNamespace, "action", "git-upload-pack"},
			"The project you were looking for could not be found."},
		{"unknown command", []string{"user_id", itoa(owner.ID), "project", path, "action", "git-annex-shell"},
			"The command you're trying to execute is not allowed."},
		{"a developer pushes a new branch", []string{"user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(zero, second, "refs/heads/topic")}, ""},
		{"a developer may not push to a protected branch", []string{"user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(first, second, "refs/heads/master")}, "You are not allowed to push code to protected branches on this project."},
		{"the first refused change refuses all", []string{"user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(zero, second, "refs/heads/topic") + "\n" + change(first, second, "refs/heads/master")},
			"You are not allowed to push code to protected branches on this project."},
		{"a master pushes to a protected branch", []string{"user_id", itoa(owner.ID), "project", path, "action", "git-receive-pack",
			"changes", change(first, second, "refs/heads/master")}, ""},
		{"nobody force-pushes a protected branch", []string{"user_id", itoa(owner.ID), "project", path, "action", "git-receive-pack",
			"changes", change(second, first, "refs/heads/master")}, "You are not allowed to force push code to a protected branch on this project."},
		{"nobody deletes a protected branch", []string{"user_id", itoa(owner.ID), "project", path, "action", "git-receive-pack",
			"changes", change(second, zero, "refs/heads/master")}, "You are not allowed to deleted protected branches from this project."},
		{"a developer may not move an existing tag", []string{"user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(first, zero, "refs/tags/v1")}, "You are not allowed to change existing tags on this project."},
		{"a developer pushes a new tag", []string{"user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(zero, first, "refs/tags/v2")}, ""},
		{"a reporter may not push", []string{"user_id", itoa(reporter.ID), "project", path, "action", "git-receive-pack",
			"changes", change(zero, second, "refs/heads/topic")}, "You are not allowed to push code to this project."},
		{"gitlab-shell's _any before the push", []string{"user_id", itoa(reporter.ID), "project", path, "action", "git-receive-pack", "changes", "_any"},
			"You are not allowed to push code to this project."},
		{"no changes at all pass, as in 8.7", []string{"user_id", itoa(reporter.ID), "project", path, "action", "git-receive-pack"}, ""},
		{"a deploy key reads its project", []string{"key_id", itoa(deployKey), "project", path, "action", "git-upload-pack"}, ""},
		{"a deploy key never pushes", []string{"key_id", itoa(deployKey), "project", path, "action", "git-receive-pack", "changes", "_any"},
			"Deploy keys are not allowed to push code."},
		{"a deploy key sees only its projects", []string{"key_id", itoa(deployKey), "project", other.PathWithNamespace, "action", "git-upload-pack"},
			"The project you were looking for could not be found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := allowed(t, tc.kv...); got != tc.want {
				t.Errorf("message = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("JSON body, null message when allowed", func(t *testing.T) {
		r := do(t, http.MethodPost, "/internal/allowed", jsonBody(map[string]string{
			"secret_token": shellSecret(t), "user_id": itoa(owner.ID), "project": path, "action": "git-upload-pack", "protocol": "ssh"}))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"status":true,"message":null}`)
		}
	})

	// The same push, over HTTP and asked of /internal/allowed: one verdict.
	t.Run("agrees with git over HTTP", func(t *testing.T) {
		work := g.clone(withCreds(t, raw, dev.Username, dev.Token))
		head := g.must(work, "rev-parse", "HEAD")
		next := g.commit(work, "dev.txt", "dev\n")
		want := "You are not allowed to push code to protected branches on this project."
		g.refused(want, work, "push", "origin", "master")
		if got := allowed(t, "user_id", itoa(dev.ID), "project", path, "action", "git-receive-pack",
			"changes", change(head, next, "refs/heads/master")); got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
