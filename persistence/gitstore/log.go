package gitstore

// Commit history and diffs: what GitLab 8.7's Repository#commits,
// Repository#commit and Commit#diffs (gitlab_git over Rugged) answered for
// doc/api/commits.md. Each call runs one git process, but for a resolve
// that fails.

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// ErrCommitNotFound is a revision that names no commit of the repository.
var ErrCommitNotFound = errors.New("gitstore: no such commit")

// logFields is one `git log -z` record; --date=raw gives "secs +zzzz".
const logFormat = "--format=%H%x00%P%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B"

const logFieldCount = 9

// ResolveCommit is the full SHA of the commit rev names (a SHA, a branch,
// a tag, any revision git reads), or ErrCommitNotFound; a project without
// a repository has no commits.
func (r *Repos) ResolveCommit(ctx context.Context, projectID int64, rev string) (string, error) {
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return "", ErrCommitNotFound
	}
	if err != nil {
		return "", err
	}
	if rev == "" {
		return "", ErrCommitNotFound
	}
	if plainRev.MatchString(rev) && !strings.Contains(rev, "..") {
		var sha string
		err := r.withCatFile(ctx, projectID, dir, func(f *catFile) error {
			h, err := f.command(ctx, "info", rev+"^{commit}")
			if h.Found && h.Type == "commit" {
				sha = h.ID
			}
			return err
		})
		switch {
		case err == nil && sha == "":
			return "", ErrCommitNotFound
		case err == nil:
			return sha, nil
		case !errors.Is(err, errCatFile):
			return "", err
		} // else ask rev-parse
	}
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", ErrCommitNotFound
	}
	return string(bytes.TrimSpace(out)), nil
}

// plainRev is a SHA or a ref name without revision syntax, which a
// long-lived cat-file resolves exactly as rev-parse does; anything else
// (rev~2, rev@{1}, :/text…) goes to rev-parse.
var plainRev = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)

// Log lists up to limit commits reachable from rev, skipping the first
// offset, newest first by commit date (Rugged's SORT_DATE walk). A rev
// that names no commit, or a project without a repository, has none.
func (r *Repos) Log(ctx context.Context, projectID int64, rev string, offset, limit int) ([]Commit, error) {
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return []Commit{}, nil
	}
	if err != nil {
		return nil, err
	}
	if rev == "" || limit <= 0 {
		return []Commit{}, nil
	}
	args := []string{"log", "-z", "--date=raw", "--date-order", logFormat,
		"--max-count=" + strconv.Itoa(limit), "--skip=" + strconv.Itoa(max(offset, 0)), "--end-of-options", rev + "^{commit}", "--"}
	out, err := r.run(ctx, dir, args...)
	if err != nil {
		// Only now ask why: an unknown ref lists nothing.
		if _, rerr := r.ResolveCommit(ctx, projectID, rev); errors.Is(rerr, ErrCommitNotFound) {
			return []Commit{}, nil
		}
		return nil, err
	}
	commits := []Commit{}
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+logFieldCount <= len(fields); i += logFieldCount {
		f := fields[i : i+logFieldCount]
		c := Commit{ID: strings.TrimPrefix(f[0], "\n"), Message: f[8], ParentIDs: strings.Fields(f[1]),
			AuthorName: f[2], AuthorEmail: f[3], CommitterName: f[5], CommitterEmail: f[6]}
		_, _, c.AuthoredDate = parseSignature("<> " + f[4])
		_, _, c.CommittedDate = parseSignature("<> " + f[7])
		commits = append(commits, c)
	}
	return commits, nil
}

// Diff is one changed file of a commit, as gitlab_git's Diff showed it.
type Diff struct {
	OldPath, NewPath string
	// AMode and BMode are the octal modes before and after ("0" for a
	// file that was not there), as Ruby's Integer#to_s(8) wrote them.
	AMode, BMode string
	// Text is the patch from its "---" (or "Binary") line on; empty when
	// there is none (a pure rename or mode change).
	Text                      string
	NewFile, Renamed, Deleted bool
}

// Diffs compares the commit sha with its first parent (with the empty tree
// for a root commit), finding renames as Rugged's find_similar! did.
func (r *Repos) Diffs(ctx context.Context, projectID int64, sha string, parent string) ([]Diff, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	args := []string{"-c", "core.quotePath=false", "diff-tree", "-r", "-M", "-z", "--patch-with-raw", "--no-commit-id", "--no-color", "--no-ext-diff"}
	if parent == "" {
		args = append(args, "--root", sha)
	} else {
		args = append(args, parent, sha)
	}
	out, err := r.run(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	return parseRawPatch(string(out)), nil
}

// parseRawPatch reads --patch-with-raw -z output: the raw records
// (":<old mode> <new mode> <old> <new> <status>\0<path>\0[<path>\0]"), a
// NUL, then one "diff --git" block per record, in the same order.
func parseRawPatch(out string) []Diff {
	diffs := []Diff{}
	for strings.HasPrefix(out, ":") {
		meta, rest, ok := strings.Cut(out, "\x00")
		if !ok {
			break
		}
		f := strings.Fields(meta)
		if len(f) < 5 {
			break
		}
		d := Diff{AMode: octal(strings.TrimPrefix(f[0], ":")), BMode: octal(f[1])}
		status := f[4]
		var path string
		path, rest, _ = strings.Cut(rest, "\x00")
		d.OldPath, d.NewPath = path, path
		switch status[0] {
		case 'R', 'C':
			d.NewPath, rest, _ = strings.Cut(rest, "\x00")
			d.Renamed = status[0] == 'R'
		case 'A':
			d.NewFile = true
		case 'D':
			d.Deleted = true
		}
		diffs = append(diffs, d)
		out = rest
	}
	out = strings.TrimPrefix(out, "\x00")
	blocks := strings.Split(out, "\ndiff --git ")
	for i := range diffs {
		if i >= len(blocks) {
			break
		}
		diffs[i].Text = stripDiffHeaders(blocks[i])
		if i < len(blocks)-1 {
			diffs[i].Text += "\n"
		}
	}
	return diffs
}

// stripDiffHeaders keeps a patch from its first line starting with "---"
// or "Binary", else nothing (gitlab_git's Diff#strip_diff_headers).
func stripDiffHeaders(block string) string {
	for pos := 0; pos < len(block); {
		line := block[pos:]
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "Binary") {
			return line
		}
		nl := strings.IndexByte(line, '\n')
		if nl < 0 {
			break
		}
		pos += nl + 1
	}
	return ""
}

// octal writes a mode as Ruby's to_s(8): no leading zeros, "0" for none.
func octal(mode string) string {
	m := strings.TrimLeft(mode, "0")
	if m == "" {
		return "0"
	}
	return m
}

// FirstBranchContaining is the first branch, by name, whose history holds
// the commit sha (8.7's branch_names_contains(sha).first); "" when none.
func (r *Repos) FirstBranchContaining(ctx context.Context, projectID int64, sha string) (string, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return "", err
	}
	out, err := r.run(ctx, dir, "for-each-ref", "--count=1", "--contains", sha, "--format=%(refname:strip=2)", "refs/heads/")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
