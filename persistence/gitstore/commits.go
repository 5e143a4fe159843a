package gitstore

// What a push brought: the commits of a ref update and their details, as
// GitLab 8.7's GitPushService and Commit#hook_attrs read them.

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PushedCommits lists the commits that u brought to its branch, oldest
// first, as 8.7's GitPushService counted them: old..new for an update; for
// a new branch, its whole history when it is the default branch (or there
// is none yet: the first push), else the commits not on the default
// branch. A deletion brought none.
func (r *Repos) PushedCommits(ctx context.Context, projectID int64, u RefUpdate, defaultBranch string) ([]string, error) {
	if u.Deleted() {
		return nil, nil
	}
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	stdin := u.New + "\n"
	switch {
	case !u.Created():
		stdin += "^" + u.Old + "\n"
	case defaultBranch != "" && u.Ref != "refs/heads/"+defaultBranch:
		if out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+defaultBranch); err == nil {
			stdin += "^" + strings.TrimSpace(string(out)) + "\n"
		}
	}
	out, err := r.runInput(ctx, dir, stdin, "rev-list", "--reverse", "--stdin")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// Commit reads one commit (a tag is peeled to its commit).
func (r *Repos) Commit(ctx context.Context, projectID int64, rev string) (*Commit, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	sha, err := r.run(ctx, dir, "rev-parse", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return nil, err
	}
	c := &Commit{ID: string(bytes.TrimSpace(sha))}
	raw, err := r.run(ctx, dir, "cat-file", "commit", c.ID)
	if err != nil {
		return nil, err
	}
	head, msg, _ := strings.Cut(string(raw), "\n\n")
	c.Message = msg
	c.ParentIDs = []string{}
	for _, line := range strings.Split(head, "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "parent":
			c.ParentIDs = append(c.ParentIDs, val)
		case "author":
			c.AuthorName, c.AuthorEmail, c.AuthoredDate = parseSignature(val)
		case "committer":
			c.CommitterName, c.CommitterEmail, c.CommittedDate = parseSignature(val)
		}
	}
	var parent string
	if len(c.ParentIDs) > 0 {
		parent = c.ParentIDs[0]
	}
	args := []string{"diff-tree", "-r", "-z", "--no-renames", "--name-status", "--no-commit-id"}
	if parent == "" {
		args = append(args, "--root", c.ID)
	} else {
		args = append(args, parent, c.ID)
	}
	out, err := r.run(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		switch fields[i] {
		case "A":
			c.Added = append(c.Added, fields[i+1])
		case "D":
			c.Removed = append(c.Removed, fields[i+1])
		default:
			c.Modified = append(c.Modified, fields[i+1])
		}
	}
	return c, nil
}

// parseSignature reads "Name <email> 1461150000 +0200".
func parseSignature(s string) (name, email string, at time.Time) {
	lt, gt := strings.Index(s, "<"), strings.LastIndex(s, ">")
	if lt < 0 || gt < lt {
		return strings.TrimSpace(s), "", time.Time{}
	}
	name, email = strings.TrimSpace(s[:lt]), s[lt+1:gt]
	f := strings.Fields(s[gt+1:])
	if len(f) != 2 {
		return name, email, time.Time{}
	}
	secs, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return name, email, time.Time{}
	}
	zone := time.UTC
	if tz, err := strconv.Atoi(f[1]); err == nil && len(f[1]) == 5 {
		off := (abs(tz)/100*60 + abs(tz)%100) * 60
		if f[1][0] == '-' {
			off = -off
		}
		zone = time.FixedZone("", off)
	}
	return name, email, time.Unix(secs, 0).In(zone)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// PeelTag reads the tag object (or commit) a tag ref points at: the commit
// it names and, for an annotated tag, its message (nil for a lightweight one).
func (r *Repos) PeelTag(ctx context.Context, projectID int64, sha string) (commit string, message *string, err error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return "", nil, err
	}
	kind, err := r.run(ctx, dir, "cat-file", "-t", sha)
	if err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(string(kind)) == "tag" {
		raw, err := r.run(ctx, dir, "cat-file", "tag", sha)
		if err != nil {
			return "", nil, err
		}
		_, msg, _ := strings.Cut(string(raw), "\n\n")
		msg = strings.TrimSuffix(msg, "\n") // Ruby's chomp, as 8.7 did
		message = &msg
	}
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--end-of-options", sha+"^{commit}")
	if err != nil {
		return "", nil, fmt.Errorf("gitstore: tag %s names no commit: %w", sha, err)
	}
	return string(bytes.TrimSpace(out)), message, nil
}
