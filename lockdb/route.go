package lockdb

import (
	"encoding/binary"
	"hash/fnv"

	"shoal/lockdb/table"
)

// homeOf picks the key's home among nodes by rendezvous (highest random
// weight) hashing: every node computes the same answer from the same node
// map, and a change of the map moves only the keys of the nodes that came
// or went. nodes must not be empty.
func homeOf(k table.Key, nodes []Member) Member {
	var best Member
	var bestScore uint64
	for i, n := range nodes {
		s := score(k, n.Name)
		if i == 0 || s > bestScore || (s == bestScore && n.Name < best.Name) {
			best, bestScore = n, s
		}
	}
	return best
}

func score(k table.Key, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k.Share))
	h.Write([]byte{0})
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], k.Inode)
	h.Write(b[:])
	h.Write([]byte{0})
	h.Write([]byte(node))
	return mix(h.Sum64())
}

// mix is the splitmix64 finaliser: FNV alone clusters on similar inputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
