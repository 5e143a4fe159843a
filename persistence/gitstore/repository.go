package gitstore

// The repository read API of doc/api/repositories.md: a directory's
// entries, a blob's content (streamed), archives (streamed), the
// comparison of two refs and the contributors, as GitLab 8.7's
// Gitlab::Git::{Tree,Blob,Compare} and Repository#contributors read them.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

var (
	// ErrBlobNotFound is a path or SHA that names no blob.
	ErrBlobNotFound = errors.New("gitstore: no such blob")
)

// TreeEntry is one entry of a directory.
type TreeEntry struct {
	ID, Name, Type, Mode string
}

// Tree lists the directory path ("" for the root) of commit: directories,
// then files, then submodules, each in git's order. A path that names no
// directory has no entries.
func (r *Repos) Tree(ctx context.Context, projectID int64, commit, path string) ([]TreeEntry, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	entries := []TreeEntry{}
	out, err := r.run(ctx, dir, "ls-tree", "-z", "--end-of-options", commit+":"+path)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) { // no such path, or not a directory
			return entries, nil
		}
		return nil, err
	}
	var trees, blobs, modules []TreeEntry
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		e := TreeEntry{Mode: f[0], Type: f[1], ID: f[2], Name: name}
		switch e.Type {
		case "tree":
			trees = append(trees, e)
		case "blob":
			blobs = append(blobs, e)
		default:
			modules = append(modules, e)
		}
	}
	entries = append(entries, trees...)
	entries = append(entries, blobs...)
	return append(entries, modules...), nil
}

// Blob is a blob's content being read from git; Close it.
type Blob struct {
	Size int64
	io.Reader
	cmd *exec.Cmd
}

// Close ends the git process.
func (b *Blob) Close() error {
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
	}
	_ = b.cmd.Wait()
	return nil
}

var hexSHA = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)

// BlobAt opens the blob at path in commit, or ErrBlobNotFound.
func (r *Repos) BlobAt(ctx context.Context, projectID int64, commit, path string) (*Blob, error) {
	return r.openBlob(ctx, projectID, commit+":"+path)
}

// BlobByID opens the blob whose (possibly abbreviated) SHA is sha, or
// ErrBlobNotFound; names other than hex SHAs name nothing.
func (r *Repos) BlobByID(ctx context.Context, projectID int64, sha string) (*Blob, error) {
	if !hexSHA.MatchString(sha) {
		return nil, ErrBlobNotFound
	}
	return r.openBlob(ctx, projectID, sha)
}

// openBlob reads object with one `git cat-file --batch`, whose header
// tells the object's type and size, and streams the content after it.
func (r *Repos) openBlob(ctx context.Context, projectID int64, object string) (*Blob, error) {
	dir, err := r.dir(projectID)
	if errors.Is(err, ErrNotExist) {
		return nil, ErrBlobNotFound
	}
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(object, "\n\x00") {
		return nil, ErrBlobNotFound
	}
	cmd := exec.CommandContext(ctx, r.git, "cat-file", "--batch")
	cmd.Dir, cmd.Env = dir, gitEnv()
	cmd.Stdin = strings.NewReader(object + "\n")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &Blob{cmd: cmd}
	br := bufio.NewReader(stdout)
	head, err := br.ReadString('\n')
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	f := strings.Fields(head)
	if len(f) != 3 || f[1] != "blob" {
		b.Close()
		return nil, ErrBlobNotFound
	}
	if b.Size, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		b.Close()
		return nil, fmt.Errorf("git cat-file: header %q", head)
	}
	b.Reader = io.LimitReader(br, b.Size)
	return b, nil
}

// ArchiveFormats maps 8.7's archive suffixes to git archive's formats.
var ArchiveFormats = map[string]string{
	"zip": "zip", "tar": "tar",
	"tar.gz": "tar.gz", "tgz": "tar.gz", "gz": "tar.gz",
	"tar.bz2": "tar.bz2", "tbz": "tar.bz2", "tbz2": "tar.bz2", "tb2": "tar.bz2", "bz2": "tar.bz2",
}

// Archive writes commit's tree to w as format ("zip", "tar", "tar.gz" or
// "tar.bz2"), every path under prefix+"/", with one git archive (which
// gzips itself and runs bzip2 for tar.bz2).
func (r *Repos) Archive(ctx context.Context, projectID int64, commit, prefix, format string, w io.Writer) error {
	dir, err := r.dir(projectID)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, r.git, "-c", "tar.tar.bz2.command=bzip2 -c", "-c", "tar.tar.gz.command=gzip -cn",
		"archive", "--format="+format, "--prefix="+prefix+"/", "--end-of-options", commit)
	cmd.Dir, cmd.Env = dir, gitEnv()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git archive: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// Comparison is what Compare found.
type Comparison struct {
	Commits []Commit // in to and not in from, oldest first
	Diffs   []Diff   // merge base of from and to -> to
	Same    bool
}

// compareLogFormat separates commits by \x01 and fields by \x00.
const compareLogFormat = "--format=%x01%H%x00%P%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B"

// Compare compares from and to as Gitlab::Git::Compare did: the same
// string is Same; an unknown ref gives an empty comparison.
func (r *Repos) Compare(ctx context.Context, projectID int64, from, to string) (*Comparison, error) {
	out := &Comparison{Commits: []Commit{}, Diffs: []Diff{}}
	if from == to {
		out.Same = true
		return out, nil
	}
	base, err := r.ResolveCommit(ctx, projectID, strings.TrimSpace(from))
	if errors.Is(err, ErrCommitNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	head, err := r.ResolveCommit(ctx, projectID, strings.TrimSpace(to))
	if errors.Is(err, ErrCommitNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	dir := r.Path(projectID)
	raw, err := r.run(ctx, dir, "log", "--reverse", "--date=raw", compareLogFormat, head, "^"+base, "--")
	if err != nil {
		return nil, err
	}
	for _, rec := range strings.Split(string(raw), "\x01")[1:] {
		f := strings.SplitN(rec, "\x00", 9)
		if len(f) != 9 {
			continue
		}
		c := Commit{ID: f[0], ParentIDs: strings.Fields(f[1]), AuthorName: f[2], AuthorEmail: f[3],
			CommitterName: f[5], CommitterEmail: f[6], Message: strings.TrimSuffix(f[8], "\n")}
		_, _, c.AuthoredDate = parseSignature("<> " + f[4])
		_, _, c.CommittedDate = parseSignature("<> " + f[7])
		out.Commits = append(out.Commits, c)
	}
	// The merge base, or the empty tree for unrelated histories.
	mb, err := r.run(ctx, dir, "merge-base", base, head)
	from = string(bytes.TrimSpace(mb))
	if err != nil || from == "" {
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return nil, err
		}
		et, err := r.runInput(ctx, dir, "", "hash-object", "-t", "tree", "/dev/null")
		if err != nil {
			return nil, err
		}
		from = string(bytes.TrimSpace(et))
	}
	if out.Diffs, err = r.diff(ctx, dir, from, head); err != nil {
		return nil, err
	}
	return out, nil
}

// diff reads the changes from a to b: the file pairs (-z --raw) and their
// patches, in the same order.
func (r *Repos) diff(ctx context.Context, dir, a, b string) ([]Diff, error) {
	common := []string{"diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--full-index"}
	raw, err := r.run(ctx, dir, append(common, "-z", "--raw", a, b, "--")...)
	if err != nil {
		return nil, err
	}
	patch, err := r.run(ctx, dir, append(common, "-p", a, b, "--")...)
	if err != nil {
		return nil, err
	}
	var sections []string
	if p := string(patch); p != "" {
		sections = strings.Split(strings.TrimPrefix(p, "diff --git "), "\ndiff --git ")
	}
	diffs := []Diff{}
	f := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	for i := 0; i+1 < len(f); {
		meta := strings.Fields(strings.TrimPrefix(f[i], ":"))
		if len(meta) != 5 {
			break
		}
		d := Diff{AMode: octal(meta[0]), BMode: octal(meta[1]), OldPath: f[i+1], NewPath: f[i+1]}
		status := meta[4][:1]
		i += 2
		if (status == "R" || status == "C") && i < len(f) {
			d.NewPath = f[i]
			i++
		}
		d.NewFile, d.Deleted, d.Renamed = status == "A", status == "D", status == "R"
		if n := len(diffs); n < len(sections) {
			section := sections[n]
			if !strings.HasSuffix(section, "\n") { // the split took its last newline
				section += "\n"
			}
			d.Text = stripDiffHeaders(section)
		}
		diffs = append(diffs, d)
	}
	return diffs, nil
}

// Contributor is an author of the default branch's recent commits.
type Contributor struct {
	Name, Email                   string
	Commits, Additions, Deletions int
}

// Contributors groups the last 2000 non-merge commits of HEAD by author
// e-mail, in the order of each author's latest commit, with the lines
// each commit added and deleted against its first parent. An empty
// repository is ErrCommitNotFound.
func (r *Repos) Contributors(ctx context.Context, projectID int64) ([]Contributor, error) {
	head, err := r.ResolveCommit(ctx, projectID, "HEAD")
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, r.Path(projectID), "log", "--no-merges", "--max-count=2000", "--no-renames", "--numstat",
		"--format=%x01%an%x00%ae", head, "--")
	if err != nil {
		return nil, err
	}
	list := []Contributor{}
	index := map[string]int{}
	for _, rec := range strings.Split(string(out), "\x01")[1:] {
		head, stats, _ := strings.Cut(rec, "\n")
		name, email, _ := strings.Cut(head, "\x00")
		i, ok := index[email]
		if !ok {
			i = len(list)
			index[email] = i
			list = append(list, Contributor{Email: email})
		}
		c := &list[i]
		if c.Name == "" {
			c.Name = name
		}
		c.Commits++
		for _, line := range strings.Split(stats, "\n") {
			f := strings.SplitN(line, "\t", 3)
			if len(f) != 3 {
				continue
			}
			add, _ := strconv.Atoi(f[0]) // "-" for a binary file counts 0
			del, _ := strconv.Atoi(f[1])
			c.Additions += add
			c.Deletions += del
		}
	}
	return list, nil
}
