package conformance

// Repository files (doc/api/repository_files.md): reading a file at a ref,
// and creating, updating and deleting files, each a commit by the caller
// on an existing branch that is then a push (event and Push Hook). The
// repositories are made by real git pushes over HTTP.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// blobSHA is git's object name of a blob with content.
func blobSHA(content string) string {
	h := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content)))
	return hex.EncodeToString(h[:])
}

// readFile reads a file through the API as tok and returns its content.
func readFile(t testing.TB, tok string, p testProject, path, ref string) (obj, string) {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/files", token(tok), query("file_path", path, "ref", ref))
	if !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	o := decode[obj](t, r.body)
	raw, err := base64.StdEncoding.DecodeString(str(o, "content"))
	if err != nil {
		t.Fatalf("content is not base64: %v", err)
	}
	return o, string(raw)
}

// headOf is the branch's head commit, through the branches API.
func headOf(t testing.TB, tok string, p testProject, branch string) obj {
	t.Helper()
	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/branches/"+url.PathEscape(branch), token(tok))
	if !wantStatus(t, r, http.StatusOK) {
		t.FailNow()
	}
	c, _ := decode[obj](t, r.body)["commit"].(map[string]any)
	return c
}

func TestRepositoryFilesRead(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, reporter, guest, outsider := newUser(t), newUser(t), newUser(t), newUser(t)
	p, _, sha := seededProject(t, g, owner)
	addMember(t, "projects", p.ID, reporter.ID, accessReporter)
	addMember(t, "projects", p.ID, guest.ID, accessGuest)
	files := "/projects/" + p.idPath() + "/repository/files"
	readme := "# " + p.Name + "\n"

	t.Run("a file at a branch", func(t *testing.T) {
		r := do(t, http.MethodGet, files, token(reporter.Token), query("file_path", "README.md", "ref", "master"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantJSON(t, r.body, fmt.Sprintf(`{"file_name":"README.md","file_path":"README.md","size":%d,"encoding":"base64",
			"content":%q,"ref":"master","blob_id":%q,"commit_id":%q,"last_commit_id":%q}`,
			len(readme), base64.StdEncoding.EncodeToString([]byte(readme)), blobSHA(readme), sha, sha))
	})
	t.Run("at a SHA, ref as given", func(t *testing.T) {
		o, content := readFile(t, owner.Token, p, "README.md", sha[:10])
		wantField(t, o, "ref", sha[:10])
		wantField(t, o, "commit_id", sha)
		if content != readme {
			t.Errorf("content = %q, want %q", content, readme)
		}
	})
	for _, tc := range []struct {
		name   string
		tok    string
		q      []string
		status int
		body   string
	}{
		{"no file_path", reporter.Token, []string{"ref", "master"}, 400, `{"message":"400 (Bad request) \"file_path\" not given"}`},
		{"no ref", reporter.Token, []string{"file_path", "README.md"}, 400, `{"message":"400 (Bad request) \"ref\" not given"}`},
		{"unknown ref", reporter.Token, []string{"file_path", "README.md", "ref", "nope"}, 404, `{"message":"404 Commit Not Found"}`},
		{"unknown file", reporter.Token, []string{"file_path", "nope.txt", "ref", "master"}, 404, `{"message":"404 File Not Found"}`},
		{"a guest may not download code, before parameters", guest.Token, nil, 403, `{"message":"403 Forbidden"}`},
		{"an outsider does not see the project", outsider.Token, []string{"file_path", "README.md", "ref", "master"}, 404, `{"message":"404 Project Not Found"}`},
		{"no token", "", []string{"file_path", "README.md", "ref", "master"}, 401, `{"message":"401 Unauthorized"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodGet, files, token(tc.tok), query(tc.q...)), tc.status, tc.body)
		})
	}
	t.Run("an empty repository has no commit", func(t *testing.T) {
		empty := newProject(t, owner.Token)
		wantError(t, do(t, http.MethodGet, "/projects/"+empty.idPath()+"/repository/files", token(owner.Token),
			query("file_path", "README.md", "ref", "master")), 404, `{"message":"404 Commit Not Found"}`)
	})
}

func TestRepositoryFilesWrite(t *testing.T) {
	t.Parallel()
	skipUnlessLocal(t)
	g := newGitClient(t)
	owner, dev, reporter := newUser(t), newUser(t), newUser(t)
	p, _, first := seededProject(t, g, owner)
	addMember(t, "projects", p.ID, dev.ID, accessDeveloper)
	addMember(t, "projects", p.ID, reporter.ID, accessReporter)
	pushes := newReceiver(t, nil)
	addProjectHook(t, owner.Token, p, "url", pushes.srv.URL+"/push", "push_events", "true")
	files := "/projects/" + p.idPath() + "/repository/files"

	t.Run("create: a commit by the caller, then a push", func(t *testing.T) {
		r := do(t, http.MethodPost, files, token(dev.Token), formBody("file_path", "lib/class.rb", "branch_name", "master",
			"content", "puts 1\n", "commit_message", "Add class.rb"))
		if !wantStatus(t, r, http.StatusCreated) {
			t.FailNow()
		}
		wantJSON(t, r.body, `{"file_path":"lib/class.rb","branch_name":"master"}`)
		o, content := readFile(t, dev.Token, p, "lib/class.rb", "master")
		if content != "puts 1\n" {
			t.Errorf("content = %q", content)
		}
		head := headOf(t, dev.Token, p, "master")
		for k, v := range map[string]any{
			"message": "Add class.rb", "author_name": dev.Name, "author_email": dev.Email,
			"committer_name": dev.Name, "committer_email": dev.Email, "parent_ids": []any{first},
		} {
			wantField(t, head, k, v)
		}
		wantField(t, o, "last_commit_id", head["id"])
		got := pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["after"] == head["id"] })
		if len(got) != 1 {
			t.Fatalf("push hook deliveries for the commit: %d, want 1", len(got))
		}
		d := got[0].payload()
		for k, v := range map[string]any{
			"object_kind": "push", "before": first, "ref": "refs/heads/master", "user_id": dev.ID, "total_commits_count": 1,
		} {
			wantField(t, d, k, v)
		}
		if commits, _ := d["commits"].([]any); len(commits) != 1 {
			t.Errorf("commits = %v, want the one commit", d["commits"])
		} else {
			c, _ := commits[0].(map[string]any)
			wantField(t, c, "added", []any{"lib/class.rb"})
		}
	})
	t.Run("create: base64 content, JSON body", func(t *testing.T) {
		raw := "bin\x00ary\xff"
		r := do(t, http.MethodPost, files, token(dev.Token), jsonBody(map[string]any{"file_path": "data/b.bin", "branch_name": "master",
			"content": base64.StdEncoding.EncodeToString([]byte(raw)), "encoding": "base64", "commit_message": "binary"}))
		if !wantStatus(t, r, http.StatusCreated) {
			return
		}
		if _, content := readFile(t, dev.Token, p, "data/b.bin", "master"); content != raw {
			t.Errorf("content = %q, want %q", content, raw)
		}
	})
	for _, tc := range []struct {
		name   string
		tok    string
		kv     []string
		status int
		body   string
	}{
		{"an existing file", dev.Token, []string{"file_path", "README.md", "branch_name", "master", "content", "x", "commit_message", "m"},
			400, `{"message":"Your changes could not be committed because a file with the same name already exists"}`},
		{"directory traversal", dev.Token, []string{"file_path", "lib/../x.rb", "branch_name", "master", "content", "x", "commit_message", "m"},
			400, `{"message":"Your changes could not be committed, because the file name cannot include directory traversal. "}`},
		{"characters outside the file path's", dev.Token, []string{"file_path", "a b.txt", "branch_name", "master", "content", "x", "commit_message", "m"},
			400, `{"message":"Your changes could not be committed, because the file name can contain only letters, digits, '_', '-', '@' and '.'. Separate directories with a '/'. "}`},
		{"a file where a directory is needed", dev.Token, []string{"file_path", "README.md/x", "branch_name", "master", "content", "x", "commit_message", "m"},
			400, `{"message":"Invalid path"}`},
		{"no such branch", dev.Token, []string{"file_path", "new.txt", "branch_name", "nope", "content", "x", "commit_message", "m"},
			400, `{"message":"You can only create or edit files when you are on a branch"}`},
		{"blank content", dev.Token, []string{"file_path", "new.txt", "branch_name", "master", "content", " ", "commit_message", "m"},
			400, `{"message":"400 (Bad request) \"content\" not given"}`},
		{"no commit_message", dev.Token, []string{"file_path", "new.txt", "branch_name", "master", "content", "x"},
			400, `{"message":"400 (Bad request) \"commit_message\" not given"}`},
		{"a reporter may not push, before parameters", reporter.Token, nil, 403, `{"message":"403 Forbidden"}`},
		{"no token", "", []string{"file_path", "new.txt", "branch_name", "master", "content", "x", "commit_message", "m"}, 401, `{"message":"401 Unauthorized"}`},
	} {
		t.Run("create refused: "+tc.name, func(t *testing.T) {
			before := headOf(t, owner.Token, p, "master")["id"]
			wantError(t, do(t, http.MethodPost, files, token(tc.tok), formBody(tc.kv...)), tc.status, tc.body)
			if after := headOf(t, owner.Token, p, "master")["id"]; after != before {
				t.Errorf("master moved from %v to %v", before, after)
			}
		})
	}
	t.Run("create: unknown project", func(t *testing.T) {
		wantError(t, do(t, http.MethodPost, "/projects/999999999/repository/files", token(dev.Token),
			formBody("file_path", "x", "branch_name", "master", "content", "x", "commit_message", "m")), 404, `{"message":"404 Project Not Found"}`)
	})

	t.Run("update", func(t *testing.T) {
		r := do(t, http.MethodPut, files, token(dev.Token), formBody("file_path", "README.md", "branch_name", "master",
			"content", "changed\n", "commit_message", "Change README"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantJSON(t, r.body, `{"file_path":"README.md","branch_name":"master"}`)
		if _, content := readFile(t, dev.Token, p, "README.md", "master"); content != "changed\n" {
			t.Errorf("content = %q", content)
		}
		wantField(t, headOf(t, dev.Token, p, "master"), "message", "Change README")
	})
	t.Run("update of a missing file creates it, as in 8.7", func(t *testing.T) {
		r := do(t, http.MethodPut, files, token(dev.Token), formBody("file_path", "made/by/update.txt", "branch_name", "master",
			"content", "u", "commit_message", "update creates"))
		if wantStatus(t, r, http.StatusOK) {
			if _, content := readFile(t, dev.Token, p, "made/by/update.txt", "master"); content != "u" {
				t.Errorf("content = %q", content)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		tok    string
		kv     []string
		status int
		body   string
	}{
		{"no such branch", dev.Token, []string{"file_path", "README.md", "branch_name", "nope", "content", "x", "commit_message", "m"},
			400, `{"message":"You can only create or edit files when you are on a branch"}`},
		{"a path with ..", dev.Token, []string{"file_path", "../README.md", "branch_name", "master", "content", "x", "commit_message", "m"},
			400, `{"message":"Invalid path"}`},
		{"no branch_name", dev.Token, []string{"file_path", "README.md", "content", "x", "commit_message", "m"},
			400, `{"message":"400 (Bad request) \"branch_name\" not given"}`},
		{"a reporter may not push", reporter.Token, []string{"file_path", "README.md", "branch_name", "master", "content", "x", "commit_message", "m"},
			403, `{"message":"403 Forbidden"}`},
		{"no token", "", nil, 401, `{"message":"401 Unauthorized"}`},
		{"unknown project", dev.Token, nil, 404, `{"message":"404 Project Not Found"}`},
	} {
		t.Run("update refused: "+tc.name, func(t *testing.T) {
			path := files
			if tc.status == 404 {
				path = "/projects/999999999/repository/files"
			}
			wantError(t, do(t, http.MethodPut, path, token(tc.tok), formBody(tc.kv...)), tc.status, tc.body)
		})
	}

	t.Run("delete", func(t *testing.T) {
		r := do(t, http.MethodDelete, files, token(dev.Token), query("file_path", "lib/class.rb", "branch_name", "master", "commit_message", "Remove class.rb"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantJSON(t, r.body, `{"file_path":"lib/class.rb","branch_name":"master"}`)
		wantError(t, do(t, http.MethodGet, files, token(dev.Token), query("file_path", "lib/class.rb", "ref", "master")), 404, `{"message":"404 File Not Found"}`)
		head := headOf(t, dev.Token, p, "master")
		got := pushes.waitFor(t, "/push", 1, func(o obj) bool { return o != nil && o["after"] == head["id"] })
		if len(got) == 1 {
			commits, _ := got[0].payload()["commits"].([]any)
			if len(commits) == 1 {
				c, _ := commits[0].(map[string]any)
				wantField(t, c, "removed", []any{"lib/class.rb"})
			} else {
				t.Errorf("commits = %v, want one", commits)
			}
		} else {
			t.Errorf("push hook deliveries for the deletion: %d, want 1", len(got))
		}
	})
	for _, tc := range []struct {
		name   string
		tok    string
		opt    reqOpt
		status int
		body   string
	}{
		{"a missing file, form body", dev.Token, formBody("file_path", "lib/class.rb", "branch_name", "master", "commit_message", "m"),
			400, `{"message":"A file with this name doesn't exist"}`},
		{"no commit_message", dev.Token, query("file_path", "README.md", "branch_name", "master"),
			400, `{"message":"400 (Bad request) \"commit_message\" not given"}`},
		{"no such branch", dev.Token, query("file_path", "README.md", "branch_name", "nope", "commit_message", "m"),
			400, `{"message":"You can only create or edit files when you are on a branch"}`},
		{"a reporter may not push", reporter.Token, query("file_path", "README.md", "branch_name", "master", "commit_message", "m"),
			403, `{"message":"403 Forbidden"}`},
		{"no token", "", query("file_path", "README.md", "branch_name", "master", "commit_message", "m"), 401, `{"message":"401 Unauthorized"}`},
	} {
		t.Run("delete refused: "+tc.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodDelete, files, token(tc.tok), tc.opt), tc.status, tc.body)
		})
	}
	t.Run("delete: unknown project", func(t *testing.T) {
		wantError(t, do(t, http.MethodDelete, "/projects/999999999/repository/files", token(dev.Token),
			query("file_path", "x", "branch_name", "master", "commit_message", "m")), 404, `{"message":"404 Project Not Found"}`)
	})

	t.Run("protected branch: developers refused, masters commit", func(t *testing.T) {
		if r := do(t, http.MethodPut, "/projects/"+p.idPath()+"/repository/branches/master/protect", token(owner.Token)); !wantStatus(t, r, http.StatusOK) {
			t.FailNow()
		}
		before := headOf(t, owner.Token, p, "master")["id"]
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			wantError(t, do(t, method, files, token(dev.Token), formBody("file_path", "p.txt", "branch_name", "master", "content", "x", "commit_message", "m")),
				400, `{"message":"You are not allowed to push into this branch"}`)
		}
		wantError(t, do(t, http.MethodDelete, files, token(dev.Token), query("file_path", "README.md", "branch_name", "master", "commit_message", "m")),
			400, `{"message":"You are not allowed to push into this branch"}`)
		if after := headOf(t, owner.Token, p, "master")["id"]; after != before {
			t.Errorf("master moved from %v to %v", before, after)
		}
		r := do(t, http.MethodPost, files, token(owner.Token), formBody("file_path", "p.txt", "branch_name", "master", "content", "x", "commit_message", "by a master"))
		wantStatus(t, r, http.StatusCreated)
	})

	t.Run("the events of the commits", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/events", token(owner.Token), query("per_page", "100"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		var pushedTo int
		for _, e := range decode[[]obj](t, r.body) {
			if str(e, "action_name") == "pushed to" && num(e, "author_id") == dev.ID {
				pushedTo++
			}
		}
		// create, base64 create, update, update-creates, delete.
		if pushedTo != 5 {
			t.Errorf("%d `pushed to` events by the developer, want 5", pushedTo)
		}
	})
}

// In an empty repository the first file's commit starts the branch, which
// becomes the default branch; a deletion there has no file to delete.
func TestRepositoryFilesEmptyRepository(t *testing.T) {
	t.Parallel()
	owner := newUser(t)
	p := newProject(t, owner.Token)
	files := "/projects/" + p.idPath() + "/repository/files"
	wantError(t, do(t, http.MethodDelete, files, token(owner.Token), query("file_path", "a.txt", "branch_name", "master", "commit_message", "m")),
		400, `{"message":"A file with this name doesn't exist"}`)
	r := do(t, http.MethodPost, files, token(owner.Token), formBody("file_path", "/docs/a.txt", "branch_name", "main", "content", "first", "commit_message", "first"))
	if !wantStatus(t, r, http.StatusCreated) {
		t.FailNow()
	}
	wantJSON(t, r.body, `{"file_path":"/docs/a.txt","branch_name":"main"}`)
	o, content := readFile(t, owner.Token, p, "docs/a.txt", "main")
	if content != "first" {
		t.Errorf("content = %q", content)
	}
	wantField(t, headOf(t, owner.Token, p, "main"), "parent_ids", []any{})
	wantField(t, o, "file_name", "a.txt")
	wantField(t, getProject(t, owner.Token, p.ID), "default_branch", "main")
}

// N writers update one branch at once: each either commits (and its commit
// is in the branch's history) or gets 8.7's "branch received new push"
// answer and changes nothing; no update is lost.
func TestRepositoryFilesConcurrentCommits(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p, _, _ := seededProject(t, g, owner)
	files := "/projects/" + p.idPath() + "/repository/files"
	const n = 12
	statuses := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = do(t, http.MethodPut, files, token(owner.Token), formBody("file_path", "counter.txt", "branch_name", "master",
				"content", fmt.Sprintf("writer %d\n", i), "commit_message", fmt.Sprintf("writer %d", i)))
		}()
	}
	wg.Wait()
	r := do(t, http.MethodGet, "/projects/"+p.idPath()+"/repository/commits", token(owner.Token), query("per_page", "100"))
	if !wantStatus(t, r, http.StatusOK) {
		return
	}
	inLog := map[string]bool{}
	for _, c := range decode[[]obj](t, r.body) {
		inLog[strings.TrimSpace(str(c, "message"))] = true
	}
	var won int
	for i, resp := range statuses {
		msg := fmt.Sprintf("writer %d", i)
		switch resp.status {
		case http.StatusOK:
			won++
			if !inLog[msg] {
				t.Errorf("%s succeeded but its commit is not in master's history", msg)
			}
		case http.StatusBadRequest:
			wantJSON(t, resp.body, `{"message":"Commit was rejected because branch received new push"}`)
			if inLog[msg] {
				t.Errorf("%s was refused but its commit is in master's history", msg)
			}
		default:
			t.Errorf("%s: %s, want 200 or 400", msg, resp)
		}
	}
	if won == 0 {
		t.Error("no writer succeeded")
	}
	// The seed commit plus exactly one commit per success.
	if len(inLog) != won+1 {
		t.Errorf("master has %d commits, want %d (the seed and %d successes)", len(inLog), won+1, won)
	}
	t.Logf("%d of %d concurrent writers won", won, n)
}
