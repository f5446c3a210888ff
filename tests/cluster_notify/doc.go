// Package clusternotify tests change notify across the nodes of a
// cluster: three `noded -config` processes joined by the lock database
// over one shared directory, a watch held through node 1 by a minimal
// SMB 2.0.2 client (go-smb2 has no CHANGE_NOTIFY), and changes made through
// nodes 2 and 3 with go-smb2 (and the minimal client, for a delete that
// shares access with the watcher). Each change must complete the watch,
// with the names and actions Samba would report.
//
// It builds noded and nodectl from this checkout; nothing else is needed.
package clusternotify
