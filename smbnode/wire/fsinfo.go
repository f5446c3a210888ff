package wire

// File system information classes (MS-FSCC 2.5), QUERY_INFO with
// InfoTypeFilesystem.
const (
	FileFsVolumeInformation      uint8 = 1
	FileFsLabelInformation       uint8 = 2
	FileFsSizeInformation        uint8 = 3
	FileFsDeviceInformation      uint8 = 4
	FileFsAttributeInformation   uint8 = 5
	FileFsControlInformation     uint8 = 6
	FileFsFullSizeInformation    uint8 = 7
	FileFsObjectIDInformation    uint8 = 8
	FileFsDriverPathInformation  uint8 = 9
	FileFsVolumeFlagsInformation uint8 = 10
	FileFsSectorSizeInformation  uint8 = 11
)

// FileFsVolumeInfo is FILE_FS_VOLUME_INFORMATION (MS-FSCC 2.5.9).
type FileFsVolumeInfo struct {
	VolumeCreationTime uint64
	VolumeSerialNumber uint32
	SupportsObjects    bool
	VolumeLabel        string
}

// Append appends the encoding (18 bytes + label).
func (i *FileFsVolumeInfo) Append(b []byte) []byte {
	b = app64(b, i.VolumeCreationTime)
	b = app32(b, i.VolumeSerialNumber)
	b = app32(b, uint32(UTF16Len(i.VolumeLabel)))
	b = append(b, boolByte(i.SupportsObjects), 0)
	return AppendUTF16(b, i.VolumeLabel)
}

// FileFsSizeInfo is FILE_FS_SIZE_INFORMATION (MS-FSCC 2.5.8).
type FileFsSizeInfo struct {
	TotalAllocationUnits     uint64
	AvailableAllocationUnits uint64
	SectorsPerAllocationUnit uint32
	BytesPerSector           uint32
}

// Append appends the 24-byte encoding.
func (i *FileFsSizeInfo) Append(b []byte) []byte {
	b = app64(b, i.TotalAllocationUnits)
	b = app64(b, i.AvailableAllocationUnits)
	b = app32(b, i.SectorsPerAllocationUnit)
	return app32(b, i.BytesPerSector)
}

// Device types and characteristics (MS-FSCC 2.5.10).
const (
	FileDeviceDisk      uint32 = 0x00000007 // FILE_DEVICE_DISK
	FileDeviceNamedPipe uint32 = 0x00000011 // FILE_DEVICE_NAMED_PIPE
	FileRemovableMedia  uint32 = 0x00000001 // FILE_REMOVABLE_MEDIA
	FileReadOnlyDevice  uint32 = 0x00000002 // FILE_READ_ONLY_DEVICE
	FileRemoteDevice    uint32 = 0x00000010 // FILE_REMOTE_DEVICE
	FileDeviceIsMounted uint32 = 0x00000020 // FILE_DEVICE_IS_MOUNTED
)

// FileFsDeviceInfo is FILE_FS_DEVICE_INFORMATION (MS-FSCC 2.5.10).
type FileFsDeviceInfo struct {
	DeviceType      uint32
	Characteristics uint32
}

// Append appends the 8-byte encoding.
func (i *FileFsDeviceInfo) Append(b []byte) []byte {
	b = app32(b, i.DeviceType)
	return app32(b, i.Characteristics)
}

// File system attribute flags (MS-FSCC 2.5.1).
const (
	FileCaseSensitiveSearch        uint32 = 0x00000001 // FILE_CASE_SENSITIVE_SEARCH
	FileCasePreservedNames         uint32 = 0x00000002 // FILE_CASE_PRESERVED_NAMES
	FileUnicodeOnDisk              uint32 = 0x00000004 // FILE_UNICODE_ON_DISK
	FilePersistentACLs             uint32 = 0x00000008 // FILE_PERSISTENT_ACLS
	FileFileCompression            uint32 = 0x00000010 // FILE_FILE_COMPRESSION
	FileVolumeQuotas               uint32 = 0x00000020 // FILE_VOLUME_QUOTAS
	FileSupportsSparseFiles        uint32 = 0x00000040 // FILE_SUPPORTS_SPARSE_FILES
	FileSupportsReparsePoints      uint32 = 0x00000080 // FILE_SUPPORTS_REPARSE_POINTS
	FileSupportsRemoteStorage      uint32 = 0x00000100 // FILE_SUPPORTS_REMOTE_STORAGE
	FileVolumeIsCompressed         uint32 = 0x00008000 // FILE_VOLUME_IS_COMPRESSED
	FileSupportsObjectIDs          uint32 = 0x00010000 // FILE_SUPPORTS_OBJECT_IDS
	FileSupportsEncryption         uint32 = 0x00020000 // FILE_SUPPORTS_ENCRYPTION
	FileNamedStreams               uint32 = 0x00040000 // FILE_NAMED_STREAMS
	FileReadOnlyVolume             uint32 = 0x00080000 // FILE_READ_ONLY_VOLUME
	FileSequentialWriteOnce        uint32 = 0x00100000 // FILE_SEQUENTIAL_WRITE_ONCE
	FileSupportsTransactions       uint32 = 0x00200000 // FILE_SUPPORTS_TRANSACTIONS
	FileSupportsHardLinks          uint32 = 0x00400000 // FILE_SUPPORTS_HARD_LINKS
	FileSupportsExtendedAttributes uint32 = 0x00800000 // FILE_SUPPORTS_EXTENDED_ATTRIBUTES
	FileSupportsOpenByFileID       uint32 = 0x01000000 // FILE_SUPPORTS_OPEN_BY_FILE_ID
	FileSupportsUSNJournal         uint32 = 0x02000000 // FILE_SUPPORTS_USN_JOURNAL
)

// FileFsAttributeInfo is FILE_FS_ATTRIBUTE_INFORMATION (MS-FSCC 2.5.1).
type FileFsAttributeInfo struct {
	FileSystemAttributes       uint32
	MaximumComponentNameLength uint32
	FileSystemName             string // e.g. "NTFS"
}

// Append appends the encoding (12 bytes + name).
func (i *FileFsAttributeInfo) Append(b []byte) []byte {
	b = app32(b, i.FileSystemAttributes)
	b = app32(b, i.MaximumComponentNameLength)
	b = app32(b, uint32(UTF16Len(i.FileSystemName)))
	return AppendUTF16(b, i.FileSystemName)
}

// FileFsFullSizeInfo is FILE_FS_FULL_SIZE_INFORMATION (MS-FSCC 2.5.4).
type FileFsFullSizeInfo struct {
	TotalAllocationUnits           uint64
	CallerAvailableAllocationUnits uint64
	ActualAvailableAllocationUnits uint64
	SectorsPerAllocationUnit       uint32
	BytesPerSector                 uint32
}

// Append appends the 32-byte encoding.
func (i *FileFsFullSizeInfo) Append(b []byte) []byte {
	b = app64(b, i.TotalAllocationUnits)
	b = app64(b, i.CallerAvailableAllocationUnits)
	b = app64(b, i.ActualAvailableAllocationUnits)
	b = app32(b, i.SectorsPerAllocationUnit)
	return app32(b, i.BytesPerSector)
}

// FileFsObjectIDInfo is FILE_FS_OBJECTID_INFORMATION (MS-FSCC 2.5.6).
type FileFsObjectIDInfo struct {
	ObjectID     [16]byte
	ExtendedInfo [48]byte
}

// Append appends the 64-byte encoding.
func (i *FileFsObjectIDInfo) Append(b []byte) []byte {
	b = append(b, i.ObjectID[:]...)
	return append(b, i.ExtendedInfo[:]...)
}

// Sector size flags (MS-FSCC 2.5.7).
const (
	SSInfoFlagsAlignedDevice            uint32 = 0x00000001 // SSINFO_FLAGS_ALIGNED_DEVICE
	SSInfoFlagsPartitionAlignedOnDevice uint32 = 0x00000002 // SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE
	SSInfoFlagsNoSeekPenalty            uint32 = 0x00000004 // SSINFO_FLAGS_NO_SEEK_PENALTY
	SSInfoFlagsTrimEnabled              uint32 = 0x00000008 // SSINFO_FLAGS_TRIM_ENABLED
)

// FileFsSectorSizeInfo is FILE_FS_SECTOR_SIZE_INFORMATION (MS-FSCC 2.5.7).
type FileFsSectorSizeInfo struct {
	LogicalBytesPerSector                                 uint32
	PhysicalBytesPerSectorForAtomicity                    uint32
	PhysicalBytesPerSectorForPerformance                  uint32
	FileSystemEffectivePhysicalBytesPerSectorForAtomicity uint32
	Flags                                                 uint32
	ByteOffsetForSectorAlignment                          uint32
	ByteOffsetForPartitionAlignment                       uint32
}

// Append appends the 28-byte encoding.
func (i *FileFsSectorSizeInfo) Append(b []byte) []byte {
	b = app32(b, i.LogicalBytesPerSector)
	b = app32(b, i.PhysicalBytesPerSectorForAtomicity)
	b = app32(b, i.PhysicalBytesPerSectorForPerformance)
	b = app32(b, i.FileSystemEffectivePhysicalBytesPerSectorForAtomicity)
	b = app32(b, i.Flags)
	b = app32(b, i.ByteOffsetForSectorAlignment)
	return app32(b, i.ByteOffsetForPartitionAlignment)
}
