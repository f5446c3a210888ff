package smbnode

import (
	"context"
	"path"
	"strings"
	"sync"

	"shoal/smbnode/wire"
)

// Change kinds reported to watches.
const (
	notifyAdded = iota
	notifyRemoved
	notifyModified
)

// watch is a directory open with CHANGE_NOTIFY requests (MS-SMB2 3.3.5.19).
// Events are queued while no request waits and delivered to the next.
type watch struct {
	mu      sync.Mutex
	filter  uint32
	tree    bool
	events  []wire.NotifyEvent
	overflw bool
	wake    chan struct{}
	closed  bool
}

// notifyHub finds the watches of a share by directory.
type notifyHub struct {
	mu      sync.Mutex
	watches map[*open]*watch
}

// handleChangeNotify is SMB2 CHANGE_NOTIFY: it goes async and completes
// when something changes in the watched directory.
func handleChangeNotify(ctx context.Context, r *request) error {
	req, err := wire.ParseChangeNotifyRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if !o.isDir {
		return wire.StatusInvalidParameter
	}
	if o.access&wire.FileReadData == 0 {
		return wire.StatusAccessDenied
	}
	if req.OutputBufferLength > r.c.srv.cfg.MaxIOSize {
		return wire.StatusInvalidParameter
	}
	w := r.c.srv.watchFor(o, req.CompletionFilter, req.Flags&wire.WatchTree != 0)
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return wire.StatusNotifyCleanup
		}
		if len(w.events) > 0 || w.overflw {
			events, over := w.events, w.overflw
			w.events, w.overflw = nil, false
			w.mu.Unlock()
			if over {
				return wire.StatusNotifyEnumDir
			}
			buf, err := wire.AppendNotifyInformation(nil, events, int(req.OutputBufferLength))
			if err != nil {
				return wire.StatusNotifyEnumDir
			}
			r.out = (&wire.ChangeNotifyResponse{Buffer: buf}).Append(r.out)
			return nil
		}
		wake := w.wake
		w.mu.Unlock()
		actx := r.goAsync()
		select {
		case <-wake:
		case <-actx.Done():
			return wire.StatusCancelled
		}
	}
}

// watchFor returns the open's watch, creating it on the first request.
func (s *Server) watchFor(o *open, filter uint32, tree bool) *watch {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	if s.notify.watches == nil {
		s.notify.watches = map[*open]*watch{}
	}
	w := s.notify.watches[o]
	if w == nil {
		w = &watch{wake: make(chan struct{})}
		s.notify.watches[o] = w
	}
	w.mu.Lock()
	w.filter, w.tree = filter, tree
	w.mu.Unlock()
	return w
}

// cancelNotify completes the open's pending notifications with
// STATUS_NOTIFY_CLEANUP when it closes.
func (o *open) cancelNotify() {
	s := o.conn.srv
	s.notify.mu.Lock()
	w := s.notify.watches[o]
	delete(s.notify.watches, o)
	s.notify.mu.Unlock()
	if w != nil {
		w.mu.Lock()
		w.closed = true
		close(w.wake)
		w.mu.Unlock()
	}
}

// notifyChange tells the watches of rel's directory (and WATCH_TREE
// watches above it) that rel changed.
func (s *Server) notifyChange(sh *share, rel string, kind int, isDir bool) {
	action, filter := wire.FileActionModified, wire.FileNotifyChangeLastWrite|wire.FileNotifyChangeSize|wire.FileNotifyChangeAttributes
	switch kind {
	case notifyAdded:
		action = wire.FileActionAdded
		filter = wire.FileNotifyChangeFileName
		if isDir {
			filter = wire.FileNotifyChangeDirName
		}
	case notifyRemoved:
		action = wire.FileActionRemoved
		filter = wire.FileNotifyChangeFileName
		if isDir {
			filter = wire.FileNotifyChangeDirName
		}
	}
	s.post(sh, rel, filter, []wire.NotifyEvent{{Action: action}})
}

// notifyRename reports a rename as an old-name/new-name pair.
func (s *Server) notifyRename(sh *share, oldRel, newRel string, isDir bool) {
	filter := wire.FileNotifyChangeFileName
	if isDir {
		filter = wire.FileNotifyChangeDirName
	}
	if path.Dir(oldRel) == path.Dir(newRel) {
		s.post(sh, oldRel, filter, []wire.NotifyEvent{{Action: wire.FileActionRenamedOldName}, {Action: wire.FileActionRenamedNewName, FileName: newRel}})
		return
	}
	s.post(sh, oldRel, filter, []wire.NotifyEvent{{Action: wire.FileActionRemoved}})
	s.post(sh, newRel, filter, []wire.NotifyEvent{{Action: wire.FileActionAdded}})
}

// post queues events about rel for every matching watch. An event with an
// empty FileName names rel itself; names are made relative to each watch.
func (s *Server) post(sh *share, rel string, filter uint32, events []wire.NotifyEvent) {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	for o, w := range s.notify.watches {
		if o.tree.share != sh {
			continue
		}
		dir, _ := o.path()
		parent := path.Dir(rel)
		if parent == "." {
			parent = ""
		}
		var relToWatch string
		switch {
		case parent == dir:
			relToWatch = rel
			if dir != "" {
				relToWatch = strings.TrimPrefix(rel, dir+"/")
			}
		case dir == "" || strings.HasPrefix(parent, dir+"/"):
			relToWatch = strings.TrimPrefix(rel, dir+"/")
		default:
			continue
		}
		w.mu.Lock()
		if w.filter&filter == 0 || parent != dir && !w.tree {
			w.mu.Unlock()
			continue
		}
		for _, e := range events {
			name := relToWatch
			if e.FileName != "" {
				name = strings.TrimPrefix(e.FileName, dir+"/")
				if dir == "" {
					name = e.FileName
				}
			}
			w.events = append(w.events, wire.NotifyEvent{Action: e.Action, FileName: strings.ReplaceAll(name, "/", `\`)})
		}
		if len(w.events) > 1000 {
			w.events, w.overflw = nil, true
		}
		close(w.wake)
		w.wake = make(chan struct{})
		w.mu.Unlock()
	}
}
