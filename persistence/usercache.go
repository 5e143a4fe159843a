package persistence

// Two reads that every page of the API repeats are kept between requests
// on SQLite: the user a private token names (every request), and the
// total of a user list (its X-Total). A kept answer is served only while
// no write of this process has ended since it was read (see writeCounter)
// and for at most readCacheTTL. Blocking a user, resetting a token, any
// change at all sends the next request back to the database, which sees
// exactly what a fresh read would. SQLite serves one Labrador process; the
// TTL bounds what a write by anything else on the same file (the sqlite3
// shell, say) could leave unseen. PostgreSQL, shared by several processes,
// keeps nothing.

import (
	"sync"
	"time"
)

// readCacheTTL is how long a kept answer may be served at most.
const readCacheTTL = time.Second

// readCacheSize bounds a cache; a full one starts over.
const readCacheSize = 4096

type readCache[V any] struct {
	mu sync.RWMutex
	m  map[string]cachedRead[V]
}

type cachedRead[V any] struct {
	v      V
	writes uint64 // the write count before it was read
	at     time.Time
}

func newReadCache[V any]() *readCache[V] { return &readCache[V]{m: map[string]cachedRead[V]{}} }

// get returns what was read for key when the write count was writes.
func (c *readCache[V]) get(key string, writes uint64) (v V, ok bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || e.writes != writes || time.Since(e.at) > readCacheTTL {
		return v, false
	}
	return e.v, true
}

// put keeps v, read from time at on, for key if no write has ended since
// the count writes was taken (before the read).
func (c *readCache[V]) put(key string, v V, writes uint64, at time.Time, now uint64) {
	if now != writes {
		return
	}
	c.mu.Lock()
	if len(c.m) >= readCacheSize {
		clear(c.m)
	}
	c.m[key] = cachedRead[V]{v: v, writes: writes, at: at}
	c.mu.Unlock()
}
