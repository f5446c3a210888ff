package smbnode

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/dcerpc"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// open is one SMB2 open (MS-SMB2 3.3.1.10 Open): a file, a directory or a
// named pipe.
type open struct {
	id    uint64 // both halves of the FileID
	tree  *tree
	sess  *session
	conn  *conn
	f     *os.File     // nil for a pipe
	pipe  *dcerpc.Pipe // IPC$ only
	isDir bool

	access        uint32
	shareAccess   uint32
	createOptions uint32
	key           table.Key
	oid           table.OpenID
	created       time.Time

	mu   sync.Mutex
	rel  string // on-disk path relative to the share root (renames update it)
	name string // the path as the client named it
	// stream is the on-disk name of a named stream ("" for a file's main
	// data) and baseRel its base file's path.
	stream, baseRel string
	// streamBase is a stream open's hold on its base file (streams.go).
	streamBase *streamBaseHold
	// Caching granted at open and changed by breaks.
	oplock     uint8
	leaseKey   [16]byte
	leaseState uint32
	leaseVer   int

	// oplockBreaking: an oplock break awaiting the client's ack was sent,
	// to level oplockBreakTo (oplockbreak.go).
	oplockBreaking bool
	oplockBreakTo  uint8
	// leaseEpoch and leaseBreaking are the lease's at open time, for the
	// CREATE response.
	leaseEpoch    uint16
	leaseBreaking bool

	// position and mode are FilePositionInformation / FileModeInformation.
	position      uint64
	mode          uint32
	deleteOnClose bool
	// deletePending is set by SET_INFO FileDispositionInformation.
	deletePending bool
	// dir is the state of QUERY_DIRECTORY on a directory open.
	dir *dirSearch
	// lockSeq are the LockSequence replay buckets (3.3.5.14).
	lockSeq [65]uint32
	closed  bool
	// durable is set when the open was granted durability (durable.go).
	durable atomic.Pointer[durableHandle]
	// asyncIoctls counts IOCTLs in flight on the open that its CLOSE waits
	// for (ioctl.go asyncSleep).
	asyncIoctls inflight
}

// inflight counts requests in flight that something waits for; unlike a
// bare WaitGroup it tells whether the wait would block.
type inflight struct {
	wg sync.WaitGroup
	n  atomic.Int32
}

func (f *inflight) add()  { f.n.Add(1); f.wg.Add(1) }
func (f *inflight) done() { f.n.Add(-1); f.wg.Done() }

// wait waits until none is in flight, first calling release (a reader
// handoff, inline.go) when that means waiting.
func (f *inflight) wait(release func()) {
	if f.n.Load() > 0 {
		release()
	}
	f.wg.Wait()
}

// fileID is the FileID handed to the client.
func (o *open) fileID() wire.FileID { return wire.FileID{Persistent: o.id, Volatile: o.id} }

func (o *open) path() (rel, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rel, o.name
}

func (o *open) fs() *vfs.Share { return o.tree.share.fs }

// lookupOpen finds the open a request names (3.3.5.2.10 and related
// compounds): STATUS_FILE_CLOSED if it does not exist or belongs to another
// session or tree.
func (r *request) lookupOpen(id wire.FileID) (*open, error) {
	if id.IsRelated() {
		if r.hdr.Flags&wire.FlagRelated == 0 || !r.chain.haveFileID {
			return nil, wire.StatusFileClosed
		}
		id = r.chain.fileID
	}
	c := r.c
	c.mu.Lock()
	o := c.opens[id.Volatile]
	c.mu.Unlock()
	if o == nil {
		// An open of the session made through another of its channels.
		if v, ok := c.srv.opens.Load(id.Volatile); ok {
			o, _ = v.(*open)
		}
	}
	if o == nil || o.id != id.Persistent || o.sess != r.sess || (r.tree != nil && o.tree != r.tree) {
		return nil, wire.StatusFileClosed
	}
	r.chain.fileID, r.chain.haveFileID = o.fileID(), true
	return o, nil
}

// registerOpen makes o reachable by FileID.
func (c *conn) registerOpen(o *open) {
	c.mu.Lock()
	c.opens[o.id] = o
	c.mu.Unlock()
	o.tree.mu.Lock()
	o.tree.opens[o.id] = o
	o.tree.mu.Unlock()
	c.srv.opens.Store(o.id, o)
	c.srv.notifyDirOpened(o) // a possible watch: the other nodes hear of it first
}

// closeOpen releases an open: its cluster records, its delete-on-close, its
// file descriptor. It reports the file's final state for CLOSE's
// post-query attributes (taken before a delete).
func (c *conn) closeOpen(ctx context.Context, o *open) error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return wire.StatusFileClosed
	}
	o.closed = true
	o.mu.Unlock()
	c.mu.Lock()
	delete(c.opens, o.id)
	c.mu.Unlock()
	o.tree.mu.Lock()
	delete(o.tree.opens, o.id)
	o.tree.mu.Unlock()
	c.srv.opens.Delete(o.id)
	if o.pipe != nil {
		return o.pipe.Close()
	}
	o.cancelNotify()
	res, err := c.srv.locker.CloseFile(ctx, o.key, o.oid)
	if err != nil {
		c.log.Warn("releasing open in the lock database", "err", err)
	}
	rel, _ := o.path()
	if err == nil && res.Delete {
		if o.stream == "" && !o.isDir {
			removeStreams(o.fs(), o.key.Inode)
		}
		if rerr := o.fs().Remove(rel); rerr != nil {
			c.log.Info("delete on close failed", "path", rel, "err", rerr)
		}
		c.srv.notifyChange(o.tree.share, rel, notifyRemoved, o.isDir)
	}
	c.releaseStreamBase(ctx, o)
	return o.f.Close()
}

// closeTreeOpens closes every open of a tree (TREE_DISCONNECT; a session
// that ends uses disconnectTreeOpens).
func (c *conn) closeTreeOpens(t *tree) {
	t.mu.Lock()
	opens := make([]*open, 0, len(t.opens))
	for _, o := range t.opens {
		opens = append(opens, o)
	}
	t.mu.Unlock()
	for _, o := range opens {
		c.closeOpen(context.Background(), o)
	}
}

// openFileLive is openFile for a file that may vanish while its open waits
// for breaks: when another open's delete-on-close removed the name in the
// meantime (another client's disconnect, another node), the open it got is
// of an unlinked file, and the CREATE starts over from the name, as
// Samba's deferred opens do. It returns the Info it read from the opened
// file when it did (an existing file), which is current until the CREATE
// changes the file.
func (r *request) openFileLive(ctx context.Context, req *wire.CreateRequest) (*open, uint32, *vfs.Info, error) {
	for try := 0; ; try++ {
		o, action, err := r.openFile(ctx, req)
		if err != nil || action == wire.FileCreated || try == 2 {
			return o, action, nil, err
		}
		st, err := vfs.StatFile(o.f)
		if err != nil {
			return o, action, nil, nil
		}
		if st.Nlink > 0 {
			return o, action, &st, nil
		}
		r.c.discardOpen(ctx, o)
	}
}

// discardOpen releases an open whose file was unlinked under it: its
// records and its descriptor, never a name (the name may be another
// file's by now).
func (c *conn) discardOpen(ctx context.Context, o *open) {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	c.mu.Lock()
	delete(c.opens, o.id)
	c.mu.Unlock()
	o.tree.mu.Lock()
	delete(o.tree.opens, o.id)
	o.tree.mu.Unlock()
	c.srv.opens.Delete(o.id)
	if _, err := c.srv.locker.CloseFile(ctx, o.key, o.oid); err != nil {
		c.log.Warn("releasing open in the lock database", "err", err)
	}
	o.f.Close()
}
