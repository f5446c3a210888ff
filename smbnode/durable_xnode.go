package smbnode

// Durable reconnect through another node (MS-SMB2 3.3.5.9.7, 3.3.5.9.12
// with several nodes behind one name).
//
// A client whose connection to node A dropped may come back through node
// B. B does not know the FileID; it asks the cluster (durableMover,
// lockdb's FindDurable) which node owns a durable open with that
// persistent FileID on the tree's share, runs the same checks as a
// reconnect on A (user, CreateGuid, lease key, client GUID, name), and
// asks the key's home to move the open to B (MoveDurable). The home has A
// give it up: A agrees only if no connection holds the open (Owner.
// ReleaseDurable → Server.releaseDurable), closes its descriptor and stops
// its timer without releasing anything, and hands over what the lock
// database does not keep (name, position, timeout, lock sequence
// buckets). The home re-owns the record, byte-range locks and caching
// included, under B's id with the same number, so the client gets back
// the same FileID. B opens the file again by name, checks the inode, and
// the open joins the client's session and tree.
//
// A session reconnect (PreviousSessionId) through another node reaches
// the old session too: once the new session is authenticated, the other
// nodes are asked to log off the previous session if it is the same
// user's (Samba's smb2srv_session_close_previous), so its durable opens
// become disconnected and can move.
//
// When the open's node died, its key's home kept the record as an orphan
// (lockdb/durablemove_orphan.go): the same lookup finds it there and the
// home hands it over without an owner to ask; the file is reopened by the
// recorded name, and the position and lock sequence buckets are lost.
// After a restart of this very node, the orphan it left comes back the
// same way under its old id.
//
// Known limit: a rename of the file through another node than the one
// holding the disconnected open is not seen by that node, so the moved
// open's name is stale and the inode check fails the reconnect.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"shoal/lockdb"
	"shoal/lockdb/table"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// durableMover is a Locker that can find a durable open of another node
// and move it here: ClusterLocker. Both methods block on the network and
// are safe for concurrent use.
type durableMover interface {
	// FindDurable lists the cluster's durable-open records with this
	// persistent FileID on share.
	FindDurable(ctx context.Context, share string, fileID uint64) ([]table.Record, error)
	// MoveDurable takes over old as nu (an id of this node): the open's
	// record as this node now owns it, and the state its old node's
	// Server.releaseDurable handed over.
	MoveDurable(ctx context.Context, k table.Key, old, nu table.OpenID, session uint64) (table.Record, []byte, error)
}

var _ durableMover = (*ClusterLocker)(nil)

// lockerAs finds the optional interface T (durableMover, durableStore,
// *localLocker) on l or on the Locker it wraps, through any
// LockerWrappers (noded's metrics).
func lockerAs[T any](l Locker) (T, bool) {
	for {
		if t, ok := l.(T); ok {
			return t, true
		}
		u, ok := l.(LockerWrapper)
		if !ok {
			var zero T
			return zero, false
		}
		l = u.Unwrap()
	}
}

// FindDurable asks every node for durable opens with FileID fileID.
func (l *ClusterLocker) FindDurable(ctx context.Context, share string, fileID uint64) ([]table.Record, error) {
	return l.C.FindDurable(ctx, share, fileID)
}

// MoveDurable moves a durable open of another node here.
func (l *ClusterLocker) MoveDurable(ctx context.Context, k table.Key, old, nu table.OpenID, session uint64) (table.Record, []byte, error) {
	return l.C.MoveDurable(ctx, k, old, nu, session)
}

var _ lockdb.DurableOwner = (*Owner)(nil)

// ReleaseDurable gives up a disconnected durable open of this node to
// another node (lockdb moves it there).
func (o *Owner) ReleaseDurable(ctx context.Context, k table.Key, id table.OpenID) ([]byte, error) {
	s := o.S.Load()
	if s == nil {
		return nil, table.ErrNoSuchOpen
	}
	return s.releaseDurable(k, id)
}

// durableState is what a durable open's old node hands the new one: the
// SMB open's state that the lock database record does not keep.
type durableState struct {
	Rel           string        `json:"rel"`
	Name          string        `json:"name"`
	Position      uint64        `json:"pos,omitempty"`
	Mode          uint32        `json:"mode,omitempty"`
	CreateOptions uint32        `json:"opts,omitempty"`
	V2            bool          `json:"v2,omitempty"`
	Timeout       time.Duration `json:"timeout"`
	ClientGUID    [16]byte      `json:"client_guid"`
	LeaseVersion  int           `json:"lease_ver,omitempty"`
	LockSeq       [65]uint32    `json:"lock_seq"`
}

// releaseDurable forgets a disconnected durable open that is moving to
// another node: its timer stops and its descriptor closes, nothing is
// released in the cluster. table.ErrNoSuchOpen if the open is unknown,
// not durable, or held by a connection.
func (s *Server) releaseDurable(k table.Key, id table.OpenID) ([]byte, error) {
	v, ok := s.opens.Load(id.ID)
	if !ok {
		return nil, fmt.Errorf("%w: %v", table.ErrNoSuchOpen, id)
	}
	o := v.(*open)
	d := o.durable.Load()
	if o.oid != id || o.key != k || d == nil || !claimDisconnected(o) {
		return nil, fmt.Errorf("%w: %v is not a disconnected durable open", table.ErrNoSuchOpen, id)
	}
	s.opens.Delete(o.id)
	o.mu.Lock()
	o.closed = true
	st := durableState{
		Rel: o.rel, Name: o.name, Position: o.position, Mode: o.mode, CreateOptions: o.createOptions,
		V2: d.v2, Timeout: d.timeout, ClientGUID: d.clientGUID, LeaseVersion: o.leaseVer, LockSeq: o.lockSeq,
	}
	o.mu.Unlock()
	o.f.Close()
	o.conn.log.Info("durable open handed over to another node", "open", o.id, "path", st.Rel)
	return json.Marshal(st)
}

// reconnectElsewhere reconnects a durable open that another node holds
// (see the file comment); when the cluster knows of none, it tries this
// node's persisted opens (reclaimDurable).
func (r *request) reconnectElsewhere(ctx context.Context, req *wire.CreateRequest, id wire.FileID, guid *[16]byte) error {
	srv := r.c.srv
	mv, ok := lockerAs[durableMover](srv.locker)
	if !ok {
		return r.reclaimDurable(ctx, req, id, guid)
	}
	recs, err := mv.FindDurable(ctx, r.tree.share.cfg.Name, id.Persistent)
	if err != nil {
		r.c.log.Warn("looking up a durable open in the cluster", "file_id", id.Persistent, "err", err)
	}
	var rec *table.Record
	for i := range recs {
		if guid == nil || *guid == recs[i].Open.CreateGUID {
			rec = &recs[i]
			break
		}
	}
	if rec == nil {
		return r.reclaimDurable(ctx, req, id, guid)
	}
	op := rec.Open
	if err := r.durableRecordCheck(req, rec, guid); err != nil {
		return err
	}
	nu := table.OpenID{Node: srv.cfg.Node, ID: id.Persistent}
	moved, blob, err := mv.MoveDurable(ctx, rec.Key, op.ID, nu, r.sess.id)
	if err != nil {
		r.c.log.Info("durable open not moved here", "open", op.ID.String(), "err", err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return wire.StatusObjectNameNotFound
	}
	st := recordState(op, req.Name)
	if len(blob) > 0 {
		if err := json.Unmarshal(blob, &st); err != nil {
			r.c.log.Warn("durable open state from its old node unreadable", "open", op.ID.String(), "err", err)
		}
	}
	f, info, err := r.reopenDurable(st.Rel, rec.Key, moved.Open.Access)
	if err != nil {
		r.c.log.Info("moved durable open cannot be reopened", "open", nu.String(), "path", st.Rel, "err", err)
		if _, cerr := srv.locker.CloseFile(ctx, rec.Key, nu); cerr != nil {
			r.c.log.Warn("releasing open in the lock database", "err", cerr)
		}
		return wire.StatusObjectNameNotFound
	}
	o := r.adoptDurable(id, rec.Key, moved.Open, f, st)
	r.c.log.Info("durable open reconnected from another node", "open", nu.String(), "from", op.ID.Node, "path", st.Rel)
	r.reconnectResponse(req, o, info)
	return nil
}

// durableRecordCheck is reconnectDurable's check of the client against a
// durable open known only by its lock database record: same share and
// user, the CreateGuid of a v2 reconnect, and durableLeaseCheck's lease
// key, client and name.
func (r *request) durableRecordCheck(req *wire.CreateRequest, rec *table.Record, guid *[16]byte) error {
	op := rec.Open
	if !strings.EqualFold(rec.Key.Share, r.tree.share.cfg.Name) || !equalFoldUser(op.User, r.sess.account()) {
		return wire.StatusObjectNameNotFound
	}
	if guid != nil && *guid != op.CreateGUID {
		return wire.StatusObjectNameNotFound
	}
	return r.leaseCheck(req, op.Oplock == wire.OplockLevelLease, op.LeaseKey, op.ClientGUID, op.Path)
}

// recordState is what a durable record alone tells of its SMB open:
// its recorded name, the default timeout of its version, nothing of its
// position or lock sequence.
func recordState(op table.Open, name string) durableState {
	st := durableState{Rel: op.Path, Name: name, Timeout: durableV1Timeout, ClientGUID: op.ClientGUID,
		V2: op.CreateGUID != [16]byte{}, LeaseVersion: op.LeaseVersion}
	if st.V2 {
		st.Timeout = durableV2DefaultTimeout
	}
	return st
}

// reopenDurable opens a durable open's file again by its name on the
// shared filesystem, for access, and checks that the name still leads to
// the recorded inode and a file.
func (r *request) reopenDurable(rel string, k table.Key, access uint32) (*os.File, vfs.Info, error) {
	flag := os.O_RDONLY
	if !r.tree.readOnly && access&(wire.FileWriteData|wire.FileAppendData) != 0 {
		flag = os.O_RDWR
	}
	f, err := r.tree.share.fs.OpenFile(rel, flag, 0)
	if err != nil {
		return nil, vfs.Info{}, err
	}
	info, err := vfs.StatFile(f)
	if err == nil && (info.FileID != k.Inode || info.IsDir) {
		err = errors.New("not the recorded file any more")
	}
	if err != nil {
		f.Close()
		return nil, vfs.Info{}, err
	}
	return f, info, nil
}

// adoptDurable builds the SMB open of a durable open that this node holds
// in the cluster now as op (after a restart or a move), on file f, and
// registers it in this request's connection, session and tree under the
// client's FileID.
func (r *request) adoptDurable(id wire.FileID, k table.Key, op table.Open, f *os.File, st durableState) *open {
	o := &open{
		id:            id.Persistent,
		tree:          r.tree,
		sess:          r.sess,
		conn:          r.c,
		f:             f,
		access:        op.Access,
		shareAccess:   op.ShareAccess,
		createOptions: st.CreateOptions,
		key:           k,
		oid:           op.ID,
		created:       time.Now(),
		rel:           st.Rel,
		name:          st.Name,
		oplock:        op.Oplock,
		position:      st.Position,
		mode:          st.Mode,
		lockSeq:       st.LockSeq,
	}
	if op.Oplock == wire.OplockLevelLease {
		o.leaseKey, o.leaseVer, o.leaseState, o.leaseEpoch = op.LeaseKey, st.LeaseVersion, op.LeaseState, op.LeaseEpoch
		if o.leaseVer == 0 {
			o.leaseVer = op.LeaseVersion
		}
	}
	d := &durableHandle{v2: st.V2, createGUID: op.CreateGUID, timeout: st.Timeout, clientGUID: st.ClientGUID, user: op.User}
	o.durable.Store(d)
	r.c.registerOpen(o)
	return o
}

// account is the session's user name without its domain, as lock
// database records keep it (table.Open.User).
func (ss *session) account() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.user
}

// previousSessionTopic carries a session reconnect's PreviousSessionId to
// the other nodes (lockdb Publish).
const previousSessionTopic = "smb.previous-session"

// previousSession is the payload of previousSessionTopic.
type previousSession struct {
	ID   uint64 `json:"id"`
	User string `json:"user"`
}

// startPreviousSessionRelay subscribes to the other nodes' session
// reconnects when the server has a NotifyBus. Called once, by New.
func (s *Server) startPreviousSessionRelay() {
	if bus := s.cfg.NotifyBus; bus != nil {
		bus.Subscribe(previousSessionTopic, s.receivePreviousSession)
	}
}

// receivePreviousSession logs off this node's session that a client
// reconnected through another node names as its previous one.
func (s *Server) receivePreviousSession(from string, payload []byte) {
	var m previousSession
	if err := json.Unmarshal(payload, &m); err != nil || m.ID == 0 || m.User == "" {
		s.log.Warn("unreadable previous-session message", "from", from, "err", err)
		return
	}
	if s.logoffPrevious(m.ID, m.User) {
		s.log.Info("session logged off: its client reconnected through another node", "session", m.ID, "node", from)
	}
}

// logoffPreviousElsewhere asks the other nodes to log off session id of
// user, the PreviousSessionId of a session just authenticated here, and
// waits for their answers (the client may use its durable handles at
// once).
func (s *Server) logoffPreviousElsewhere(ctx context.Context, id uint64, user string) {
	bus := s.cfg.NotifyBus
	if bus == nil || id == 0 || user == "" {
		return
	}
	payload, err := json.Marshal(previousSession{ID: id, User: user})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	if err := bus.Publish(ctx, previousSessionTopic, payload); err != nil {
		s.log.Warn("asking the other nodes to log off a previous session", "session", id, "err", err)
	}
}
