package conformance

// The repository read API (doc/api/repositories.md; endpoints.tsv rows for
// /projects/:id/repository/{tree,blobs,commits/:sha/blob,raw_blobs,archive,
// compare,contributors}; entities.md "RepoTreeObject", "Compare",
// "RepoDiff", "Contributor"). Commits are pushed over HTTP with the git
// client; the API then reads them back.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// The response validator reads an archive's body as a file, as it does
// application/octet-stream.
func init() { openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder) }

func TestRepository(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner := newUser(t)
	p := newProject(t, owner.Token)
	raw := repoURL(t, owner.Token, p)
	work := g.clone(withCreds(t, raw, owner.Username, owner.Token))
	g.commit(work, "README.md", "hello\n")
	if err := os.MkdirAll(filepath.Join(work, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.commit(work, "dir/a.txt", "a\nb\n")
	master := g.commit(work, "bin.dat", "\x00\x01\x02binary")
	g.must(work, "push", "--quiet", "origin", "master")
	g.must(work, "checkout", "--quiet", "-b", "feature/x")
	g.commit(work, "README.md", "hello\nworld\n")
	feature := g.commit(work, "new.txt", "new\n")
	g.must(work, "push", "--quiet", "origin", "feature/x")
	readmeBlob := g.must(work, "rev-parse", master+":README.md")
	binBlob := g.must(work, "rev-parse", master+":bin.dat")

	member := func(level int) testUser {
		u := newUser(t)
		addMember(t, "projects", p.ID, u.ID, level)
		return u
	}
	reporter, guest, stranger := member(accessReporter), member(accessGuest), newUser(t)
	base := "/projects/" + p.idPath() + "/repository"

	t.Run("tree of the default branch: directories first", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/tree", token(reporter.Token))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		list := decode[[]obj](t, r.body)
		if got, want := names(list, "name"), []string{"dir", "README.md", "bin.dat"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("names = %v, want %v", got, want)
		}
		wantField(t, list[0], "type", "tree")
		wantField(t, list[0], "mode", "040000")
		wantField(t, list[1], "type", "blob")
		wantField(t, list[1], "mode", "100644")
		wantField(t, list[1], "id", readmeBlob)
	})
	t.Run("tree of a directory of a branch with a slash, by project path", func(t *testing.T) {
		r := do(t, http.MethodGet, "/projects/"+p.encoded()+"/repository/tree", token(owner.Token), query("path", "dir/", "ref_name", "feature/x"))
		if wantStatus(t, r, http.StatusOK) {
			if got := names(decode[[]obj](t, r.body), "name"); !reflect.DeepEqual(got, []string{"a.txt"}) {
				t.Errorf("names = %v, want [a.txt]", got)
			}
		}
		r = do(t, http.MethodGet, base+"/tree", token(owner.Token), query("ref_name", feature))
		if wantStatus(t, r, http.StatusOK) {
			if got := names(decode[[]obj](t, r.body), "name"); !reflect.DeepEqual(got, []string{"dir", "README.md", "bin.dat", "new.txt"}) {
				t.Errorf("names = %v", got)
			}
		}
	})
	t.Run("tree of a missing directory or a file is empty", func(t *testing.T) {
		for _, path := range []string{"nope", "README.md"} {
			r := do(t, http.MethodGet, base+"/tree", token(owner.Token), query("path", path))
			if wantStatus(t, r, http.StatusOK) {
				wantJSON(t, r.body, `[]`)
			}
		}
	})

	t.Run("raw file by branch, tag-like ref and both paths", func(t *testing.T) {
		for _, path := range []string{base + "/blobs/master", base + "/commits/" + url.PathEscape("feature/x") + "/blob", base + "/blobs/" + master} {
			r := do(t, http.MethodGet, path, token(reporter.Token), query("filepath", "README.md"), rawAnswer())
			if !wantStatus(t, r, http.StatusOK) {
				continue
			}
			want := "hello\n"
			if strings.Contains(path, "feature") {
				want = "hello\nworld\n"
			}
			if string(r.body) != want {
				t.Errorf("%s: body %q, want %q", path, r.body, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("%s: Content-Type %q, want text/plain", path, ct)
			}
		}
	})
	t.Run("raw blobs by SHA, with their detected type", func(t *testing.T) {
		for _, c := range []struct{ sha, body, ct string }{
			{readmeBlob, "hello\n", "text/plain"},
			{binBlob, "\x00\x01\x02binary", "application/octet-stream"},
		} {
			r := do(t, http.MethodGet, base+"/raw_blobs/"+c.sha, token(reporter.Token), rawAnswer())
			if wantStatus(t, r, http.StatusOK) {
				if string(r.body) != c.body || r.header.Get("Content-Type") != c.ct {
					t.Errorf("%s: %q as %q, want %q as %q", c.sha, r.body, r.header.Get("Content-Type"), c.body, c.ct)
				}
			}
		}
	})

	prefix := p.Path + "-master-" + master
	t.Run("archive: tar.gz by default", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/archive", token(reporter.Token), rawAnswer())
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		wantDisposition(t, r, prefix+".tar.gz")
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		wantTar(t, zr, prefix+"/README.md")
	})
	t.Run("archive formats by suffix", func(t *testing.T) {
		fp := p.Path + "-feature-x-" + feature
		for _, c := range []struct{ suffix, file, ct string }{
			{"zip", fp + ".zip", "application/zip"},
			{"tar", fp + ".tar", "application/octet-stream"},
			{"tgz", fp + ".tar.gz", "application/octet-stream"},
			{"tar.bz2", fp + ".tar.bz2", "application/octet-stream"},
		} {
			r := do(t, http.MethodGet, base+"/archive."+c.suffix, token(owner.Token), query("sha", "feature/x"), rawAnswer())
			if !wantStatus(t, r, http.StatusOK) {
				continue
			}
			wantDisposition(t, r, c.file)
			if ct := r.header.Get("Content-Type"); ct != c.ct {
				t.Errorf("%s: Content-Type %q, want %q", c.suffix, ct, c.ct)
			}
			switch c.suffix {
			case "zip":
				zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
				if err != nil {
					t.Fatalf("zip: %v", err)
				}
				var got []string
				for _, f := range zr.File {
					got = append(got, f.Name)
				}
				if !containsString(got, fp+"/new.txt") {
					t.Errorf("zip holds %v, want %s/new.txt", got, fp)
				}
			case "tar":
				wantTar(t, bytes.NewReader(r.body), fp+"/new.txt")
			case "tgz":
				zr, err := gzip.NewReader(bytes.NewReader(r.body))
				if err != nil {
					t.Fatalf("not gzip: %v", err)
				}
				wantTar(t, zr, fp+"/new.txt")
			case "tar.bz2":
				wantTar(t, bzip2.NewReader(bytes.NewReader(r.body)), fp+"/new.txt")
			}
		}
	})

	t.Run("compare a branch with its base", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/compare", token(reporter.Token), query("from", "master", "to", "feature/x"))
		if !wantStatus(t, r, http.StatusOK) {
			return
		}
		got := decode[obj](t, r.body)
		commits, _ := got["commits"].([]any)
		if len(commits) != 2 {
			t.Fatalf("commits = %v, want 2", got["commits"])
		}
		last, _ := commits[1].(obj)
		wantField(t, last, "id", feature)
		wantField(t, last, "short_id", feature[:11])
		wantField(t, last, "title", "add new.txt")
		wantField(t, last, "message", "add new.txt\n")
		wantField(t, last, "author_email", "conformance@example.com")
		wantField(t, got, "commit", last)
		wantField(t, got, "compare_timeout", false)
		wantField(t, got, "compare_same_ref", false)
		diffs, _ := got["diffs"].([]any)
		if len(diffs) != 2 {
			t.Fatalf("diffs = %v, want 2", got["diffs"])
		}
		readme, added := diffs[0].(obj), diffs[1].(obj)
		wantField(t, readme, "new_path", "README.md")
		wantField(t, readme, "a_mode", "100644")
		wantField(t, readme, "new_file", false)
		if d := str(readme, "diff"); !strings.HasPrefix(d, "--- a/README.md\n+++ b/README.md\n@@") || !strings.Contains(d, "\n+world\n") {
			t.Errorf("diff = %q", d)
		}
		wantField(t, added, "new_path", "new.txt")
		wantField(t, added, "a_mode", "0")
		wantField(t, added, "b_mode", "100644")
		wantField(t, added, "new_file", true)
		wantField(t, added, "renamed_file", false)
		wantField(t, added, "deleted_file", false)
	})
	t.Run("compare the same ref, and an unknown one", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/compare", token(owner.Token), query("from", "master", "to", "master"))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"commit":null,"commits":[],"diffs":[],"compare_timeout":false,"compare_same_ref":true}`)
		}
		r = do(t, http.MethodGet, base+"/compare", token(owner.Token), query("from", "master", "to", "nope"))
		if wantStatus(t, r, http.StatusOK) {
			wantJSON(t, r.body, `{"commit":null,"commits":[],"diffs":[],"compare_timeout":false,"compare_same_ref":false}`)
		}
	})

	t.Run("contributors of the default branch", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/contributors", token(reporter.Token))
		if wantStatus(t, r, http.StatusOK) {
			// README (1 line), a.txt (2 lines) and a binary file (none).
			wantJSON(t, r.body, `[{"name":"Conformance","email":"conformance@example.com","commits":3,"additions":3,"deletions":0}]`)
		}
	})

	stranger404 := `{"message":"404 Project Not Found"}`
	rejects := []struct {
		name, path, tok string
		query           []string
		status          int
		body            string
	}{
		{"tree of an unknown ref", base + "/tree", owner.Token, []string{"ref_name", "nope"}, 404, `{"message":"404 Tree Not Found"}`},
		{"raw file without filepath", base + "/blobs/master", owner.Token, nil, 400, `{"message":"400 (Bad request) \"filepath\" not given"}`},
		{"raw file without filepath, second path", base + "/commits/master/blob", owner.Token, nil, 400, `{"message":"400 (Bad request) \"filepath\" not given"}`},
		{"raw file of an unknown commit", base + "/blobs/nope", owner.Token, []string{"filepath", "README.md"}, 404, `{"message":"404 Commit Not Found"}`},
		{"raw file of an unknown commit, second path", base + "/commits/nope/blob", owner.Token, []string{"filepath", "README.md"}, 404, `{"message":"404 Commit Not Found"}`},
		{"raw file that does not exist", base + "/blobs/master", owner.Token, []string{"filepath", "nope.txt"}, 404, `{"message":"404 File Not Found"}`},
		{"raw file that is a directory", base + "/commits/master/blob", owner.Token, []string{"filepath", "dir"}, 404, `{"message":"404 File Not Found"}`},
		{"raw blob of a commit SHA", base + "/raw_blobs/" + master, owner.Token, nil, 404, `{"message":"404 Blob Not Found"}`},
		{"raw blob by branch name", base + "/raw_blobs/master", owner.Token, nil, 404, `{"message":"404 Blob Not Found"}`},
		{"archive of an unknown ref", base + "/archive", owner.Token, []string{"sha", "nope"}, 404, `{"message":"404 File Not Found"}`},
		{"zip of an unknown ref", base + "/archive.zip", owner.Token, []string{"sha", "nope"}, 404, `{"message":"404 File Not Found"}`},
		{"archive of an unknown format", base + "/archive.rar", owner.Token, nil, 404, `{"error":"404 Not Found"}`},
		{"compare without to", base + "/compare", owner.Token, []string{"from", "master"}, 400, `{"message":"400 (Bad request) \"to\" not given"}`},
		{"guest: tree", base + "/tree", guest.Token, nil, 403, forbidden403},
		{"guest: raw file without filepath, access first", base + "/blobs/master", guest.Token, nil, 403, forbidden403},
		{"guest: raw file, second path", base + "/commits/master/blob", guest.Token, []string{"filepath", "README.md"}, 403, forbidden403},
		{"guest: raw blob", base + "/raw_blobs/" + readmeBlob, guest.Token, nil, 403, forbidden403},
		{"guest: archive", base + "/archive", guest.Token, nil, 403, forbidden403},
		{"guest: zip", base + "/archive.zip", guest.Token, nil, 403, forbidden403},
		{"guest: compare without parameters, access first", base + "/compare", guest.Token, nil, 403, forbidden403},
		{"guest: contributors", base + "/contributors", guest.Token, nil, 403, forbidden403},
		{"stranger: tree", base + "/tree", stranger.Token, nil, 404, stranger404},
		{"stranger: raw file", base + "/blobs/master", stranger.Token, nil, 404, stranger404},
		{"stranger: raw file, second path", base + "/commits/master/blob", stranger.Token, nil, 404, stranger404},
		{"stranger: raw blob", base + "/raw_blobs/" + readmeBlob, stranger.Token, nil, 404, stranger404},
		{"stranger: archive", base + "/archive", stranger.Token, nil, 404, stranger404},
		{"stranger: tar", base + "/archive.tar", stranger.Token, nil, 404, stranger404},
		{"stranger: compare", base + "/compare", stranger.Token, nil, 404, stranger404},
		{"stranger: contributors", base + "/contributors", stranger.Token, nil, 404, stranger404},
	}
	for _, row := range rejects {
		t.Run(row.name, func(t *testing.T) {
			opts := []reqOpt{token(row.tok)}
			if row.query != nil {
				opts = append(opts, query(row.query...))
			}
			wantError(t, do(t, http.MethodGet, row.path, opts...), row.status, row.body)
		})
	}
}

// An empty repository has no tree, files, archive or contributors; a
// public project's code is anyone's to read.
func TestRepositoryEmptyAndPublic(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	owner, outsider := newUser(t), newUser(t)
	empty := "/projects/" + newProject(t, owner.Token).idPath() + "/repository"
	for _, c := range []struct {
		path   string
		query  []string
		status int
		body   string
	}{
		{"/tree", nil, 404, `{"message":"404 Tree Not Found"}`},
		{"/blobs/master", []string{"filepath", "README.md"}, 404, `{"message":"404 Commit Not Found"}`},
		{"/raw_blobs/abcdef", nil, 404, `{"message":"404 Blob Not Found"}`},
		{"/archive", nil, 404, `{"message":"404 File Not Found"}`},
		{"/archive.tar.gz", nil, 404, `{"message":"404 File Not Found"}`},
		{"/contributors", nil, 404, `{"message":"404 Not Found"}`},
	} {
		opts := []reqOpt{token(owner.Token)}
		if c.query != nil {
			opts = append(opts, query(c.query...))
		}
		wantError(t, do(t, http.MethodGet, empty+c.path, opts...), c.status, c.body)
	}
	r := do(t, http.MethodGet, empty+"/compare", token(owner.Token), query("from", "a", "to", "b"))
	if wantStatus(t, r, http.StatusOK) {
		wantJSON(t, r.body, `{"commit":null,"commits":[],"diffs":[],"compare_timeout":false,"compare_same_ref":false}`)
	}

	pub, _, sha := seededProject(t, g, owner, "visibility_level", itoa(visPublic))
	base := "/projects/" + pub.idPath() + "/repository"
	r = do(t, http.MethodGet, base+"/tree", token(outsider.Token))
	if wantStatus(t, r, http.StatusOK) {
		if got := names(decode[[]obj](t, r.body), "name"); !reflect.DeepEqual(got, []string{"README.md"}) {
			t.Errorf("names = %v, want [README.md]", got)
		}
	}
	r = do(t, http.MethodGet, base+"/blobs/"+sha, token(outsider.Token), query("filepath", "README.md"), rawAnswer())
	if wantStatus(t, r, http.StatusOK) && string(r.body) != "# "+pub.Name+"\n" {
		t.Errorf("README = %q", r.body)
	}
}

func wantDisposition(t testing.TB, r response, file string) {
	t.Helper()
	if got, want := r.header.Get("Content-Disposition"), `attachment; filename="`+file+`"`; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
}

// wantTar checks that the tar stream holds the file name.
func wantTar(t testing.TB, r io.Reader, name string) {
	t.Helper()
	tr := tar.NewReader(r)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("tar: %v (read %v)", err, got)
		}
		got = append(got, h.Name)
	}
	if !containsString(got, name) {
		t.Errorf("archive holds %v, want %s", got, name)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
