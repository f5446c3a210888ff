package vfs

import "golang.org/x/sys/unix"

// FSInfo describes the filesystem holding a share, for
// FileFsSizeInformation and FileFsFullSizeInformation (MS-FSCC 2.5.8,
// 2.5.4). Block counts are in units of BlockSize.
type FSInfo struct {
	BlockSize       uint64 // fundamental block size (f_frsize)
	TotalBlocks     uint64
	FreeBlocks      uint64 // free for the superuser
	AvailableBlocks uint64 // free for everyone else
	TotalFiles      uint64 // inodes
	FreeFiles       uint64
	MaxNameLen      uint64 // longest name component, in bytes
}

// Statfs reports the size of the filesystem holding the share (fstatfs on
// the root descriptor). Safe for concurrent use.
func (s *Share) Statfs() (FSInfo, error) {
	if err := s.enter(); err != nil {
		return FSInfo{}, err
	}
	defer s.leave()
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(s.rootfd, &st) }); err != nil {
		return FSInfo{}, classify("statfs", "", err)
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return FSInfo{
		BlockSize:       bs,
		TotalBlocks:     st.Blocks,
		FreeBlocks:      st.Bfree,
		AvailableBlocks: st.Bavail,
		TotalFiles:      st.Files,
		FreeFiles:       st.Ffree,
		MaxNameLen:      uint64(st.Namelen),
	}, nil
}
