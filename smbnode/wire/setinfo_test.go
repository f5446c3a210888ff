package wire

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseSetFileInfo(t *testing.T) {
	basic := (&FileBasicInfo{CreationTime: 1, LastAccessTime: 2, LastWriteTime: ^uint64(0), ChangeTime: 4, FileAttributes: FileAttributeHidden}).Append(nil)
	// The SMB2 rename buffer smbclient sent ("rename hello.txt sub\h2.txt").
	rename := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
		's', 0, 'u', 0, 'b', 0, '\\', 0, 'h', 0, '2', 0, '.', 0, 't', 0, 'x', 0, 't', 0}
	replace := append([]byte{1}, rename[1:]...)
	eas := AppendFullEAList(nil, []FullEA{{Name: "user.a", Value: []byte("1")}, {Flags: 0x80, Name: "B", Value: nil}})
	tests := []struct {
		name  string
		class uint8
		buf   []byte
		want  any
		err   error
	}{
		{"basic", FileBasicInformation, basic, &FileBasicInfo{1, 2, ^uint64(0), 4, FileAttributeHidden}, nil},
		{"basic without reserved", FileBasicInformation, basic[:36], &FileBasicInfo{1, 2, ^uint64(0), 4, FileAttributeHidden}, nil},
		{"basic short", FileBasicInformation, basic[:35], nil, ErrInfoLengthMismatch},
		{"rename", FileRenameInformation, rename, &FileRenameInfo{FileName: `sub\h2.txt`}, nil},
		{"rename replace", FileRenameInformation, replace, &FileRenameInfo{ReplaceIfExists: true, FileName: `sub\h2.txt`}, nil},
		{"link", FileLinkInformation, replace, &FileRenameInfo{ReplaceIfExists: true, FileName: `sub\h2.txt`}, nil},
		{"rename ex", FileRenameInformationEx, append([]byte{3}, rename[1:]...),
			&FileRenameInfo{ReplaceIfExists: true, Flags: FileRenameReplaceIfExists | FileRenamePosixSemantics, FileName: `sub\h2.txt`}, nil},
		{"rename short", FileRenameInformation, rename[:19], nil, ErrInfoLengthMismatch},
		{"rename name overrun", FileRenameInformation, rename[:39], nil, ErrMalformed},
		{"rename odd name", FileRenameInformation, func() []byte {
			b := append([]byte(nil), rename...)
			b[16] = 19
			return b
		}(), nil, ErrInvalidUTF16},
		{"disposition", FileDispositionInformation, []byte{1}, &FileDispositionInfo{DeletePending: true}, nil},
		{"disposition empty", FileDispositionInformation, nil, nil, ErrInfoLengthMismatch},
		{"disposition ex", FileDispositionInformationEx, app32(nil, FileDispositionDelete|FileDispositionPosixSemantics),
			&FileDispositionInfoEx{Flags: 3}, nil},
		{"position", FilePositionInformation, app64(nil, 77), &FilePositionInfo{77}, nil},
		{"mode", FileModeInformation, app32(nil, 0x20), &FileModeInfo{0x20}, nil},
		{"allocation", FileAllocationInformation, app64(nil, 4096), &FileAllocationInfo{4096}, nil},
		{"end of file", FileEndOfFileInformation, app64(nil, 12), &FileEndOfFileInfo{12}, nil},
		{"end of file short", FileEndOfFileInformation, make([]byte, 7), nil, ErrInfoLengthMismatch},
		{"valid data length", FileValidDataLengthInformation, app64(nil, 9), &FileValidDataLengthInfo{9}, nil},
		{"full ea", FileFullEaInformation, eas, []FullEA{{Name: "user.a", Value: []byte("1")}, {Flags: 0x80, Name: "B", Value: []byte{}}}, nil},
		{"unknown", FileStreamInformation, make([]byte, 64), nil, ErrUnknownInfoClass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSetFileInfo(tc.class, tc.buf)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	// Rename Append/Parse round trip.
	r := &FileRenameInfo{ReplaceIfExists: true, FileName: `dir\ñew.txt`}
	got, err := ParseFileRenameInfo(r.Append(nil))
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("rename round trip %+v %v", got, err)
	}
}

func TestFullEAList(t *testing.T) {
	eas := []FullEA{{Name: "user.one", Value: []byte("hello")}, {Name: "x", Value: []byte{}}, {Flags: 0x80, Name: "LAST", Value: []byte{1, 2, 3}}}
	b := AppendFullEAList(nil, eas)
	got, err := ParseFullEAList(b)
	if err != nil || !reflect.DeepEqual(got, eas) {
		t.Fatalf("round trip %+v %v", got, err)
	}
	// Entry 1: 8 fixed + "user.one" (8) + NUL + "hello" (5) = 22, padded to 24.
	if n := u32(b, 0); n != 24 {
		t.Errorf("first NextEntryOffset %d, want 24", n)
	}
	bad := []struct {
		name string
		b    []byte
	}{
		{"short", b[:7]},
		{"name overrun", func() []byte { c := append([]byte(nil), b...); c[5] = 200; return c }()},
		{"no NUL", func() []byte { c := append([]byte(nil), b...); c[8+8] = 'x'; return c }()},
		{"next past end", func() []byte { c := append([]byte(nil), b...); putLE32(c, 0, 4000); return c }()},
		{"next inside entry", func() []byte { c := append([]byte(nil), b...); putLE32(c, 0, 8); return c }()},
	}
	for _, tc := range bad {
		if _, err := ParseFullEAList(tc.b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
