package gitstore

// The repository read API of doc/api/repositories.md: a directory's
// entries, a blob's content (streamed), archives (streamed), the
// comparison of two refs and the contributors, as GitLab 8.7's
// Gitlab::Git::{Tree,Blob,Compare} and Repository#contributors read them.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
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
// directory has no entries. The tree is read through the repository's
// cat-file process, as ls-tree would list it.
func (r *Repos) Tree(ctx context.Context, projectID int64, commit, path string) ([]TreeEntry, error) {
	dir, err := r.dir(projectID)
	if err != nil {
		return nil, err
	}
	name := commit + ":" + path
	if !batchSafe(name) {
		return r.lsTree(ctx, dir, name)
	}
	var entries []TreeEntry
	err = r.withCatFile(ctx, projectID, dir, func(f *catFile) error {
		h, err := f.command(ctx, "contents", name)
		if err != nil || !h.Found {
			return err
		}
		if h.Type != "tree" {
			return f.discard(h.Size)
		}
		raw, err := f.readContent(h.Size)
		if err != nil {
			return err
		}
		entries, err = parseTree(raw, len(h.ID)/2)
		return err
	})
	if errors.Is(err, errCatFile) {
		return r.lsTree(ctx, dir, name)
	}
	if err != nil {
		return nil, err
	}
	return orderTree(entries), nil
}

// parseTree reads a raw tree object: "<octal mode> <name>\0<raw id>"
// records, the id hashLen bytes long. Modes and types are written as
// ls-tree writes them (canonical mode, six octal digits).
func parseTree(raw []byte, hashLen int) ([]TreeEntry, error) {
	var entries []TreeEntry
	for len(raw) > 0 {
		sp := bytes.IndexByte(raw, ' ')
		nul := bytes.IndexByte(raw, 0)
		if sp < 0 || nul < sp || len(raw) < nul+1+hashLen {
			return nil, fmt.Errorf("%w: malformed tree", errCatFile)
		}
		raw32, err := strconv.ParseUint(string(raw[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: malformed tree mode %q", errCatFile, raw[:sp])
		}
		mode, kind := canonMode(uint32(raw32))
		entries = append(entries, TreeEntry{Mode: fmt.Sprintf("%06o", mode), Type: kind,
			Name: string(raw[sp+1 : nul]), ID: hex.EncodeToString(raw[nul+1 : nul+1+hashLen])})
		raw = raw[nul+1+hashLen:]
	}
	return entries, nil
}

// canonMode is git's canon_mode and object_type: what ls-tree shows for
// a mode found in a tree.
func canonMode(mode uint32) (uint32, string) {
	switch mode & 0o170000 {
	case 0o100000:
		if mode&0o100 != 0 {
			return 0o100755, "blob"
		}
		return 0o100644, "blob"
	case 0o120000:
		return 0o120000, "blob"
	case 0o040000:
		return 0o040000, "tree"
	default:
		return 0o160000, "commit"
	}
}

// orderTree puts directories first, then files, then submodules, each in
// the tree's order (8.7's Tree.where did the same).
func orderTree(all []TreeEntry) []TreeEntry {
	entries := make([]TreeEntry, 0, len(all))
	for _, kind := range []string{"tree", "blob"} {
		for _, e := range all {
			if e.Type == kind {
				entries = append(entries, e)
			}
		}
	}
	for _, e := range all {
		if e.Type != "tree" && e.Type != "blob" {
			entries = append(entries, e)
		}
	}
	return entries
}

// lsTree is Tree with one ls-tree, for names a long-lived cat-file cannot
// take, or when its process failed.
func (r *Repos) lsTree(ctx context.Context, dir, name string) ([]TreeEntry, error) {
	out, err := r.run(ctx, dir, "ls-tree", "-z", "--end-of-options", name)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) { // no such path, or not a directory
			return []TreeEntry{}, nil
		}
		return nil, err
	}
	var all []TreeEntry
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		all = append(all, TreeEntry{Mode: f[0], Type: f[1], ID: f[2], Name: name})
	}
	return orderTree(all), nil
}

// Blob is a blob's content being read from git; Close it.
type Blob struct {
	Size int64
	io.Reader
	close func()
}

// Close ends the read, giving git's process back or ending it.
func (b *Blob) Close() error {
	if b.close != nil {
		b.close()
		b.close = nil
	}
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

// drainLimit is the most of an unread blob that Close reads to keep its
// process; a longer rest costs less to end the process.
const drainLimit = 1 << 20

// openBlob reads object through the repository's cat-file process and
// streams its content, holding the process until Close.
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
	if !batchSafe(object) { // a path relative to a work tree names nothing here
		return nil, ErrBlobNotFound
	}
	f, err := r.cats.acquire(ctx, projectID, dir)
	if errors.Is(err, errCatFile) {
		return r.openBlobOnce(ctx, dir, object)
	}
	if err != nil {
		return nil, err
	}
	h, err := f.command(ctx, "contents", object)
	if err == nil && h.Found && h.Type != "blob" {
		err = f.discard(h.Size)
		h.Found = false
	}
	if err != nil || !h.Found {
		r.cats.release(f, err == nil && ctx.Err() == nil)
		if errors.Is(err, errCatFile) && ctx.Err() == nil {
			return r.openBlobOnce(ctx, dir, object)
		}
		if err != nil {
			return nil, err
		}
		return nil, ErrBlobNotFound
	}
	content := &io.LimitedReader{R: f.out, N: h.Size}
	return &Blob{Size: h.Size, Reader: content, close: func() {
		healthy := content.N <= drainLimit
		if healthy {
			healthy = f.discard(content.N) == nil
		}
		r.cats.release(f, healthy)
	}}, nil
}

// openBlobOnce is openBlob with a `git cat-file --batch` of its own, for
// names a long-lived process cannot take, or when one failed.
func (r *Repos) openBlobOnce(ctx context.Context, dir, object string) (*Blob, error) {
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
	b := &Blob{close: func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	}}
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
