package server

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labrador-dev/labrador/persistence"
)

// gitAccess against 8.7's abilities: every caller × visibility × service.
func TestGitAccess(t *testing.T) {
	user := &persistence.User{ID: 1, Username: "u", State: persistence.UserActive}
	external := &persistence.User{ID: 2, Username: "x", State: persistence.UserActive, External: true}
	admin := &persistence.User{ID: 3, Username: "root", State: persistence.UserActive, Admin: true}
	type caller struct {
		name  string
		user  *persistence.User
		level int
		ci    bool
	}
	var (
		anonymous = caller{name: "anonymous"}
		stranger  = caller{name: "stranger", user: user}
		ext       = caller{name: "external stranger", user: external}
		guest     = caller{name: "guest", user: user, level: persistence.AccessGuest}
		reporter  = caller{name: "reporter", user: user, level: persistence.AccessReporter}
		developer = caller{name: "developer", user: user, level: persistence.AccessDeveloper}
		master    = caller{name: "master", user: user, level: persistence.AccessMaster}
		root      = caller{name: "admin", user: admin}
		ciBuild   = caller{name: "CI build", ci: true}
	)
	const (
		private  = persistence.VisibilityPrivate
		internal = persistence.VisibilityInternal
		public   = persistence.VisibilityPublic
	)
	rows := []struct {
		who        caller
		visibility int
		archived   bool
		missing    bool
		download   *gitRefusal
		push       *gitRefusal
	}{
		{who: anonymous, visibility: public, download: nil, push: gitUnauthorized},
		{who: anonymous, visibility: internal, download: gitUnauthorized, push: gitUnauthorized},
		{who: anonymous, visibility: private, download: gitUnauthorized, push: gitUnauthorized},
		{who: anonymous, missing: true, download: gitUnauthorized, push: gitUnauthorized},
		{who: stranger, missing: true, download: gitNotFound, push: gitNotFound},
		{who: stranger, visibility: public, download: nil, push: gitNoPush},
		{who: stranger, visibility: internal, download: nil, push: gitNoPush},
		{who: stranger, visibility: private, download: gitNotFound, push: gitNotFound},
		{who: ext, visibility: public, download: nil, push: gitNoPush},
		{who: ext, visibility: internal, download: gitNotFound, push: gitNotFound},
		{who: guest, visibility: private, download: gitNoDownload, push: gitNoPush},
		{who: guest, visibility: public, download: nil, push: gitNoPush},
		{who: reporter, visibility: private, download: nil, push: gitNoPush},
		{who: developer, visibility: private, download: nil, push: nil},
		{who: developer, visibility: private, archived: true, download: nil, push: gitNoPush},
		{who: master, visibility: private, download: nil, push: nil},
		{who: master, visibility: private, archived: true, download: nil, push: gitNoPush},
		{who: root, visibility: private, download: nil, push: nil},
		{who: root, visibility: private, archived: true, download: nil, push: gitNoPush},
		{who: ciBuild, visibility: private, download: nil, push: gitNoPush},
		{who: ciBuild, missing: true, download: gitNotFound, push: gitNotFound},
	}
	name := func(r *gitRefusal) string {
		if r == nil {
			return "allowed"
		}
		return r.text + " (" + strconv.Itoa(r.status) + ")"
	}
	for _, row := range rows {
		scope := &projectScope{user: row.who.user, access: persistence.Access{Level: row.who.level}}
		if !row.missing {
			scope.project = &persistence.Project{ID: 9, VisibilityLevel: row.visibility, Archived: row.archived}
		}
		for _, svc := range []struct {
			service string
			want    *gitRefusal
		}{{uploadPack, row.download}, {receivePack, row.push}} {
			got := gitAccess(scope, row.who.ci, svc.service)
			if got != svc.want {
				t.Errorf("%s, visibility %d, archived %v, missing %v, %s: got %s, want %s",
					row.who.name, row.visibility, row.archived, row.missing, svc.service, name(got), name(svc.want))
			}
		}
	}
	if got := gitAccess(&projectScope{user: admin, project: &persistence.Project{}}, false, "git-upload-archive"); got != gitNoSuchAction {
		t.Errorf("an unknown service: got %s, want %s", name(got), name(gitNoSuchAction))
	}
}

// holdTail lets everything through but the last bytes, until release.
func TestHoldTail(t *testing.T) {
	rec := httptest.NewRecorder()
	h := &holdTail{ResponseWriter: rec, n: 4}
	for _, part := range []string{"00", "1fab", "cdef", "0", "000"} {
		if n, err := h.Write([]byte(part)); n != len(part) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", part, n, err)
		}
	}
	if got := rec.Body.String(); got != "001fabcdef" {
		t.Errorf("before release the client has %q, want %q", got, "001fabcdef")
	}
	if err := h.release(); err != nil {
		t.Fatal(err)
	}
	if got := rec.Body.String(); got != "001fabcdef0000" {
		t.Errorf("after release the client has %q, want %q", got, "001fabcdef0000")
	}
}

func TestIsGitRoute(t *testing.T) {
	for path, want := range map[string]bool{
		"/group/project.git/info/refs":        true,
		"/group/project/info/refs":            true,
		"/group/project.git/git-upload-pack":  true,
		"/group/project.git/git-receive-pack": true,
		"/group/project.git/HEAD":             false,
		"/group/sub/project.git/info/refs":    false,
		"/api/v3/git-receive-pack":            false,
		"/ci/api/info/refs":                   false,
		"/api/v3/projects":                    false,
	} {
		if got := isGitRoute(path); got != want {
			t.Errorf("isGitRoute(%q) = %v, want %v", path, got, want)
		}
	}
}
