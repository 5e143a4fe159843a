package gitstore

// Long-lived `git cat-file --batch-command` processes, a few per
// repository, shared by the requests that read objects: what Gitaly's
// catfile cache does, so that a blob, a tree or a ref lookup costs one
// round trip over a pipe instead of starting git.
//
// Why a long-lived process sees what a push wrote: git reads a loose ref
// from its file at every lookup, re-checks packed-refs by stat before
// using its cached copy, and re-scans the packs before it answers that an
// object is missing. Deleting a repository closes its processes.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// errCatFile is a batch process that could not answer (it died, or its
// output made no sense); the caller falls back to a one-shot git.
var errCatFile = errors.New("gitstore: cat-file batch process failed")

// catFile is one `git cat-file --batch-command` process.
type catFile struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	out      *bufio.Reader
	pool     *catPool
	gen      uint64
	lastUsed time.Time
}

// catPool is one repository's processes.
type catPool struct {
	sem    chan struct{} // a slot per process that may run
	idle   []*catFile    // guarded by catFiles.mu
	gen    uint64        // processes of an older generation are not reused
	closed bool
}

// catFiles keeps the processes of every repository.
type catFiles struct {
	git         string
	perRepo     int
	idleTimeout time.Duration

	mu     sync.Mutex
	pools  map[int64]*catPool
	closed bool
	stop   chan struct{}
	done   chan struct{}

	live    atomic.Int64 // processes running, for tests
	started atomic.Int64 // processes ever started, for tests
}

// DefaultBatchIdleTimeout is how long an unused cat-file process stays.
const DefaultBatchIdleTimeout = time.Minute

func newCatFiles(git string, idleTimeout time.Duration) *catFiles {
	c := &catFiles{git: git, perRepo: max(4, 2*runtime.GOMAXPROCS(0)), idleTimeout: idleTimeout,
		pools: map[int64]*catPool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.janitor()
	return c
}

// janitor closes processes idle for longer than the timeout.
func (c *catFiles) janitor() {
	defer close(c.done)
	tick := time.NewTicker(max(c.idleTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			var stale []*catFile
			c.mu.Lock()
			for id, p := range c.pools {
				keep := p.idle[:0]
				for _, f := range p.idle {
					if now.Sub(f.lastUsed) >= c.idleTimeout {
						stale = append(stale, f)
					} else {
						keep = append(keep, f)
					}
				}
				clear(p.idle[len(keep):])
				p.idle = keep
				if len(p.idle) == 0 && len(p.sem) == 0 {
					delete(c.pools, id)
				}
			}
			c.mu.Unlock()
			for _, f := range stale {
				f.kill()
			}
		}
	}
}

// acquire takes a process of the repository in dir for the caller's
// exclusive use, starting one when none is idle and fewer than perRepo
// run; give it back with release.
func (c *catFiles) acquire(ctx context.Context, projectID int64, dir string) (*catFile, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errCatFile
	}
	p := c.pools[projectID]
	if p == nil {
		p = &catPool{sem: make(chan struct{}, c.perRepo)}
		c.pools[projectID] = p
	}
	c.mu.Unlock()
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	if n := len(p.idle); n > 0 {
		f := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		c.mu.Unlock()
		return f, nil
	}
	gen, closed := p.gen, p.closed || c.closed
	c.mu.Unlock()
	if closed {
		<-p.sem
		return nil, errCatFile
	}
	f, err := c.start(dir)
	if err != nil {
		<-p.sem
		return nil, err
	}
	f.pool, f.gen = p, gen
	return f, nil
}

func (c *catFiles) start(dir string) (*catFile, error) {
	cmd := exec.Command(c.git, "cat-file", "--batch-command")
	cmd.Dir, cmd.Env = dir, gitEnv()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		in.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		in.Close()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	c.live.Add(1)
	c.started.Add(1)
	return &catFile{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 64<<10)}, nil
}

// release gives f back: kept for the next caller when it is healthy,
// current and its repository still open, else ended.
func (c *catFiles) release(f *catFile, healthy bool) {
	p := f.pool
	c.mu.Lock()
	keep := healthy && !p.closed && !c.closed && f.gen == p.gen
	if keep {
		f.lastUsed = time.Now()
		p.idle = append(p.idle, f)
	}
	c.mu.Unlock()
	<-p.sem
	if !keep {
		f.kill()
	}
}

// kill ends the process and reaps it.
func (f *catFile) kill() {
	f.in.Close() // cat-file exits at the end of its input
	if f.cmd.Process != nil {
		_ = f.cmd.Process.Kill()
	}
	_ = f.cmd.Wait()
	f.pool = nil
}

// closeRepo ends the repository's idle processes now and its busy ones
// when they are given back (the repository is being deleted).
func (c *catFiles) closeRepo(projectID int64) {
	c.mu.Lock()
	p := c.pools[projectID]
	var idle []*catFile
	if p != nil {
		delete(c.pools, projectID)
		p.closed = true
		idle, p.idle = p.idle, nil
	}
	c.mu.Unlock()
	for _, f := range idle {
		f.kill()
	}
}

// close ends every idle process and the janitor; busy processes end when
// they are given back.
func (c *catFiles) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	var idle []*catFile
	for id, p := range c.pools {
		p.closed = true
		idle = append(idle, p.idle...)
		p.idle = nil
		delete(c.pools, id)
	}
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	for _, f := range idle {
		f.kill()
	}
}

// objectHeader is cat-file's answer line: the object's id, type and size,
// or found false for a name that names nothing ("missing", "ambiguous").
type objectHeader struct {
	ID, Type string
	Size     int64
	Found    bool
}

// command sends one command line ("info <name>" or "contents <name>") and
// reads the header of its answer. The context bounds the round trip: when
// it ends first, the process is killed.
func (f *catFile) command(ctx context.Context, cmd, name string) (objectHeader, error) {
	if strings.ContainsAny(name, "\n\x00") {
		return objectHeader{}, nil
	}
	stop := context.AfterFunc(ctx, func() { _ = f.cmd.Process.Kill() })
	defer stop()
	if _, err := io.WriteString(f.in, cmd+" "+name+"\n"); err != nil {
		return objectHeader{}, fmt.Errorf("%w: %v", errCatFile, err)
	}
	line, err := f.out.ReadString('\n')
	if err != nil {
		return objectHeader{}, fmt.Errorf("%w: %v", errCatFile, err)
	}
	line = strings.TrimSuffix(line, "\n")
	if strings.HasSuffix(line, " missing") || strings.HasSuffix(line, " ambiguous") {
		return objectHeader{}, nil
	}
	fs := strings.Fields(line)
	if len(fs) != 3 {
		return objectHeader{}, fmt.Errorf("%w: header %q", errCatFile, line)
	}
	size, err := strconv.ParseInt(fs[2], 10, 64)
	if err != nil {
		return objectHeader{}, fmt.Errorf("%w: header %q", errCatFile, line)
	}
	return objectHeader{ID: fs[0], Type: fs[1], Size: size, Found: true}, nil
}

// discard skips an object's content of size bytes and its newline.
func (f *catFile) discard(size int64) error {
	if _, err := f.out.Discard(int(size) + 1); err != nil {
		return fmt.Errorf("%w: %v", errCatFile, err)
	}
	return nil
}

// readContent reads an object's content of size bytes and its newline.
func (f *catFile) readContent(size int64) ([]byte, error) {
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(f.out, buf); err != nil || buf[size] != '\n' {
		return nil, fmt.Errorf("%w: short object (%v)", errCatFile, err)
	}
	return buf[:size], nil
}

// withCatFile runs fn on a process of the repository, giving it back
// healthy unless fn failed with errCatFile.
func (r *Repos) withCatFile(ctx context.Context, projectID int64, dir string, fn func(*catFile) error) error {
	f, err := r.cats.acquire(ctx, projectID, dir)
	if err != nil {
		return err
	}
	err = fn(f)
	r.cats.release(f, !errors.Is(err, errCatFile) && ctx.Err() == nil)
	return err
}

// batchSafe reports whether name can be sent to a long-lived cat-file:
// git dies on a path relative to a work tree ("rev:./x", "rev:../x"),
// which a bare repository does not have.
func batchSafe(name string) bool {
	if strings.ContainsAny(name, "\n\x00") {
		return false
	}
	_, path, ok := strings.Cut(name, ":")
	return !ok || !(strings.HasPrefix(path, "./") || strings.HasPrefix(path, "../"))
}
