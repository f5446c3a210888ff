// Package proccluster runs lockdb testnode processes on 127.0.0.1 for the
// multi-process test and the benchmark: each node is a real process with
// its own TCP RPC and gossip ports, sharing one directory as the cluster
// filesystem, driven through its stdin/stdout command protocol.
package proccluster
