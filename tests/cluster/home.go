package cluster

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"syscall"
)

// HomeOf names the lockdb home of (share, inode) among nodes: rendezvous
// hashing as lockdb/route.go's homeOf does it (FNV-64a of share, 0,
// big-endian inode, 0, node name; splitmix64 finaliser; highest score,
// ties to the smaller name). A copy, because lockdb exports no hash-only
// function and the tests and the benchmark need files whose home is a
// chosen node (a kill of the home; "cross-node" meaning requester, home and
// owner on three different nodes); TestHomeOfMatchesLockdb compares it
// with lockdb's own answer.
func HomeOf(share string, inode uint64, nodes []string) string {
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

// FileHomedOn creates files prefix-K.bin in the share's directory until
// one's home (HomeOf, all of c's nodes alive) is node, and returns its
// name.
func (c *Cluster) FileHomedOn(prefix, node string) (string, error) {
	var nodes []string
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Name)
	}
	dir, share := c.DataDir, "data"
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
		if HomeOf(share, st.Ino, nodes) == node {
			return name, nil
		}
		rejected = append(rejected, p) // removed later: a removed inode is reused at once
	}
	return "", fmt.Errorf("no file homed on %s in 200 tries", node)
}
