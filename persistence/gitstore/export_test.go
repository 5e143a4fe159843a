package gitstore

import (
	"context"
	"time"
)

// SetBatchIdleTimeout restarts the store's cat-file processes with another
// idle timeout (before any read).
func (r *Repos) SetBatchIdleTimeout(d time.Duration) {
	r.cats.close()
	r.cats = newCatFiles(r.git, d)
}

// BatchStarted is how many cat-file processes the store has started.
func (r *Repos) BatchStarted() int64 { return r.cats.started.Load() }

// KillIdleBatchProcesses kills the idle cat-file processes behind the
// pool's back, as a crash would.
func (r *Repos) KillIdleBatchProcesses() int {
	r.cats.mu.Lock()
	defer r.cats.mu.Unlock()
	n := 0
	for _, p := range r.cats.pools {
		for _, f := range p.idle {
			_ = f.cmd.Process.Kill()
			n++
		}
	}
	return n
}

// LsTree is Tree through ls-tree, to compare with.
func (r *Repos) LsTree(projectID int64, commit, path string) ([]TreeEntry, error) {
	return r.lsTree(context.Background(), r.Path(projectID), commit+":"+path)
}
