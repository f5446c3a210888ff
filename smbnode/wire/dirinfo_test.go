package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendDirEntryLayouts(t *testing.T) {
	e := &DirEntry{
		FileIndex: 0x11, CreationTime: 0x21, LastAccessTime: 0x22, LastWriteTime: 0x23, ChangeTime: 0x24,
		EndOfFile: 0x31, AllocationSize: 0x32, FileAttributes: FileAttributeArchive, EaSize: 0x41, ReparseTag: 0x42,
		FileID: 0x5152535455565758, ShortName: "HELLO~1.TXT", Name: "hello world.txt",
	}
	name := AppendUTF16(nil, e.Name)
	short := AppendUTF16(nil, e.ShortName)
	// Offsets from MS-FSCC 2.4.x, written out independently of dirinfo.go.
	tests := []struct {
		class                                  uint8
		nameLenOff, nameOff                    int
		eaOff, fileIDOff, shortOff, reparseOff int // -1: absent
	}{
		{FileDirectoryInformation, 60, 64, -1, -1, -1, -1},
		{FileFullDirectoryInformation, 60, 68, 64, -1, -1, -1},
		{FileBothDirectoryInformation, 60, 94, 64, -1, 68, -1},
		{FileNamesInformation, 8, 12, -1, -1, -1, -1},
		{FileIdBothDirectoryInformation, 60, 104, 64, 96, 68, -1},
		{FileIdFullDirectoryInformation, 60, 80, 64, 72, -1, -1},
		{FileIdExtdDirectoryInformation, 60, 88, 64, 72, -1, 68},
		{FileIdExtdBothDirectoryInformation, 60, 114, 64, 72, 88, 68},
	}
	for _, tc := range tests {
		b, err := AppendDirEntry([]byte{0xEE}, tc.class, e)
		if err != nil {
			t.Fatalf("class %d: %v", tc.class, err)
		}
		if b[0] != 0xEE {
			t.Fatal("prefix clobbered")
		}
		b = b[1:]
		if len(b) != tc.nameOff+len(name) {
			t.Errorf("class %d: %d bytes, want %d", tc.class, len(b), tc.nameOff+len(name))
			continue
		}
		if size, _ := DirEntrySize(tc.class, e); size != len(b) {
			t.Errorf("class %d: DirEntrySize %d, encoded %d", tc.class, size, len(b))
		}
		if u32(b, 0) != 0 || u32(b, 4) != 0x11 {
			t.Errorf("class %d: NextEntryOffset/FileIndex % x", tc.class, b[:8])
		}
		if int(u32(b, tc.nameLenOff)) != len(name) || !bytes.Equal(b[tc.nameOff:], name) {
			t.Errorf("class %d: name", tc.class)
		}
		if tc.class != FileNamesInformation {
			if u64(b, 8) != 0x21 || u64(b, 32) != 0x24 || u64(b, 40) != 0x31 || u64(b, 48) != 0x32 || u32(b, 56) != FileAttributeArchive {
				t.Errorf("class %d: times/sizes/attributes % x", tc.class, b[8:60])
			}
		}
		if tc.eaOff >= 0 && u32(b, tc.eaOff) != 0x41 {
			t.Errorf("class %d: EaSize", tc.class)
		}
		if tc.reparseOff >= 0 && u32(b, tc.reparseOff) != 0x42 {
			t.Errorf("class %d: ReparsePointTag", tc.class)
		}
		if tc.fileIDOff >= 0 && u64(b, tc.fileIDOff) != e.FileID {
			t.Errorf("class %d: FileId", tc.class)
		}
		if tc.shortOff >= 0 {
			if int(b[tc.shortOff]) != len(short) || !bytes.Equal(b[tc.shortOff+2:tc.shortOff+2+len(short)], short) ||
				!bytes.Equal(b[tc.shortOff+2+len(short):tc.shortOff+26], make([]byte, 24-len(short))) {
				t.Errorf("class %d: ShortName % x", tc.class, b[tc.shortOff:tc.shortOff+26])
			}
		}
	}
	if _, err := AppendDirEntry(nil, FileBasicInformation, e); !errors.Is(err, ErrUnknownInfoClass) {
		t.Errorf("unknown class: %v", err)
	}
	// A short name longer than 12 characters is cut to the 24-byte field.
	long := *e
	long.ShortName = "ABCDEFGHIJKLMNOP"
	b, _ := AppendDirEntry(nil, FileBothDirectoryInformation, &long)
	if b[68] != 24 || len(b) != 94+len(name) {
		t.Errorf("long short name: length byte %d, entry %d bytes", b[68], len(b))
	}
}

func TestDirEntryWriter(t *testing.T) {
	names := []string{"a", "bb", "a much longer file name.docx", "z"}
	sizeOf := func(n string) int { return 104 + UTF16Len(n) }
	// Budget for exactly the first three entries (aligned) plus the fourth
	// minus one byte: the fourth must be refused.
	budget := align8(align8(sizeOf(names[0])) + sizeOf(names[1]))
	budget = align8(budget) + sizeOf(names[2])
	budget = align8(budget) + sizeOf(names[3]) - 1
	w := NewDirEntryWriter(FileIdBothDirectoryInformation, budget)
	for i, n := range names[:3] {
		if err := w.Add(&DirEntry{Name: n, FileID: uint64(i)}); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	before := append([]byte(nil), w.Bytes()...)
	if err := w.Add(&DirEntry{Name: names[3]}); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("fourth entry: %v", err)
	}
	if !bytes.Equal(before, w.Bytes()) || w.Count() != 3 || w.Len() != len(before) {
		t.Fatal("refused entry changed the buffer")
	}
	// Walk the chain: 8-aligned offsets, last NextEntryOffset 0.
	b := w.Bytes()
	off, n := 0, 0
	for {
		n++
		if got, _ := DecodeUTF16(b[off+104 : off+104+int(u32(b, off+60))]); got != names[n-1] {
			t.Errorf("entry %d name %q", n-1, got)
		}
		next := int(u32(b, off))
		if next == 0 {
			break
		}
		if next%8 != 0 || (off+next)%8 != 0 {
			t.Errorf("entry %d: NextEntryOffset %d", n-1, next)
		}
		off += next
	}
	if n != 3 || off+sizeOf(names[2]) != len(b) {
		t.Errorf("walked %d entries, last at %d, buffer %d", n, off, len(b))
	}
	// An entry larger than the whole budget is refused on an empty writer.
	w2 := NewDirEntryWriter(FileNamesInformation, 13)
	if err := w2.Add(&DirEntry{Name: "ab"}); !errors.Is(err, ErrBufferFull) || w2.Count() != 0 {
		t.Errorf("tiny budget: %v", err)
	}
	if err := NewDirEntryWriter(99, 1000).Add(&DirEntry{}); !errors.Is(err, ErrUnknownInfoClass) {
		t.Errorf("unknown class: %v", err)
	}
}
