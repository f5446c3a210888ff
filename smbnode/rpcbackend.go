package smbnode

import (
	"hash/fnv"
	"sort"
	"strings"

	"shoal/smbnode/dcerpc"
)

// serverRPC answers srvsvc/wkssvc questions for the IPC$ pipes.
type serverRPC struct{ s *Server }

var _ dcerpc.Backend = serverRPC{}

func (s *Server) rpcBackend() dcerpc.Backend { return serverRPC{s} }

func (b serverRPC) Shares(user string) []dcerpc.Share {
	var out []dcerpc.Share
	for _, sh := range b.s.shares {
		if sh.ipc || !userAllowed(sh.cfg.ValidUsers, user) {
			continue
		}
		out = append(out, dcerpc.Share{Name: sh.cfg.Name, Comment: sh.cfg.Comment, Path: sh.cfg.Path, Type: dcerpc.ShareTypeDiskTree})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return append(out, dcerpc.Share{Name: "IPC$", Comment: "IPC Service (Shoal)", Type: dcerpc.ShareTypeIPCHidden})
}

func (b serverRPC) Server() dcerpc.ServerInfo {
	return dcerpc.ServerInfo{
		Name:         strings.ToUpper(b.s.cfg.ServerName),
		Comment:      "Shoal",
		Domain:       strings.ToUpper(b.s.cfg.Workgroup),
		VersionMajor: 6,
		VersionMinor: 1,
	}
}

// volumeID identifies a share's volume, the same on every node.
func (sh *share) volumeID() uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(sh.cfg.Name)))
	return h.Sum64()
}
