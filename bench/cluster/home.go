package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"syscall"
)

// homeOf names the lockdb home of (share, inode) among nodes: rendezvous
// hashing exactly as lockdb/route.go's homeOf does it (FNV-64a of share,
// 0, big-endian inode, 0, node name; splitmix64 finaliser; highest score,
// ties to the smaller name). Kept in step by hand: lockdb exports no
// hash-only function, and the benchmark needs files whose home is a chosen
// node, so that "cross-node" means requester, home and owner on three
// different nodes.
func homeOf(share string, inode uint64, nodes []string) string {
	var best string
	var bestScore uint64
	for i, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(share))
		h.Write([]byte{0})
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], inode)
		h.Write(b[:])
		h.Write([]byte{0})
		h.Write([]byte(n))
		x := h.Sum64()
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
		if i == 0 || x > bestScore || (x == bestScore && n < best) {
			best, bestScore = n, x
		}
	}
	return best
}

// fileHomedOn creates files prefix-K in dir (the share's directory) until
// one's home is node, and returns its name.
func fileHomedOn(dir, share, prefix, node string, nodes []string) (string, error) {
	var rejected []string
	defer func() {
		for _, p := range rejected {
			os.Remove(p)
		}
	}()
	for k := 0; k < 200; k++ {
		name := fmt.Sprintf("%s-%d.bin", prefix, k)
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return "", err
		}
		f.Close()
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return "", err
		}
		if homeOf(share, st.Ino, nodes) == node {
			return name, nil
		}
		rejected = append(rejected, p) // removed later: a removed inode is reused at once
	}
	return "", fmt.Errorf("no file homed on %s in 200 tries", node)
}
