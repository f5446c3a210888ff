package vfs

import (
	"container/list"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The directory name cache answers "which entry of this directory has
// this name in another case?" without reading the directory each time.
//
// Each cached directory keeps upper-cased name → on-disk name, built with
// one readdir, and the stamp (inode, mtime, ctime in nanoseconds) the
// directory had just before that readdir. A lookup first stats the
// directory (one statx); a different stamp means someone — another node
// on the shared filesystem, or another process — changed it, and the
// entry is rebuilt. Our own creates, renames and removes update the entry
// in place: holding a per-directory lock (Share.lockDirs) they stat the
// directory before and after, and only when the "before" stamp is the
// cached one (nothing changed behind our back) does the entry take the
// "after" stamp; otherwise it is dropped. A directory read that overlapped
// one of our own changes is used once but not cached (see dirlock.go).
//
// Racy snapshots. Timestamps move in ticks (a few milliseconds locally,
// up to a second on some cluster filesystems), so a change made in the
// same tick as our readdir, just after it, leaves the stamp unchanged. An
// entry built while the directory's ctime was less than racyWindow old is
// marked racy: a miss in it is trusted only until racyRecheck after the
// build, a hit is checked on disk, and the first lookup after racyRecheck
// reads the directory again. So another node's
// entry hidden that way stays invisible to case-insensitive lookups for at
// most racyRecheck, and a directory that keeps changing (ours: we keep
// creating in it) is re-read at most once per racyRecheck, however many
// lookups miss in it.
//
// Memory is bounded by the total number of names (Options.DirCacheNames),
// evicting least recently used directories.
type dirCache struct {
	mu    sync.Mutex
	max   int // total names
	total int
	dirs  map[string]*dirNames
	lru   list.List // of *dirNames, most recent at the front

	builds atomic.Int64 // directory reads installed, for tests and benchmarks
}

const (
	// racyWindow bounds the timestamp tick: how long after a directory
	// change a readdir of it may miss a change made in the same tick.
	racyWindow = 20 * time.Millisecond
	// racyRecheck is how long a miss in a racy entry is trusted.
	racyRecheck = 100 * time.Millisecond
)

type dirStamp struct {
	ino          uint64
	mtime, ctime int64 // nanoseconds since 1970
}

type dirNames struct {
	rel     string
	stamp   dirStamp
	names   map[string]string // fold(name) → on-disk name
	clashes bool              // two on-disk names fold alike
	racy    bool
	builtAt time.Time
	elem    *list.Element
}

func newDirCache(max int) *dirCache {
	return &dirCache{max: max, dirs: make(map[string]*dirNames)}
}

func stampOf(st *unix.Statx_t) dirStamp {
	return dirStamp{
		ino:   st.Ino,
		mtime: st.Mtime.Sec*1e9 + int64(st.Mtime.Nsec),
		ctime: st.Ctime.Sec*1e9 + int64(st.Ctime.Nsec),
	}
}

type lookupResult int

const (
	lookupStale lookupResult = iota // no usable entry: read the directory
	lookupHit
	lookupMiss // authoritative: no such name
)

// lookup finds key (a folded name) in directory rel whose current stamp
// is cur. sure reports a hit that needs no checking on disk: the entry is
// not racy and no other name folds alike (so the exact name, if it
// differs, does not exist). A racy entry older than racyRecheck is stale.
func (c *dirCache) lookup(rel string, cur dirStamp, key string) (real string, res lookupResult, sure bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirs[rel]
	if d == nil {
		return "", lookupStale, false
	}
	if d.stamp != cur {
		c.remove(d)
		return "", lookupStale, false
	}
	if d.racy && time.Since(d.builtAt) >= racyRecheck {
		return "", lookupStale, false
	}
	c.lru.MoveToFront(d.elem)
	if real, ok := d.names[key]; ok {
		return real, lookupHit, !d.racy && !d.clashes
	}
	return "", lookupMiss, false
}

// buildNames makes the folded map of a directory listing.
func buildNames(list []string) (map[string]string, bool) {
	m := make(map[string]string, len(list))
	clashes := false
	for _, n := range list {
		k := fold(n)
		if prev, ok := m[k]; ok {
			clashes = true
			if n > prev {
				continue // keep the smallest, for a stable choice
			}
		}
		m[k] = n
	}
	return m, clashes
}

// install caches a directory listing taken just after stamp was read.
func (c *dirCache) install(rel string, stamp dirStamp, names map[string]string, clashes bool, now time.Time) {
	if len(names) > c.max {
		return
	}
	c.builds.Add(1)
	racy := now.UnixNano()-stamp.ctime < int64(racyWindow)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.dirs[rel]; old != nil {
		c.remove(old)
	}
	d := &dirNames{rel: rel, stamp: stamp, names: names, clashes: clashes, racy: racy, builtAt: now}
	d.elem = c.lru.PushFront(d)
	c.dirs[rel] = d
	c.total += len(names)
	for c.total > c.max {
		c.remove(c.lru.Back().Value.(*dirNames))
	}
}

// update applies our own change to directory rel: when the directory's
// stamp before the change (pre) is the cached one, fn edits the names and
// the entry takes post; otherwise the entry is dropped. ok false for pre
// or post (a failed stat) drops it too.
func (c *dirCache) update(rel string, pre, post dirStamp, ok bool, fn func(d *dirNames)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirs[rel]
	if d == nil {
		return
	}
	if !ok || d.stamp != pre {
		c.remove(d)
		return
	}
	before := len(d.names)
	fn(d)
	if d.names == nil { // fn gave up on the entry
		c.total -= before
		d.names = map[string]string{}
		c.remove(d)
		return
	}
	c.total += len(d.names) - before
	d.stamp = post
	for c.total > c.max && c.lru.Len() > 0 {
		c.remove(c.lru.Back().Value.(*dirNames))
	}
}

// addName records that name now exists.
func (d *dirNames) addName(name string) {
	if d.names == nil { // given up already
		return
	}
	k := fold(name)
	if prev, ok := d.names[k]; ok && prev != name {
		d.clashes = true
		if name > prev {
			return
		}
	}
	d.names[k] = name
}

// removeName records that name is gone. If another name folding alike
// may exist, the entry cannot know it and gives up.
func (d *dirNames) removeName(name string) {
	if d.names == nil {
		return
	}
	k := fold(name)
	if d.names[k] != name {
		if d.clashes {
			d.names = nil
		}
		return
	}
	if d.clashes {
		d.names = nil
		return
	}
	delete(d.names, k)
}

// drop forgets directory rel and, if tree, everything below it.
func (c *dirCache) drop(rel string, tree bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.dirs[rel]; d != nil {
		c.remove(d)
	}
	if !tree {
		return
	}
	prefix := rel + "/"
	if rel == "" {
		prefix = ""
	}
	for k, d := range c.dirs {
		if strings.HasPrefix(k, prefix) {
			c.remove(d)
		}
	}
}

func (c *dirCache) remove(d *dirNames) {
	c.lru.Remove(d.elem)
	delete(c.dirs, d.rel)
	c.total -= len(d.names)
}
