package wire

// FileID identifies an open (MS-SMB2 2.2.14.1 SMB2_FILEID).
type FileID struct {
	Persistent uint64
	Volatile   uint64
}

// RelatedFileID is the all-ones FileID a related compound request uses to
// mean "the handle the previous command in the chain created or used"
// (MS-SMB2 3.2.4.1.4, 3.3.5.2.7.2).
var RelatedFileID = FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}

// IsRelated reports whether id is RelatedFileID.
func (id FileID) IsRelated() bool { return id == RelatedFileID }

// FileIDSize is the encoded size of a FileID.
const FileIDSize = 16

func readFileID(b []byte, off int) FileID {
	return FileID{Persistent: le64(b, off), Volatile: le64(b, off+8)}
}

// Append appends the 16-byte encoding of id.
func (id FileID) Append(b []byte) []byte {
	b = app64(b, id.Persistent)
	return app64(b, id.Volatile)
}
