package wire

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Encoders not exercised by the Samba captures, checked against layouts
// written out by hand from MS-FSCC (field by field, little-endian).
func TestInfoEncodersHex(t *testing.T) {
	h := func(parts ...string) string { return strings.Join(parts, "") }
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"FileFsFullSizeInformation (2.5.4)", (&FileFsFullSizeInfo{1, 2, 3, 8, 512}).Append(nil),
			h("0100000000000000", "0200000000000000", "0300000000000000", "08000000", "00020000")},
		{"FileFsObjectIdInformation (2.5.6)", (&FileFsObjectIDInfo{ObjectID: [16]byte{0xAA}, ExtendedInfo: [48]byte{47: 0xBB}}).Append(nil),
			h("aa"+strings.Repeat("00", 15), strings.Repeat("00", 47)+"bb")},
		{"FileFsSectorSizeInformation (2.5.7)", (&FileFsSectorSizeInfo{512, 4096, 4096, 4096, SSInfoFlagsAlignedDevice | SSInfoFlagsPartitionAlignedOnDevice, 0, 0}).Append(nil),
			h("00020000", "00100000", "00100000", "00100000", "03000000", "00000000", "00000000")},
		{"FileFsDeviceInformation (2.5.10)", (&FileFsDeviceInfo{FileDeviceDisk, FileRemoteDevice | FileDeviceIsMounted}).Append(nil),
			h("07000000", "30000000")},
		{"FileFsAttributeInformation (2.5.1)", (&FileFsAttributeInfo{FileCaseSensitiveSearch | FileCasePreservedNames | FileUnicodeOnDisk, 255, "NTFS"}).Append(nil),
			h("07000000", "ff000000", "08000000", "4e00540046005300")},
		{"FileFsVolumeInformation (2.5.9)", (&FileFsVolumeInfo{VolumeCreationTime: 5, VolumeSerialNumber: 0x7559c748, VolumeLabel: "data"}).Append(nil),
			h("0500000000000000", "48c75975", "08000000", "00", "00", "6400610074006100")},
		{"FileFsSizeInformation (2.5.8)", (&FileFsSizeInfo{10, 4, 2, 512}).Append(nil),
			h("0a00000000000000", "0400000000000000", "02000000", "00020000")},
		{"FileIdInformation (2.4.27)", (&FileIDInfo{VolumeSerialNumber: 0x1122, FileID: 0x33}).Append(nil),
			h("2211000000000000", "3300000000000000", "0000000000000000")},
		{"FileStandardInformation (2.4.47)", (&FileStandardInfo{4096, 12, 1, true, false}).Append(nil),
			h("0010000000000000", "0c00000000000000", "01000000", "01", "00", "0000")},
		{"FileCompressionInformation (2.4.9)", (&FileCompressionInfo{CompressedFileSize: 7, CompressionFormat: 2, CompressionUnitShift: 16, ChunkShift: 12, ClusterShift: 9}).Append(nil),
			h("0700000000000000", "0200", "10", "0c", "09", "000000")},
		{"FileAttributeTagInformation (2.4.6)", (&FileAttributeTagInfo{FileAttributeReparsePoint, 0xA000000C}).Append(nil),
			h("00040000", "0c0000a0")},
		{"FileNetworkOpenInformation (2.4.29)", (&FileNetworkOpenInfo{1, 2, 3, 4, 5, 6, FileAttributeDirectory}).Append(nil),
			h("0100000000000000", "0200000000000000", "0300000000000000", "0400000000000000", "0500000000000000", "0600000000000000", "10000000", "00000000")},
		{"FileStreamInformation (2.4.49)", AppendFileStreamInfo(nil, []FileStreamEntry{{"::$DATA", 12, 4096}, {":x:$DATA", 1, 8}}),
			h("28000000", "0e000000", "0c00000000000000", "0010000000000000", "3a003a00240044004100540041000000",
				"00000000", "10000000", "0100000000000000", "0800000000000000", "3a0078003a0024004400410054004100")},
		{"DH2Q response (2.2.14.2.12)", (&DurableHandleResponseV2{Timeout: 60000, Flags: DurableHandleFlagPersistent}).Append(nil),
			h("60ea0000", "02000000")},
		{"MxAc response (2.2.14.2.5)", (&MaximalAccessResponse{StatusSuccess, FileAllAccess}).Append(nil),
			h("00000000", "ff011f00")},
		{"QFid response (2.2.14.2.9)", (&QueryOnDiskIDResponse{DiskFileID: 0x10, VolumeID: 0x20}).Append(nil),
			h("1000000000000000", "2000000000000000", strings.Repeat("00", 16))},
	}
	for _, tc := range tests {
		if got := hex.EncodeToString(tc.got); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestDurableReconnectV2AndContextLookup(t *testing.T) {
	d := (&FileID{1, 2}).Append(nil)
	d = append(d, []byte("0123456789abcdef")...)
	d = app32(d, DurableHandleFlagPersistent)
	r, err := ParseDurableHandleReconnectV2(d)
	if err != nil || r.FileID != (FileID{1, 2}) || string(r.CreateGUID[:]) != "0123456789abcdef" || r.Flags != 2 {
		t.Errorf("DH2C %+v %v", r, err)
	}
	if _, err := ParseDurableHandleReconnectV2(d[:35]); err == nil {
		t.Error("short DH2C accepted")
	}
	c := &CreateRequest{Contexts: []CreateContext{{Name: "MxAc"}, {Name: "RqLs", Data: []byte{1}}}}
	if got := c.Context(CreateContextRequestLease); got == nil || got.Data[0] != 1 {
		t.Errorf("Context lookup %+v", got)
	}
	if c.Context(CreateContextDurableHandleRequestV2) != nil {
		t.Error("absent context found")
	}
}
