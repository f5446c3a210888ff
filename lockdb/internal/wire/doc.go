// Package wire encodes and parses lockdb's node-to-node RPC frames: the
// binary envelope (request id, kind, generation, error code, body) that
// travels inside an encrypted secconn record. Parse checks every length
// before it reads and never panics.
package wire
