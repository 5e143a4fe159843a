package gitstore

// Tags: list, read, create and delete a repository's tags, each with the
// commit it points at, as GitLab 8.7's Repository did (through Rugged and
// gitlab-shell) for doc/api/tags.md.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrTagNotFound is a tag the repository does not have.
	ErrTagNotFound = errors.New("gitstore: no such tag")
	// ErrTagExists is a new tag whose name is taken.
	ErrTagExists = errors.New("gitstore: tag exists already")
	// ErrInvalidTagName is a name git refuses for a tag.
	ErrInvalidTagName = errors.New("gitstore: invalid tag name")
	// ErrInvalidRef is a ref (branch, tag or SHA) that names no commit.
	ErrInvalidRef = errors.New("gitstore: invalid reference")
	// ErrTagNotDeleted is git failing to remove an existing tag.
	ErrTagNotDeleted = errors.New("gitstore: tag not removed")
)

// Commit is a commit as GitLab's raw git commit object and push payloads showed it.
type Commit struct {
	ID             string
	Message        string // in full, as stored
	ParentIDs      []string
	AuthorName     string
	AuthorEmail    string
	AuthoredDate   time.Time // in the author's time zone
	CommitterName  string
	CommitterEmail string
	CommittedDate  time.Time // in the committer's time zone
	// Added, Modified and Removed are the paths changed against the first
	// parent (all added for a root commit; a rename is a removal and an
	// addition). Repos.Commit fills them, for push payloads; tag listings
	// leave them empty.
	Added, Modified, Removed []string
}

// Tag is a tag with its target commit.
type Tag struct {
	Name string
	// Message is an annotated tag's message without its last newline; nil
	// for a lightweight tag.
	Message *string
	// Commit is what the tag points at; nil when that is not a commit.
	Commit *Commit
}

// Signature names who makes a tag.
type Signature struct{ Name, Email string }

// tagFields is one for-each-ref record: the ref, the object it points at,
// and the commit fields both of that object and (for an annotated tag) of
// the object the tag points at ("*"). Every field ends in NUL, which no
// name or message can hold.
var tagFields = []string{
	"refname", "objecttype", "contents", "*objecttype",
	"objectname", "parent", "authorname", "authoremail:trim", "authordate:raw", "committername", "committeremail:trim", "committerdate:raw",
	"*objectname", "*parent", "*authorname", "*authoremail:trim", "*authordate:raw", "*committername", "*committeremail:trim", "*committerdate:raw", "*contents",
}

var tagFormat = func() string {
	var b strings.Builder
	for _, f := range tagFields {
		b.WriteString("%(" + f + ")%00")
	}
	return b.String()
}()

// Tags lists the repository's tags, sorted by name in reverse, as 8.7's
// API did. A project without a repository has none.
func (r *Repos) Tags(ctx context.Context, projectID int64) ([]Tag, error) {
	tags, err := r.readTags(ctx, projectID, "refs/tags/")
	if errors.Is(err, ErrNotExist) {
		return []Tag{}, nil
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name > tags[j].Name })
	return tags, nil
}

// Tag reads one tag, or ErrTagNotFound.
func (r *Repos) Tag(ctx context.Context, projectID int64, name string) (*Tag, error) {
	tags, err := r.readTags(ctx, projectID, "refs/tags/"+name)
	if errors.Is(err, ErrNotExist) {
		return nil, ErrTagNotFound
	}
	if err != nil {
		return nil, err
	}
	// The pattern also matches tags below name ("name/…").
	for i := range tags {
		if tags[i].Name == name {
			return &tags[i], nil
		}
	}
	return nil, ErrTagNotFound
}

// CreateTag tags the commit ref names (a branch, a tag or a SHA): an
// annotated tag by tagger when message is not empty, else a lightweight
// one. The checks run in 8.7's order: the name (ErrInvalidTagName), an
// existing tag (ErrTagExists), then the ref (ErrInvalidRef).
func (r *Repos) CreateTag(ctx context.Context, projectID int64, name, ref, message string, tagger Signature) (*Tag, error) {
	if name == "" || strings.HasPrefix(name, "-") {
		return nil, ErrInvalidTagName
	}
	if _, err := r.run(ctx, "", "check-ref-format", "refs/tags/"+name); err != nil {
		return nil, ErrInvalidTagName
	}
	switch _, err := r.Tag(ctx, projectID, name); {
	case err == nil:
		return nil, ErrTagExists
	case !errors.Is(err, ErrTagNotFound):
		return nil, err
	}
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return nil, ErrInvalidRef
	}
	if err != nil {
		return nil, err
	}
	if ref == "" || strings.HasPrefix(ref, "-") {
		return nil, ErrInvalidRef
	}
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return nil, ErrInvalidRef
	}
	sha := strings.TrimSpace(string(out))
	args := []string{"-c", "user.name=" + tagger.Name, "-c", "user.email=" + tagger.Email, "tag"}
	if message != "" {
		args = append(args, "-a", "-m", message)
	}
	if _, err := r.run(ctx, dir, append(args, "--", name, sha)...); err != nil {
		// Another request may have made the tag meanwhile.
		if _, again := r.Tag(ctx, projectID, name); again == nil {
			return nil, ErrTagExists
		}
		return nil, err
	}
	return r.Tag(ctx, projectID, name)
}

// DeleteTag removes a tag: ErrTagNotFound when there is none,
// ErrTagNotDeleted when git fails to remove it.
func (r *Repos) DeleteTag(ctx context.Context, projectID int64, name string) error {
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return ErrTagNotFound
	}
	if err != nil {
		return err
	}
	if _, err := r.Tag(ctx, projectID, name); err != nil {
		return err
	}
	if _, err := r.run(ctx, dir, "update-ref", "-d", "refs/tags/"+name); err != nil {
		return fmt.Errorf("%w: %v", ErrTagNotDeleted, err)
	}
	return nil
}

// readTags reads the tags under pattern with one git call.
func (r *Repos) readTags(ctx context.Context, projectID int64, pattern string) ([]Tag, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, dir, "for-each-ref", "--format="+tagFormat, pattern)
	if err != nil {
		return nil, err
	}
	fields := strings.Split(string(out), "\x00")
	n := len(tagFields)
	tags := []Tag{}
	for i := 0; i+n <= len(fields); i += n {
		rec := fields[i : i+n]
		// Each record but the first starts after for-each-ref's newline.
		name, ok := strings.CutPrefix(strings.TrimPrefix(rec[0], "\n"), "refs/tags/")
		if !ok {
			continue
		}
		t := Tag{Name: name}
		switch {
		case rec[1] == "commit":
			t.Commit, err = parseCommit(rec[4:12], rec[2])
		case rec[1] == "tag":
			msg := strings.TrimSuffix(rec[2], "\n")
			t.Message = &msg
			if rec[3] == "commit" {
				t.Commit, err = parseCommit(rec[12:20], rec[20])
			}
		}
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", name, err)
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// parseCommit reads the fields objectname, parent, author name, email and
// date, committer name, email and date.
func parseCommit(f []string, message string) (*Commit, error) {
	authored, err := parseRawDate(f[4])
	if err != nil {
		return nil, err
	}
	committed, err := parseRawDate(f[7])
	if err != nil {
		return nil, err
	}
	parents := strings.Fields(f[1])
	if parents == nil {
		parents = []string{}
	}
	return &Commit{ID: f[0], Message: message, ParentIDs: parents,
		AuthorName: f[2], AuthorEmail: f[3], AuthoredDate: authored,
		CommitterName: f[5], CommitterEmail: f[6], CommittedDate: committed}, nil
}

// parseRawDate reads git's raw date, "<unix seconds> <+hhmm>", in its zone.
func parseRawDate(raw string) (time.Time, error) {
	secs, zone, ok := strings.Cut(strings.TrimSpace(raw), " ")
	if !ok || len(zone) != 5 {
		return time.Time{}, fmt.Errorf("bad date %q", raw)
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q", raw)
	}
	h, err1 := strconv.Atoi(zone[1:3])
	m, err2 := strconv.Atoi(zone[3:5])
	if err1 != nil || err2 != nil {
		return time.Time{}, fmt.Errorf("bad date %q", raw)
	}
	offset := h*3600 + m*60
	if zone[0] == '-' {
		offset = -offset
	}
	return time.Unix(sec, 0).In(time.FixedZone("", offset)), nil
}
