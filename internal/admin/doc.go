// Package admin is noded's administration API and its client, the one
// nodectl uses.
//
// A Server answers JSON over HTTP on a unix socket (mode 0600, the socket's
// directory created 0755) and, optionally, on a TCP address where every
// request must carry "Authorization: Bearer TOKEN". The local node is a
// Node; cluster-wide answers are gathered by asking every configured peer's
// admin TCP listener (Config.Peers) with the same token, in parallel. A
// peer that does not answer in time becomes an error row (Err set), never a
// silent omission, so a script can tell "no sessions" from "unknown".
//
// Endpoints (all under /v1/; a "local=1" query answers for this node only,
// which is what peers ask each other):
//
//	GET  status            one NodeStatus per node
//	GET  sessions          []NodeSessions
//	GET  files             []NodeFiles
//	GET  locks             []NodeLocks
//	POST kill      {"session": ID}          []NodeResult, Killed on the owner
//	POST drain     {"node": NAME}           NodeResult of that node
//	POST undrain   {"node": NAME}
//	GET  users                              UserList
//	POST users/set {"users": [{name, nt_hash}]}   []NodeResult
//	POST users/del {"names": [NAME]}              []NodeResult
//
// Passwords never cross the API: nodectl sends NT hashes (MD4 of the
// UTF-16LE password), which is what the user table stores.
package admin
