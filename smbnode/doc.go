// Package smbnode is Shoal's SMB2/3 server: one node's connections,
// sessions, tree connects and opens, speaking the protocol in smbnode/wire,
// authenticating with smbnode/auth, signing and sealing with
// smbnode/smbcrypto, and touching files through smbnode/vfs.
//
// A Server accepts connections on a listener; each connection has one
// reader goroutine that frames NetBIOS messages and hands every request
// chain (a single request or a compound) to its own goroutine, so a slow
// request never blocks the connection. Two kinds run on the reader
// itself: a lone CHANGE_NOTIFY, so that it is registered before anything
// sent after it (its handler never blocks: a change or a CANCEL answers it
// later, notify.go); and, with a Locker that never blocks, quick chains of
// CREATE, CLOSE, QUERY_INFO and small WRITEs, which would spend more
// on a goroutine than on their work; one that has to wait hands the
// reader role to a new goroutine first (inline.go). Responses are written
// under the connection's write lock, signed or encrypted as the session
// requires.
//
// Change notify reaches across nodes: with a NotifyBus (the lockdb
// cluster), changes made through one node complete the watches held
// through the others (notifyrelay.go).
//
// A session may be bound to further connections of the same client
// (multichannel, multichannel.go): each channel signs with its own key,
// trees and opens stay the session's, and the session lives while one of
// its channels does. Named streams are files under <share>/.shoal-streams,
// keyed by the base file's inode (streams.go).
//
// Handlers live one per command in files named after the command
// (negotiate.go, sessionsetup.go, create.go, ...). Errors become NTSTATUS in
// exactly one place, statusOf in status.go.
package smbnode
