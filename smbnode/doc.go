// Package smbnode is Shoal's SMB2/3 server: one node's connections,
// sessions, tree connects and opens, speaking the protocol in smbnode/wire,
// authenticating with smbnode/auth, signing and sealing with
// smbnode/smbcrypto, and touching files through smbnode/vfs.
//
// A Server accepts connections on a listener; each connection has one
// reader goroutine that frames NetBIOS messages and hands every request
// chain (a single request or a compound) to its own goroutine, so a slow
// request never blocks the connection. Responses are written under the
// connection's write lock, signed or encrypted as the session requires.
//
// Handlers live one per command in files named after the command
// (negotiate.go, sessionsetup.go, create.go, ...). Errors become NTSTATUS in
// exactly one place, statusOf in status.go.
package smbnode
