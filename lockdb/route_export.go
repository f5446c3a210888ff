package lockdb

import "shoal/lockdb/table"

// HomeOf names the home of key in this node's current generation ("" before
// the first). For tools and tests that want a key homed on a given node.
func (c *Cluster) HomeOf(key table.Key) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nodes) == 0 {
		return ""
	}
	return homeOf(key, c.nodes).Name
}
