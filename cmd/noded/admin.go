package main

// The admin API (nodectl's socket) and the Prometheus metrics of one node.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shoal/internal/admin"
	"shoal/lockdb"
	"shoal/lockdb/table"
	"shoal/smbnode"
)

// adminFlags are the -dev flags for the admin socket and metrics.
type adminFlags struct {
	socket, metrics *string
}

func addAdminFlags(fs *flag.FlagSet) adminFlags {
	return adminFlags{
		socket:  fs.String("admin-socket", "", "with -dev: admin socket for nodectl (default "+devSocket()+", skipped if taken)"),
		metrics: fs.String("metrics-addr", "", "with -dev: Prometheus metrics listen address (default: none)"),
	}
}

// devSocket is where `noded -dev` puts its admin socket unless told, and
// where nodectl looks when /run/shoal/noded.sock does not exist.
func devSocket() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("shoal-%d", os.Getuid()), "noded.sock")
}

// adminOptions is what startAdmin needs, from flags or shoal.toml.
type adminOptions struct {
	node    string
	socket  string
	tcp     string
	token   string
	peers   []admin.Peer
	metrics string
	// optional: a default socket that may be taken by another dev node.
	optional bool
	users    admin.UserTable
	// cluster, when the node runs lockdb, supplies generation,
	// coordinator, fencing, the members, this node's byte-range locks and
	// the replicated users table.
	cluster *lockdb.Cluster
}

// startDevAdmin starts the admin socket and metrics of `noded -dev`;
// cluster may be nil.
func (n *node) startDevAdmin(f adminFlags, cluster *lockdb.Cluster) error {
	o := adminOptions{node: n.smb.Node(), socket: *f.socket, metrics: *f.metrics, cluster: cluster}
	if o.socket == "" {
		o.socket, o.optional = devSocket(), true
	}
	if st, ok := n.smb.UserStore().(*staticUsers); ok {
		o.users = &localUsers{u: st}
	}
	return n.startAdmin(o)
}

// startConfigAdmin starts [admin] and [metrics] of shoal.toml; cluster may
// be nil. Without a cluster the users table is <state_dir>/users,
// rewritten on every change; with one, the replicated table.
func (n *node) startConfigAdmin(path string, cfg *fileConfig, cluster *lockdb.Cluster) error {
	o := adminOptions{node: cfg.Node, socket: cfg.Admin.Socket, tcp: cfg.Admin.TCP,
		peers: cfg.Admin.Peers, metrics: cfg.Metrics.Listen, cluster: cluster}
	if cfg.Admin.TokenFile != "" {
		b, err := os.ReadFile(cfg.Admin.TokenFile)
		if err != nil {
			return &configError{path, fmt.Sprintf("admin.token_file: %v", err)}
		}
		o.token = strings.TrimSpace(string(b))
	}
	if st, ok := n.smb.UserStore().(*staticUsers); ok {
		o.users = &localUsers{u: st, file: filepath.Join(cfg.StateDir, "users")}
	}
	if err := n.startAdmin(o); err != nil {
		if errors.Is(err, admin.ErrConfig) {
			return &configError{path, err.Error()}
		}
		return err
	}
	return nil
}

func (n *node) startAdmin(o adminOptions) error {
	ac := admin.DefaultConfig()
	ac.Node = o.node
	ac.Socket = o.socket
	ac.TCP = o.tcp
	ac.Token = o.token
	ac.Peers = o.peers
	ac.Local = &nodeAdmin{n: n, cluster: o.cluster}
	ac.Users = o.users
	if o.cluster != nil {
		c := o.cluster
		ac.Users = &clusterUsers{c: c}
		ac.Members = func() []string { return c.LocalStatus().Members }
	}
	ac.Logger = n.log.With("svc", "admin")
	srv, err := admin.New(ac)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		if !o.optional {
			return err
		}
		n.log.Warn("no admin socket", "err", err)
	} else {
		n.closers = append(n.closers, srv.Close)
		n.log.Info("admin listening", "socket", o.socket, "tcp", srv.TCPAddr())
	}
	if o.metrics != "" {
		if err := n.startMetrics(o.metrics, o.cluster); err != nil {
			return err
		}
	}
	return nil
}

// nodeAdmin is this node as the admin API sees it.
type nodeAdmin struct {
	n       *node
	cluster *lockdb.Cluster // nil without lockdb
}

func (a *nodeAdmin) Status(ctx context.Context) admin.NodeStatus {
	s := a.n.smb
	st := admin.NodeStatus{
		State:         "healthy",
		Started:       s.Started(),
		UptimeSeconds: int64(time.Since(s.Started()).Seconds()),
		Sessions:      len(s.Sessions()),
		Connections:   s.Connections(),
		Opens:         len(s.Opens()),
		SMB:           a.n.smbLn.Addr().String(),
	}
	if a.n.lmtpLn != nil {
		st.LMTP = a.n.lmtpLn.Addr().String()
	}
	if c := a.cluster; c != nil {
		ls := c.LocalStatus()
		st.Generation, st.Coordinator = ls.Generation, ls.Coordinator
		switch {
		case ls.Fenced:
			st.State = "fenced"
		case ls.Frozen:
			st.State = "recovering"
		}
	}
	if s.Draining() && st.State == "healthy" {
		st.State = "draining"
	}
	return st
}

func (a *nodeAdmin) Sessions(ctx context.Context) ([]admin.Session, error) {
	var out []admin.Session
	for _, si := range a.n.smb.Sessions() {
		out = append(out, admin.Session{
			ID: si.ID, User: si.User, Client: si.Client, Dialect: si.Dialect,
			Signing: si.Signing, Encryption: si.Encryption, Opens: si.Opens, State: si.State,
			Connected: si.Connected, IdleSeconds: int64(si.Idle.Seconds()),
		})
	}
	return out, nil
}

func (a *nodeAdmin) Files(ctx context.Context) ([]admin.File, error) {
	var out []admin.File
	for _, o := range a.n.smb.Opens() {
		out = append(out, admin.File{
			Share: o.Share, Path: o.Path, User: o.User, Session: o.Session,
			Access: o.Access, ShareAccess: o.ShareAccess,
			Caching: cachingName(o.Oplock, o.LeaseState), Durable: o.Durable, Dir: o.Dir,
		})
	}
	return out, nil
}

func (a *nodeAdmin) Locks(ctx context.Context) ([]admin.Lock, error) {
	var infos []smbnode.LockInfo
	switch _, ok := a.n.smb.Locker().(smbnode.LockLister); {
	case a.cluster != nil:
		// The locks this node's clients own, as lockdb keeps them.
		listings, err := a.cluster.Locks(ctx)
		if err != nil {
			return nil, err
		}
		self := a.cluster.Self().Name
		for _, l := range listings {
			if l.Node != self {
				continue
			}
			if l.Err != "" {
				return nil, errors.New(l.Err)
			}
			infos = a.n.smb.DescribeLocks(l.Records)
		}
	case ok:
		infos = a.n.smb.Locks()
	default:
		return nil, errors.New("this node's lock database cannot list byte-range locks")
	}
	var out []admin.Lock
	for _, l := range infos {
		out = append(out, admin.Lock{
			Share: l.Share, Inode: l.Inode, Path: l.Path, Offset: l.Offset, Length: l.Length,
			Exclusive: l.Exclusive, Session: l.Session, User: l.User,
		})
	}
	return out, nil
}

func (a *nodeAdmin) Kill(ctx context.Context, id uint64) (bool, error) {
	return a.n.smb.KillSession(id), nil
}

func (a *nodeAdmin) SetDraining(ctx context.Context, on bool) error {
	a.n.smb.SetDraining(on)
	if a.n.lmtp != nil {
		a.n.lmtp.SetDraining(on)
	}
	a.n.log.Info("draining", "on", on)
	return nil
}

// cachingName is the oplock or lease an open holds, as smbstatus shows it.
func cachingName(oplock uint8, lease uint32) string {
	switch oplock {
	case table.OplockNone:
		return "none"
	case table.OplockLevelII:
		return "level2"
	case table.OplockExclusive:
		return "exclusive"
	case table.OplockBatch:
		return "batch"
	case table.OplockLease:
		s := ""
		if lease&table.LeaseRead != 0 {
			s += "R"
		}
		if lease&table.LeaseHandle != 0 {
			s += "H"
		}
		if lease&table.LeaseWrite != 0 {
			s += "W"
		}
		if s == "" {
			s = "-"
		}
		return "lease(" + s + ")"
	}
	return fmt.Sprintf("oplock(%#x)", oplock)
}

// clusterUsers is lockdb's replicated users table.
type clusterUsers struct{ c *lockdb.Cluster }

func (u *clusterUsers) Replicated() bool { return true }

func (u *clusterUsers) ListUsers(ctx context.Context) ([]string, error) {
	return u.c.ListUsers(), nil
}

func (u *clusterUsers) SetUser(ctx context.Context, name string, h [16]byte) error {
	return u.c.SetUser(ctx, strings.ToLower(name), h)
}

func (u *clusterUsers) DeleteUser(ctx context.Context, name string) error {
	err := u.c.DeleteUser(ctx, strings.ToLower(name))
	if errors.Is(err, lockdb.ErrNoSuchUser) {
		return fmt.Errorf("%w: %s", admin.ErrNoSuchUser, name)
	}
	return err
}

// localUsers is the node-local user table (staticUsers) behind the admin
// API; with file set, every change rewrites <state_dir>/users atomically.
// It is not replicated by itself: the admin server applies changes on
// every peer.
type localUsers struct {
	u    *staticUsers
	file string
	wmu  sync.Mutex // serialises file rewrites
}

func (l *localUsers) Replicated() bool { return false }

func (l *localUsers) ListUsers(ctx context.Context) ([]string, error) {
	l.u.mu.RLock()
	out := make([]string, 0, len(l.u.m))
	for name := range l.u.m {
		out = append(out, name)
	}
	l.u.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

func (l *localUsers) SetUser(ctx context.Context, name string, h [16]byte) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.u.mu.Lock()
	l.u.m[strings.ToLower(name)] = h
	l.u.mu.Unlock()
	return l.save()
}

func (l *localUsers) DeleteUser(ctx context.Context, name string) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.u.mu.Lock()
	_, ok := l.u.m[strings.ToLower(name)]
	delete(l.u.m, strings.ToLower(name))
	l.u.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", admin.ErrNoSuchUser, name)
	}
	return l.save()
}

// save writes the table in loadUsersFile's format: tmp file, fsync, rename.
func (l *localUsers) save() error {
	if l.file == "" {
		return nil
	}
	l.u.mu.RLock()
	names := make([]string, 0, len(l.u.m))
	for name := range l.u.m {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Shoal users: name:NT-hash (written by noded; edit with nodectl users)\n")
	for _, name := range names {
		fmt.Fprintf(&b, "%s:%s\n", name, admin.FormatNTHash(l.u.m[name]))
	}
	l.u.mu.RUnlock()
	tmp, err := os.CreateTemp(filepath.Dir(l.file), ".users-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	w.WriteString(b.String())
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), l.file)
}

// startMetrics serves /metrics on addr; cluster may be nil.
func (n *node) startMetrics(addr string, cluster *lockdb.Cluster) error {
	reg := prometheus.NewRegistry()
	s := n.smb
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shoal", Name: name, Help: help}, f))
	}
	gauge("smb_connections", "SMB client connections open now.", func() float64 { return float64(s.Connections()) })
	gauge("smb_sessions", "SMB sessions on this node now.", func() float64 { return float64(len(s.Sessions())) })
	gauge("smb_opens", "SMB open handles on this node now.", func() float64 { return float64(len(s.Opens())) })
	gauge("draining", "1 while the node refuses new connections.", func() float64 {
		if s.Draining() {
			return 1
		}
		return 0
	})
	gauge("uptime_seconds", "Seconds since the node started.", func() float64 { return time.Since(s.Started()).Seconds() })
	if ml, ok := s.Locker().(*meteredLocker); ok {
		ml.m.register(reg)
	}
	if c := cluster; c != nil {
		flag := func(b bool) float64 {
			if b {
				return 1
			}
			return 0
		}
		gauge("cluster_generation", "The lock database generation this node is in; it grows by one per recovery.",
			func() float64 { return float64(c.LocalStatus().Generation) })
		gauge("cluster_members", "Members of the current generation.", func() float64 { return float64(len(c.LocalStatus().Members)) })
		gauge("cluster_coordinator", "1 while this node is the coordinator.", func() float64 { return flag(c.LocalStatus().IsCoordinator) })
		gauge("cluster_recovering", "1 while the cluster is frozen for a recovery.", func() float64 { return flag(c.LocalStatus().Frozen) })
		gauge("cluster_fenced", "1 while this node is fenced.", func() float64 { return flag(c.LocalStatus().Fenced) })
		gauge("cluster_homed_keys", "Lock database keys homed on this node.", func() float64 { return float64(c.LocalStatus().HomedKeys) })
	}
	if n.lmtp != nil {
		reg.MustRegister(&lmtpCollector{n: n})
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	n.closers = append(n.closers, hs.Close)
	n.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// lmtpCollector reports maildirsvc.Server.Stats as counters.
type lmtpCollector struct{ n *node }

var (
	lmtpConnsDesc     = prometheus.NewDesc("shoal_lmtp_connections_total", "LMTP connections accepted.", nil, nil)
	lmtpActiveDesc    = prometheus.NewDesc("shoal_lmtp_connections", "LMTP connections open now.", nil, nil)
	lmtpRejectedDesc  = prometheus.NewDesc("shoal_lmtp_rejected_connections_total", "LMTP connections refused (limit or draining).", nil, nil)
	lmtpDeliveredDesc = prometheus.NewDesc("shoal_lmtp_deliveries_total", "Recipients delivered (250).", nil, nil)
	lmtpBytesDesc     = prometheus.NewDesc("shoal_lmtp_delivered_bytes_total", "Bytes stored by deliveries.", nil, nil)
	lmtpFailDesc      = prometheus.NewDesc("shoal_lmtp_failures_total", "Recipients refused or failed, by reason.", []string{"reason"}, nil)
)

func (c *lmtpCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lmtpConnsDesc, lmtpActiveDesc, lmtpRejectedDesc, lmtpDeliveredDesc, lmtpBytesDesc, lmtpFailDesc} {
		ch <- d
	}
}

func (c *lmtpCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.lmtp.Stats()
	ch <- prometheus.MustNewConstMetric(lmtpConnsDesc, prometheus.CounterValue, float64(st.Connections))
	ch <- prometheus.MustNewConstMetric(lmtpActiveDesc, prometheus.GaugeValue, float64(st.ActiveConnections))
	ch <- prometheus.MustNewConstMetric(lmtpRejectedDesc, prometheus.CounterValue, float64(st.RejectedConns))
	ch <- prometheus.MustNewConstMetric(lmtpDeliveredDesc, prometheus.CounterValue, float64(st.Deliveries))
	ch <- prometheus.MustNewConstMetric(lmtpBytesDesc, prometheus.CounterValue, float64(st.DeliveredBytes))
	for reason, v := range st.Failures {
		ch <- prometheus.MustNewConstMetric(lmtpFailDesc, prometheus.CounterValue, float64(v), reason)
	}
}

// lockMetrics counts what the SMB layer asks of its Locker.
type lockMetrics struct {
	ops       *prometheus.CounterVec   // op, result
	latency   *prometheus.HistogramVec // op, home
	breaks    *prometheus.CounterVec   // kind (oplock, lease), ack (required, none)
	breakWait prometheus.Histogram
}

func newLockMetrics() *lockMetrics {
	return &lockMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "shoal", Name: "lock_ops_total",
			Help: "Lock database operations by op (open, close, lock, unlock, ...) and result (ok, conflict, error)."}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "shoal", Name: "lock_op_seconds",
			Help:    "Lock database operation latency by op and home (local, remote).",
			Buckets: prometheus.ExponentialBuckets(25e-6, 4, 10)}, []string{"op", "home"}),
		breaks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "shoal", Name: "breaks_total",
			Help: "Oplock and lease breaks delivered to this node's clients."}, []string{"kind", "ack"}),
		breakWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "shoal", Name: "break_ack_seconds",
			Help:    "Time from a break needing an ack to the client's acknowledgment.",
			Buckets: prometheus.ExponentialBuckets(1e-3, 4, 9)}),
	}
}

func (m *lockMetrics) register(reg *prometheus.Registry) {
	reg.MustRegister(m.ops, m.latency, m.breaks, m.breakWait)
}

// meteredLocker wraps the node's Locker to count operations, their latency
// and the breaks delivered through it.
type meteredLocker struct {
	smbnode.Locker
	node string
	m    *lockMetrics

	mu      sync.Mutex
	pending map[breakID]time.Time
}

// breakID matches a BreakAck to its Break: the lease, or the oplock's open.
type breakID struct {
	key   table.Key
	lease bool
	guid  [16]byte
	lkey  [16]byte
	open  table.OpenID
}

var _ smbnode.LockLister = (*meteredLocker)(nil)

// meterLocker wraps l (nil: the node-local table) for metrics.
func meterLocker(l smbnode.Locker, node string) *meteredLocker {
	if l == nil {
		l = smbnode.NewLocalLocker(node)
	}
	return &meteredLocker{Locker: l, node: node, m: newLockMetrics(), pending: map[breakID]time.Time{}}
}

// Unwrap returns the wrapped Locker, where the SMB layer finds its
// optional interfaces (durable opens kept across a restart or moved
// between nodes) and learns whether it never blocks (quick requests are
// then handled on the connection's reader).
func (l *meteredLocker) Unwrap() smbnode.Locker { return l.Locker }

var _ smbnode.LockerWrapper = (*meteredLocker)(nil)

func (l *meteredLocker) OwnedLocks() []table.Record {
	if ll, ok := l.Locker.(smbnode.LockLister); ok {
		return ll.OwnedLocks()
	}
	return nil
}

func (l *meteredLocker) home(k table.Key) string {
	if h, ok := l.Locker.(interface{ HomeOf(table.Key) string }); ok && h.HomeOf(k) != l.node {
		return "remote"
	}
	return "local"
}

func (l *meteredLocker) observe(op string, k table.Key, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, table.ErrLockNotGranted), errors.Is(err, table.ErrSharingViolation):
		result = "conflict"
	case err != nil:
		result = "error"
	}
	l.m.ops.WithLabelValues(op, result).Inc()
	l.m.latency.WithLabelValues(op, l.home(k)).Observe(time.Since(start).Seconds())
}

func (l *meteredLocker) OpenFile(ctx context.Context, k table.Key, o table.Open, disp uint32) (table.Result, error) {
	t := time.Now()
	r, err := l.Locker.OpenFile(ctx, k, o, disp)
	l.observe("open", k, t, err)
	return r, err
}

func (l *meteredLocker) CloseFile(ctx context.Context, k table.Key, id table.OpenID) (table.CloseResult, error) {
	t := time.Now()
	r, err := l.Locker.CloseFile(ctx, k, id)
	l.observe("close", k, t, err)
	return r, err
}

func (l *meteredLocker) Lock(ctx context.Context, k table.Key, req table.LockRequest, wait bool) error {
	t := time.Now()
	err := l.Locker.Lock(ctx, k, req, wait)
	l.observe("lock", k, t, err)
	return err
}

func (l *meteredLocker) Unlock(ctx context.Context, k table.Key, req table.LockRequest) error {
	t := time.Now()
	err := l.Locker.Unlock(ctx, k, req)
	l.observe("unlock", k, t, err)
	return err
}

func (l *meteredLocker) AckBreak(ctx context.Context, k table.Key, a table.BreakAck) error {
	id := breakID{key: k, lease: a.Lease}
	if a.Lease {
		id.guid, id.lkey = a.ClientGUID, a.LeaseKey
	} else {
		id.open = a.Open
	}
	l.mu.Lock()
	start, ok := l.pending[id]
	delete(l.pending, id)
	l.mu.Unlock()
	if ok {
		l.m.breakWait.Observe(time.Since(start).Seconds())
	}
	t := time.Now()
	err := l.Locker.AckBreak(ctx, k, a)
	l.observe("ack_break", k, t, err)
	return err
}

func (l *meteredLocker) SetBreaker(b smbnode.Breaker) {
	l.Locker.SetBreaker(&meteredBreaker{b: b, l: l})
}

type meteredBreaker struct {
	b smbnode.Breaker
	l *meteredLocker
}

func (mb *meteredBreaker) Break(b table.Break) {
	kind, ack := "oplock", "none"
	if b.Lease {
		kind = "lease"
	}
	if b.AckRequired {
		ack = "required"
		id := breakID{key: b.Key, lease: b.Lease}
		if b.Lease {
			id.guid, id.lkey = b.ClientGUID, b.LeaseKey
		} else {
			id.open = b.Open
		}
		now := time.Now()
		mb.l.mu.Lock()
		if len(mb.l.pending) >= 1024 {
			// Breaks never acknowledged (timed out, client gone) are
			// forgotten after two minutes.
			for k, t := range mb.l.pending {
				if now.Sub(t) > 2*time.Minute {
					delete(mb.l.pending, k)
				}
			}
		}
		if len(mb.l.pending) < 100000 {
			mb.l.pending[id] = now
		}
		mb.l.mu.Unlock()
	}
	mb.l.m.breaks.WithLabelValues(kind, ack).Inc()
	mb.b.Break(b)
}
