package smbnode

import (
	"context"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"shoal/lockdb/table"
	"shoal/smbnode/wire"
)

// Change notify (MS-SMB2 3.3.5.19), with Samba's semantics (smbd/notify.c):
//
//   - The first CHANGE_NOTIFY on a directory open creates its watch and
//     fixes the watch's completion filter, WATCH_TREE flag and buffer size
//     until the open closes; later requests' filters are ignored.
//   - From then on changes are queued on the watch. A request finding
//     queued changes completes at once with all of them; otherwise it goes
//     async and the next change completes the oldest waiting request.
//   - Changes that do not fit the smaller of the request's and the watch's
//     buffer, or more than maxQueuedChanges queued ones, are answered
//     STATUS_NOTIFY_ENUM_DIR ("enumerate the directory yourself").
//   - CANCEL answers STATUS_CANCELLED; closing the open (CLOSE, TREE_DISCONNECT,
//     LOGOFF) STATUS_NOTIFY_CLEANUP; delete-on-close set on the watched
//     directory STATUS_DELETE_PENDING.
//
// Changes reach the watches through post, from notifyChange,
// notifyModified and notifyRename for changes made through this node, and
// from the other nodes of the cluster (notifyrelay.go).

// Change kinds reported by notifyChange.
const (
	notifyAdded = iota
	notifyRemoved
	notifyModified
)

// maxQueuedChanges bounds a watch's queue; beyond it the watch only
// remembers that it overflowed (Samba's limit).
const maxQueuedChanges = 1000

// notifyHub holds every watch of the server. Its mutex guards the watches
// and their queues; responses are sent after it is released.
type notifyHub struct {
	mu      sync.Mutex
	watches map[*open]*watch
	// active is len(watches), readable without mu: changes skip the hub
	// while nothing watches.
	active atomic.Int32
	// relay carries changes to and from the other nodes (notifyrelay.go).
	relay notifyRelay
}

// watch is the change-notify state of one directory open (Samba's
// notify_change_buf).
type watch struct {
	o     *open
	share *share
	// filter applies to entries directly in the directory, subdirFilter to
	// deeper ones (zero without WATCH_TREE).
	filter, subdirFilter uint32
	maxBuffer            uint32
	changes              []wire.NotifyEvent
	// overflowed: changes were lost; the next request gets ENUM_DIR.
	overflowed bool
	// deletePending: the directory was marked for deletion; every
	// request gets STATUS_DELETE_PENDING (also one that comes after the
	// news, as across nodes it may).
	deletePending bool
	// waiting requests, oldest first.
	waiting []*notifyWaiter
}

// notifyWaiter is a CHANGE_NOTIFY request waiting for a change.
type notifyWaiter struct {
	w        *watch
	maxParam uint32
	// done is set (under the hub's mutex) by whoever completes it.
	done bool
	// Either the request went async and is answered through r (a copy of
	// the handler's request that the completer owns) ...
	r *request
	a *asyncOp
	// ... or it is a non-last request of a compound, which cannot go
	// async: its handler blocks on result.
	result chan notifyResult
}

type notifyResult struct {
	status wire.Status
	buf    []byte
}

// handleChangeNotify is SMB2 CHANGE_NOTIFY. It never blocks when it is the
// last request of its chain (the reader runs lone CHANGE_NOTIFY frames in
// order, see conn.frame): a waiting request is answered later by whoever
// completes it.
func handleChangeNotify(ctx context.Context, r *request) error {
	req, err := wire.ParseChangeNotifyRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	if req.OutputBufferLength > r.c.maxTransactSize() {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if !o.isDir || o.tree != r.tree || o.f == nil {
		return wire.StatusInvalidParameter
	}
	s := r.c.srv
	h := &s.notify
	h.mu.Lock()
	w := h.watches[o]
	first := false
	if w == nil {
		// Setting up a watch needs LIST access (Samba's change_notify_create).
		if o.access&wire.FileReadData == 0 {
			h.mu.Unlock()
			return wire.StatusAccessDenied
		}
		o.mu.Lock()
		closed := o.closed
		o.mu.Unlock()
		if closed {
			h.mu.Unlock()
			return wire.StatusFileClosed
		}
		w = &watch{o: o, share: o.tree.share, filter: req.CompletionFilter, maxBuffer: req.OutputBufferLength}
		if req.Flags&wire.WatchTree != 0 {
			w.subdirFilter = req.CompletionFilter
		}
		if h.watches == nil {
			h.watches = map[*open]*watch{}
		}
		first = len(h.watches) == 0
		h.watches[o] = w
		h.active.Store(int32(len(h.watches)))
	}
	if w.deletePending {
		h.mu.Unlock()
		return wire.StatusDeletePending
	}
	if len(w.changes) > 0 || w.overflowed {
		res := w.takeLocked(req.OutputBufferLength)
		h.mu.Unlock()
		return r.notifyAnswer(res)
	}
	h.mu.Unlock()
	if first {
		// Announced at the directory's open already, unless it lingered
		// out meanwhile; the other nodes learn that changes through them
		// matter before the client learns that its request waits.
		s.relayState(false)
	}

	actx := r.goAsync()
	if r.async == nil {
		// Not the last request of a compound: wait here.
		nw := &notifyWaiter{w: w, maxParam: req.OutputBufferLength, result: make(chan notifyResult, 1)}
		if res, now := w.wait(nw); now {
			return r.notifyAnswer(res)
		}
		select {
		case res := <-nw.result:
			return r.notifyAnswer(res)
		case <-actx.Done():
			if w.abandon(nw) {
				return wire.StatusCancelled
			}
			return r.notifyAnswer(<-nw.result)
		}
	}
	// Hand the request over: from here the waiter answers it, on its own
	// copy, and the dispatcher neither answers nor forgets it.
	wr := *r
	wr.out = make([]byte, wire.HeaderSize, wire.HeaderSize+64)
	nw := &notifyWaiter{w: w, maxParam: req.OutputBufferLength, r: &wr, a: r.async}
	res, now := w.wait(nw)
	if now {
		// A change came in while the interim response went out.
		return r.notifyAnswer(res)
	}
	r.async, r.skipResponse = nil, true
	context.AfterFunc(nw.a.ctx, func() {
		if w.abandon(nw) {
			nw.complete(notifyResult{status: wire.StatusCancelled})
		}
	})
	return nil
}

// notifyAnswer turns a result into the handler's answer.
func (r *request) notifyAnswer(res notifyResult) error {
	if res.status != wire.StatusSuccess {
		return res.status
	}
	r.out = (&wire.ChangeNotifyResponse{Buffer: res.buf}).Append(r.out)
	return nil
}

// maxTransactSize is the MaxTransactSize the connection negotiated.
func (c *conn) maxTransactSize() uint32 {
	c.mu.Lock()
	d := c.dialect
	c.mu.Unlock()
	n := c.srv.cfg.MaxIOSize
	if d == wire.Dialect202 {
		n = min(n, 64<<10)
	}
	return n
}

// wait queues nw, unless changes are already there: then it reports them.
func (w *watch) wait(nw *notifyWaiter) (notifyResult, bool) {
	h := &w.o.conn.srv.notify
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watches[w.o] != w {
		return notifyResult{status: wire.StatusNotifyCleanup}, true
	}
	if w.deletePending {
		return notifyResult{status: wire.StatusDeletePending}, true
	}
	if len(w.changes) > 0 || w.overflowed {
		return w.takeLocked(nw.maxParam), true
	}
	w.waiting = append(w.waiting, nw)
	return notifyResult{}, false
}

// abandon removes a cancelled waiter; false if it was completed already.
func (w *watch) abandon(nw *notifyWaiter) bool {
	h := &w.o.conn.srv.notify
	h.mu.Lock()
	defer h.mu.Unlock()
	if nw.done {
		return false
	}
	nw.done = true
	for i, x := range w.waiting {
		if x == nw {
			w.waiting = append(w.waiting[:i], w.waiting[i+1:]...)
			break
		}
	}
	return true
}

// takeLocked empties the queue into a response for a request that accepts
// maxParam bytes. The hub's mutex is held.
func (w *watch) takeLocked(maxParam uint32) notifyResult {
	changes, over := w.changes, w.overflowed
	w.changes, w.overflowed = nil, false
	if over {
		return notifyResult{status: wire.StatusNotifyEnumDir}
	}
	buf, err := wire.AppendNotifyInformation(nil, coalesce(changes), int(min(maxParam, w.maxBuffer)))
	if err != nil || len(buf) == 0 {
		return notifyResult{status: wire.StatusNotifyEnumDir}
	}
	return notifyResult{status: wire.StatusSuccess, buf: buf}
}

// coalesce drops a change identical to the one before it.
func coalesce(changes []wire.NotifyEvent) []wire.NotifyEvent {
	out := changes[:0:0]
	for i, e := range changes {
		if i > 0 && e == changes[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// popLocked takes the oldest waiting request, if any, marking it done.
func (w *watch) popLocked() *notifyWaiter {
	if len(w.waiting) == 0 {
		return nil
	}
	nw := w.waiting[0]
	w.waiting = w.waiting[1:]
	nw.done = true
	return nw
}

// complete answers a waiter taken off its watch.
func (nw *notifyWaiter) complete(res notifyResult) {
	if nw.result != nil {
		nw.result <- res
		return
	}
	r, c := nw.r, nw.r.c
	r.async = nw.a
	r.out = r.out[:wire.HeaderSize]
	if res.status == wire.StatusSuccess {
		r.out = (&wire.ChangeNotifyResponse{Buffer: res.buf}).Append(r.out)
	}
	if c.ctx.Err() == nil {
		if err := c.respond(r, res.status); err != nil {
			c.log.Debug("sending a change notify response", "err", err)
			c.close()
		}
	}
	c.finishAsync(nw.a)
}

// cancelNotify ends the open's watch as it closes: its waiting requests
// complete with STATUS_NOTIFY_CLEANUP; a directory open stops counting as
// a possible watch (notifyrelay.go). A directory open closing with
// delete-on-close makes the directory delete-pending: the waiting requests
// of the other opens' watches on it complete with STATUS_DELETE_PENDING.
func (o *open) cancelNotify() {
	s := o.conn.srv
	o.mu.Lock()
	deleting := o.isDir && (o.deleteOnClose || o.deletePending)
	o.mu.Unlock()
	if deleting {
		defer s.deletePendingDir(o.key)
	}
	h := &s.notify
	s.notifyDirClosed(o)
	h.mu.Lock()
	w := h.watches[o]
	var done []*notifyWaiter
	if w != nil {
		delete(h.watches, o)
		h.active.Store(int32(len(h.watches)))
		for nw := w.popLocked(); nw != nil; nw = w.popLocked() {
			done = append(done, nw)
		}
	}
	h.mu.Unlock()
	for _, nw := range done {
		nw.complete(notifyResult{status: wire.StatusNotifyCleanup})
	}
}

// deletePendingDir reports that directory k became delete-pending through
// this node: the watches on it, here and on the other nodes, complete
// their waiting requests with STATUS_DELETE_PENDING.
func (s *Server) deletePendingDir(k table.Key) {
	s.notifyDeletePending(k)
	s.relayDeletePending(k)
}

// notifyDeletePending completes the waiting requests of every watch on
// the file k with STATUS_DELETE_PENDING: delete-on-close was set on the
// watched directory (Samba's MSG_SMB_NOTIFY_CANCEL_DELETED). The watches
// stay, answering later requests the same way.
func (s *Server) notifyDeletePending(k table.Key) {
	h := &s.notify
	h.mu.Lock()
	var done []*notifyWaiter
	for o, w := range h.watches {
		if o.key != k {
			continue
		}
		w.deletePending = true
		for nw := w.popLocked(); nw != nil; nw = w.popLocked() {
			done = append(done, nw)
		}
	}
	h.mu.Unlock()
	for _, nw := range done {
		nw.complete(notifyResult{status: wire.StatusDeletePending})
	}
}

// notifyChange reports that rel (a path relative to the share root)
// was added, removed or modified.
func (s *Server) notifyChange(sh *share, rel string, kind int, isDir bool) {
	nameFilter := wire.FileNotifyChangeFileName
	if isDir {
		nameFilter = wire.FileNotifyChangeDirName
	}
	switch kind {
	case notifyAdded:
		s.notifyEvent(sh, wire.FileActionAdded, nameFilter, rel, "")
	case notifyRemoved:
		s.notifyEvent(sh, wire.FileActionRemoved, nameFilter, rel, "")
	default:
		s.notifyEvent(sh, wire.FileActionModified, wire.FileNotifyChangeLastWrite|wire.FileNotifyChangeSize|wire.FileNotifyChangeAttributes, rel, "")
	}
}

// notifyModified reports a change of rel's metadata that matches filter
// (FILE_NOTIFY_CHANGE_ATTRIBUTES, _LAST_WRITE, _CREATION, ...).
func (s *Server) notifyModified(sh *share, rel string, filter uint32) {
	if filter != 0 {
		s.notifyEvent(sh, wire.FileActionModified, filter, rel, "")
	}
}

// notifyRename reports a rename: an old-name/new-name pair within one
// directory, a removal and an addition across directories, and, for a
// file, a modification of the new name (Windows and Samba send it).
func (s *Server) notifyRename(sh *share, oldRel, newRel string, isDir bool) {
	filter := wire.FileNotifyChangeFileName
	if isDir {
		filter = wire.FileNotifyChangeDirName
	}
	if path.Dir(oldRel) == path.Dir(newRel) {
		s.notifyEvent(sh, wire.FileActionRenamedOldName, filter, oldRel, newRel)
	} else {
		s.notifyEvent(sh, wire.FileActionRemoved, filter, oldRel, "")
		s.notifyEvent(sh, wire.FileActionAdded, filter, newRel, "")
	}
	if !isDir {
		s.notifyEvent(sh, wire.FileActionModified, wire.FileNotifyChangeAttributes|wire.FileNotifyChangeCreation, newRel, "")
	}
}

// notifyEvent is one change made through this node: it goes to this
// node's watches and to the other nodes'. newRel is set only for
// FileActionRenamedOldName, naming the new name in the same directory.
func (s *Server) notifyEvent(sh *share, action, filter uint32, rel, newRel string) {
	s.post(sh, action, filter, rel, newRel)
	s.relayEvent(sh, action, filter, rel, newRel)
}

// notifyOverflow tells every watch that changes were lost: each answers
// STATUS_NOTIFY_ENUM_DIR.
func (s *Server) notifyOverflow() {
	h := &s.notify
	var done []*notifyWaiter
	h.mu.Lock()
	for _, w := range h.watches {
		w.changes, w.overflowed = nil, true
		if nw := w.popLocked(); nw != nil {
			done = append(done, nw)
			w.overflowed = false
		}
	}
	h.mu.Unlock()
	for _, nw := range done {
		nw.complete(notifyResult{status: wire.StatusNotifyEnumDir})
	}
}

// post queues a change for every watch it matches and answers the
// watches' oldest waiting requests.
func (s *Server) post(sh *share, action, filter uint32, rel, newRel string) {
	h := &s.notify
	if h.active.Load() == 0 {
		return
	}
	parent := parentDir(rel)
	type answer struct {
		nw  *notifyWaiter
		res notifyResult
	}
	var answers []answer
	h.mu.Lock()
	for _, w := range h.watches {
		if w.share != sh {
			continue
		}
		dir := watchDir(w.o)
		var mask uint32
		switch {
		case parent == dir:
			mask = w.filter
		case dir == "" || strings.HasPrefix(parent, dir+"/"):
			mask = w.subdirFilter
		default:
			continue
		}
		if mask&filter == 0 {
			continue
		}
		if w.overflowed {
			continue
		}
		if len(w.changes) >= maxQueuedChanges {
			w.changes, w.overflowed = nil, true
		} else {
			w.changes = append(w.changes, wire.NotifyEvent{Action: action, FileName: relativeTo(dir, rel)})
			if newRel != "" {
				w.changes = append(w.changes, wire.NotifyEvent{Action: wire.FileActionRenamedNewName, FileName: relativeTo(dir, newRel)})
			}
		}
		if nw := w.popLocked(); nw != nil {
			answers = append(answers, answer{nw, w.takeLocked(nw.maxParam)})
		}
	}
	h.mu.Unlock()
	for _, a := range answers {
		a.nw.complete(a.res)
	}
}

// watchDir is the watched directory's path relative to the share root,
// cleaned ("" for the root).
func watchDir(o *open) string {
	rel, _ := o.path()
	rel = path.Clean("/" + rel)[1:]
	return rel
}

// parentDir is rel's directory ("" for the share root).
func parentDir(rel string) string {
	d := path.Dir(rel)
	if d == "." || d == "/" {
		return ""
	}
	return d
}

// relativeTo names rel relative to dir, with backslashes, as
// FILE_NOTIFY_INFORMATION carries it.
func relativeTo(dir, rel string) string {
	if dir != "" {
		rel = strings.TrimPrefix(rel, dir+"/")
	}
	return strings.ReplaceAll(rel, "/", `\`)
}
