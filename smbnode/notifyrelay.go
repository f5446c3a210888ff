package smbnode

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"shoal/lockdb"
	"shoal/lockdb/table"
)

// Cross-node change notify. The nodes share only the filesystem and the
// lock database, so a change made through one node reaches the watches of
// the others as a lockdb Publish message:
//
//   - A node that may watch says so (Watching): when its first directory
//     open appears (a watch needs one, so the CREATE answer waits for the
//     announcement and the other nodes know before any CHANGE_NOTIFY can
//     be sent), then every relayRefresh while it has any, and relayLinger
//     after its last one closed.
//   - A node relays the changes made through it (post's arguments,
//     exactly as its own watches see them) only while some other node
//     watches, so a cluster without watches pays nothing. One goroutine
//     sends them in order, batching what accumulates during a send.
//   - The receiving node posts them to its watches as if they were its own
//     changes, and answers its watches of a directory that became
//     delete-pending elsewhere with STATUS_DELETE_PENDING.
//
// Relaying is best effort: a node that cannot be reached misses changes
// (its clients' watches are not told; they miss what a restarted Samba
// would miss too). A backlog beyond maxRelayQueue is replaced by an
// overflow marker that answers every watch of the receiver with
// STATUS_NOTIFY_ENUM_DIR.

// notifyTopic is the lockdb topic of change notification.
const notifyTopic = "smbnode.notify"

const (
	// relayRefresh is how often a watching node repeats that it watches;
	// the others forget it after relayForget without news.
	relayRefresh = 10 * time.Second
	relayForget  = 3 * relayRefresh
	// relayLinger is how long a node keeps saying it watches after its
	// last directory open closed, sparing a client that opens and closes
	// directories an announcement each time.
	relayLinger = 10 * time.Second
	// relayTimeout bounds one send to the other nodes.
	relayTimeout = 2 * time.Second
	// maxRelayQueue bounds the changes waiting to be sent.
	maxRelayQueue = 10000
)

// relayMsg is one notification message between nodes.
type relayMsg struct {
	// Watching is the sender's state: whether it may watch.
	Watching bool `json:"watching"`
	// Changes made through the sender, in order.
	Changes []relayChange `json:"changes,omitempty"`
	// DeletePending names directories whose watches must complete with
	// STATUS_DELETE_PENDING.
	DeletePending []table.Key `json:"delete_pending,omitempty"`
	// Overflow: the sender dropped changes; every watch must rescan.
	Overflow bool `json:"overflow,omitempty"`
}

// relayChange is one post call.
type relayChange struct {
	Share  string `json:"share"`
	Action uint32 `json:"action"`
	Filter uint32 `json:"filter"`
	Rel    string `json:"rel"`
	NewRel string `json:"new_rel,omitempty"`
}

// NotifyBus carries messages between the nodes of a cluster;
// *lockdb.Cluster is one. Publish sends to every other node and returns
// once they have handled the message (or failed, or ctx ended); Subscribe
// sets the one handler of a topic, called for the other nodes' messages
// on any goroutine, one message of a node at a time. Both are safe for
// concurrent use.
type NotifyBus interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(topic string, h func(from string, payload []byte))
}

var _ NotifyBus = (*lockdb.Cluster)(nil)

// notifyRelay is a node's side of cross-node notification.
type notifyRelay struct {
	cl NotifyBus // nil: no cluster, nothing to relay

	// sendMu serialises sends, so the others see this node's messages in
	// order.
	sendMu sync.Mutex

	// watched is len(watchers), readable without mu: changes skip the
	// relay while no other node watches.
	watched atomic.Int32

	mu       sync.Mutex
	watchers map[string]time.Time // other nodes that watch → when to forget them
	queue    relayMsg             // waiting to be sent
	sending  bool                 // the sender goroutine runs
	refresh  *time.Timer
	dirs     map[*open]struct{} // this node's directory opens
	said     bool               // what the others last heard from this node
}

// startNotifyRelay subscribes to the other nodes' notifications when the
// server has a NotifyBus. Called once, by New.
func (s *Server) startNotifyRelay() {
	bus := s.cfg.NotifyBus
	if bus == nil {
		return
	}
	rl := &s.notify.relay
	rl.cl = bus
	rl.watchers = map[string]time.Time{}
	rl.dirs = map[*open]struct{}{}
	bus.Subscribe(notifyTopic, s.receiveNotify)
}

// notifyDirOpened counts a directory open (a possible watch); the first
// one is announced before it returns. Called when an open is registered,
// before the CREATE answer; idempotent.
func (s *Server) notifyDirOpened(o *open) {
	rl := &s.notify.relay
	if rl.cl == nil || !o.isDir {
		return
	}
	rl.mu.Lock()
	rl.dirs[o] = struct{}{}
	tell := !rl.said
	rl.mu.Unlock()
	if tell {
		s.relayState(false)
	}
}

// notifyDirClosed forgets a directory open; after the last one the others
// hear, relayLinger later, that this node no longer watches.
func (s *Server) notifyDirClosed(o *open) {
	rl := &s.notify.relay
	if rl.cl == nil || !o.isDir {
		return
	}
	rl.mu.Lock()
	_, had := rl.dirs[o]
	delete(rl.dirs, o)
	last := had && len(rl.dirs) == 0
	rl.mu.Unlock()
	if last {
		time.AfterFunc(relayLinger, func() { s.relayState(false) })
	}
}

// relayState tells the other nodes whether this node may watch (its
// current state, whatever the caller saw: calls may overtake each other),
// when it differs from what they last heard or when refresh is set. It
// waits for the message to be sent.
func (s *Server) relayState(refresh bool) {
	rl := &s.notify.relay
	if rl.cl == nil {
		return
	}
	rl.sendMu.Lock()
	defer rl.sendMu.Unlock()
	watching := s.watching()
	rl.mu.Lock()
	if watching == rl.said && !refresh {
		rl.mu.Unlock()
		return
	}
	rl.said = watching
	if rl.refresh != nil {
		rl.refresh.Stop()
		rl.refresh = nil
	}
	if watching {
		rl.refresh = time.AfterFunc(relayRefresh, func() { s.relayState(true) })
	}
	rl.mu.Unlock()
	s.relaySend(relayMsg{Watching: watching})
}

// watching reports whether this node has directory opens or watches.
func (s *Server) watching() bool {
	rl := &s.notify.relay
	rl.mu.Lock()
	dirs := len(rl.dirs)
	rl.mu.Unlock()
	return dirs > 0 || s.notify.active.Load() > 0
}

// relaySend publishes one message; sendMu is held.
func (s *Server) relaySend(m relayMsg) {
	rl := &s.notify.relay
	payload, err := json.Marshal(m)
	if err != nil {
		s.log.Error("encoding a change notification", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	if err := rl.cl.Publish(ctx, notifyTopic, payload); err != nil {
		s.log.Warn("relaying change notifications", "changes", len(m.Changes), "err", err)
	}
}

// relayEvent queues a change made through this node for the other nodes
// that watch.
func (s *Server) relayEvent(sh *share, action, filter uint32, rel, newRel string) {
	s.relayQueue(false, func(q *relayMsg) {
		q.Changes = append(q.Changes, relayChange{Share: sh.cfg.Name, Action: action, Filter: filter, Rel: rel, NewRel: newRel})
	})
}

// relayDeletePending queues the news that directory k became
// delete-pending through this node. It goes out even when no other node
// is known to watch (this is rare news): a watch set up a moment ago may
// not have been announced yet.
func (s *Server) relayDeletePending(k table.Key) {
	s.relayQueue(true, func(q *relayMsg) { q.DeletePending = append(q.DeletePending, k) })
}

// relayQueue adds to the queue, if another node watches (or always), and
// makes sure the sender runs.
func (s *Server) relayQueue(always bool, add func(q *relayMsg)) {
	rl := &s.notify.relay
	if rl.cl == nil || rl.watched.Load() == 0 && !always {
		return
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	defer func() { rl.watched.Store(int32(len(rl.watchers))) }()
	now := time.Now()
	watched := false
	for n, until := range rl.watchers {
		if now.After(until) {
			delete(rl.watchers, n)
			continue
		}
		watched = true
	}
	if !watched && !always {
		return
	}
	if len(rl.queue.Changes)+len(rl.queue.DeletePending) >= maxRelayQueue {
		rl.queue.Changes, rl.queue.DeletePending, rl.queue.Overflow = nil, nil, true
	}
	if !rl.queue.Overflow {
		add(&rl.queue)
	}
	if !rl.sending {
		rl.sending = true
		go s.relayLoop()
	}
}

// relayLoop sends the queue until it is empty.
func (s *Server) relayLoop() {
	rl := &s.notify.relay
	for {
		rl.sendMu.Lock()
		rl.mu.Lock()
		m := rl.queue
		rl.queue = relayMsg{}
		if len(m.Changes) == 0 && len(m.DeletePending) == 0 && !m.Overflow {
			rl.sending = false
			rl.mu.Unlock()
			rl.sendMu.Unlock()
			return
		}
		// Repeat what the others last heard: only relayState changes it,
		// so that it always knows what they believe.
		m.Watching = rl.said
		rl.mu.Unlock()
		s.relaySend(m)
		rl.sendMu.Unlock()
	}
}

// receiveNotify handles another node's message (lockdb calls it on an
// RPC goroutine; messages from one node come one at a time, in order).
func (s *Server) receiveNotify(from string, payload []byte) {
	var m relayMsg
	if err := json.Unmarshal(payload, &m); err != nil {
		s.log.Warn("bad change notification from another node", "node", from, "err", err)
		return
	}
	rl := &s.notify.relay
	rl.mu.Lock()
	if m.Watching {
		rl.watchers[from] = time.Now().Add(relayForget)
	} else {
		delete(rl.watchers, from)
	}
	rl.watched.Store(int32(len(rl.watchers)))
	rl.mu.Unlock()
	if m.Overflow {
		s.notifyOverflow()
	}
	for _, ch := range m.Changes {
		sh := s.share(ch.Share)
		if sh == nil || sh.ipc {
			continue
		}
		s.post(sh, ch.Action, ch.Filter, ch.Rel, ch.NewRel)
	}
	for _, k := range m.DeletePending {
		s.notifyDeletePending(k)
	}
}
