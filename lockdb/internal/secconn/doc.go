// Package secconn authenticates and encrypts one lockdb node-to-node TCP
// connection with the cluster key.
//
// Handshake (each message a uint16 length + payload):
//
//	client → server  helloC = "SHOAL1" | nonceC[32] | incarnation u64 | name
//	server → client  helloS = "SHOAL1" | nonceS[32] | incarnation u64 | name,
//	                 HMAC-SHA256(K, "shoal srv" | helloC | helloS)
//	client → server  HMAC-SHA256(K, "shoal cli" | helloC | helloS)
//
// Both directions then use AES-256-GCM with per-connection keys derived by
// HKDF-SHA256 from the cluster key and both nonces; the GCM nonce is a
// per-direction record counter, so records cannot be replayed, reordered or
// moved to another connection. A peer without the key cannot complete the
// handshake, in either role.
package secconn
