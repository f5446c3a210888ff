package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// reqMsg returns a request: header for cmd followed by body.
func reqMsg(cmd Command, body []byte) []byte {
	return append((&Header{Command: cmd}).Append(nil), body...)
}

func TestParseLockRequest(t *testing.T) {
	body := app16(nil, 48)
	body = app16(body, 2)
	body = app32(body, 5<<4|3)
	body = FileID{1, 2}.Append(body)
	body = app64(body, 100)
	body = app64(body, 10)
	body = app32(body, LockFlagExclusiveLock|LockFlagFailImmediately)
	body = app32(body, 0)
	body = app64(body, ^uint64(0))
	body = app64(body, 1)
	body = app32(body, LockFlagUnlock)
	body = app32(body, 0)
	r, err := ParseLockRequest(reqMsg(CommandLock, body))
	if err != nil {
		t.Fatal(err)
	}
	want := []LockElement{{100, 10, LockFlagExclusiveLock | LockFlagFailImmediately}, {^uint64(0), 1, LockFlagUnlock}}
	if !reflect.DeepEqual(r.Locks, want) || r.FileID != (FileID{1, 2}) || r.LockSequenceNumber() != 3 || r.LockSequenceIndex() != 5 {
		t.Errorf("got %+v", r)
	}
	// Count larger than the message, and zero.
	b := reqMsg(CommandLock, body)
	putLE16(b, HeaderSize+2, 3)
	if _, err := ParseLockRequest(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("count 3: %v", err)
	}
	putLE16(b, HeaderSize+2, 0)
	if _, err := ParseLockRequest(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("count 0: %v", err)
	}
	putLE16(b, HeaderSize+2, 0xFFFF)
	if _, err := ParseLockRequest(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("count 65535: %v", err)
	}
}

func TestParseWriteAndRead(t *testing.T) {
	data := []byte("payload")
	body := app16(nil, 49)
	body = app16(body, 0x70)
	body = app32(body, uint32(len(data)))
	body = app64(body, 1<<33)
	body = FileID{7, 8}.Append(body)
	body = app32(body, 0)
	body = app32(body, 0)
	body = app16(body, 0)
	body = app16(body, 0)
	body = app32(body, WriteFlagWriteThrough)
	msg := reqMsg(CommandWrite, append(body, data...))
	w, err := ParseWriteRequest(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Data, data) || w.Offset != 1<<33 || w.FileID != (FileID{7, 8}) || w.Flags != WriteFlagWriteThrough {
		t.Errorf("got %+v", w)
	}
	if cap(w.Data) != len(w.Data) {
		t.Error("Data capacity reaches past the payload")
	}
	for _, tc := range []struct {
		name      string
		off, size uint32
	}{{"past end", 0x70, 8}, {"inside header", 0x10, 4}, {"huge", 0x70, 0xFFFFFFFF}} {
		b := append([]byte(nil), msg...)
		putLE16(b, HeaderSize+2, uint16(tc.off))
		putLE32(b, HeaderSize+4, tc.size)
		if _, err := ParseWriteRequest(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// READ response: data at 0x50 from the header, DataLength, and the
	// header-only form used for zero-copy reads.
	resp := (&ReadResponse{Data: data, DataRemaining: 3}).Append((&Header{Flags: FlagResponse}).Append(nil))
	if resp[HeaderSize+2] != 0x50 || u32(resp, HeaderSize+4) != uint32(len(data)) || !bytes.Equal(resp[0x50:], data) {
		t.Errorf("read response % x", resp[HeaderSize:])
	}
	empty := (&ReadResponse{}).Append(make([]byte, HeaderSize))
	if len(empty) != HeaderSize+17 {
		t.Errorf("empty read response %d bytes", len(empty))
	}
}

func TestParseIoctlValidateNegotiate(t *testing.T) {
	// smbclient -m SMB2_02 sends FSCTL_VALIDATE_NEGOTIATE_INFO in the
	// capture (line 111 of testdata/smbclient-samba.txt).
	var in []byte
	for _, m := range loadCapture(t, captureFiles[0]) {
		if h, _ := ParseHeader(m.msg); m.fromClient && h.Command == CommandIoctl {
			r, err := ParseIoctlRequest(m.msg)
			if err != nil {
				t.Fatal(err)
			}
			if r.CtlCode == FsctlValidateNegotiateInfo {
				if !r.FileID.IsRelated() || r.Flags != IoctlIsFsctl || r.MaxOutputResponse != 24 {
					t.Errorf("ioctl %+v", r)
				}
				in = r.Input
				break
			}
		}
	}
	v, err := ParseValidateNegotiateInfoRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Dialects, []uint16{Dialect202}) || v.SecurityMode != SecurityModeSigningEnabled {
		t.Errorf("got %+v", v)
	}
	if !bytes.Equal(v.Append(nil), in) {
		t.Error("re-encode differs")
	}
	if _, err := ParseValidateNegotiateInfoRequest(in[:25]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated dialects: %v", err)
	}
	resp := (&ValidateNegotiateInfoResponse{Capabilities: 1, SecurityMode: 1, Dialect: Dialect202}).Append(nil)
	if len(resp) != 24 || u16(resp, 22) != Dialect202 {
		t.Errorf("response % x", resp)
	}
}

func TestCopychunk(t *testing.T) {
	// The SRV_COPYCHUNK_COPY smbtorture sent (smb2.ioctl.copy_chunk_simple).
	var in []byte
	for _, m := range loadCapture(t, captureFiles[1]) {
		if h, _ := ParseHeader(m.msg); m.fromClient && h.Command == CommandIoctl {
			if r, err := ParseIoctlRequest(m.msg); err == nil && r.CtlCode == FsctlSrvCopychunk {
				in = r.Input
			}
		}
	}
	c, err := ParseCopychunkCopy(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Chunks) != 1 || c.Chunks[0].Length == 0 {
		t.Errorf("got %+v", c)
	}
	b := append([]byte(nil), in...)
	putLE32(b, 24, 0x10000000)
	if _, err := ParseCopychunkCopy(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("huge count: %v", err)
	}
	if got := (&CopychunkResponse{1, 2, 3}).Append(nil); !bytes.Equal(got, []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}) {
		t.Errorf("response % x", got)
	}
	if got := AppendResumeKeyResponse(nil, [24]byte{1}); len(got) != 28 || got[0] != 1 {
		t.Errorf("resume key % x", got)
	}
}

func TestIoctlResponseLayout(t *testing.T) {
	r := &IoctlResponse{CtlCode: FsctlPipeTransceive, FileID: FileID{1, 2}, Input: []byte{9, 9, 9}, Output: []byte{1, 2, 3, 4}}
	b := r.Append(make([]byte, HeaderSize))
	if u32(b, HeaderSize+24) != 0x70 || u32(b, HeaderSize+28) != 3 {
		t.Errorf("input at %d len %d", u32(b, HeaderSize+24), u32(b, HeaderSize+28))
	}
	oo := u32(b, HeaderSize+32)
	if oo != 0x78 || u32(b, HeaderSize+36) != 4 || !bytes.Equal(b[oo:], r.Output) {
		t.Errorf("output at %d: % x", oo, b[HeaderSize:])
	}
}

func TestErrorResponse(t *testing.T) {
	b := AppendErrorResponse(make([]byte, HeaderSize), nil)
	if !bytes.Equal(b[HeaderSize:], []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("empty: % x", b[HeaderSize:])
	}
	b = AppendErrorResponse(make([]byte, HeaderSize), app32(nil, 600))
	if u32(b, HeaderSize+4) != 4 || u32(b, HeaderSize+8) != 600 {
		t.Errorf("with data: % x", b[HeaderSize:])
	}
	b = AppendErrorResponseContexts(make([]byte, HeaderSize), []ErrorContext{{ErrorID: 0, Data: []byte{1}}, {ErrorID: 0x72645253, Data: []byte{2, 2}}})
	if b[HeaderSize+2] != 2 || u32(b, HeaderSize+4) != 8+1+7+8+2 || u32(b, HeaderSize+8+16+4) != 0x72645253 {
		t.Errorf("contexts: % x", b[HeaderSize:])
	}
}

func TestParseOplockBreakRequest(t *testing.T) {
	ob := (&OplockBreak{OplockLevel: OplockLevelII, FileID: FileID{3, 4}}).Append(make([]byte, HeaderSize))
	r, err := ParseOplockBreakRequest(ob)
	if err != nil || r.Lease != nil || !reflect.DeepEqual(r.Oplock, &OplockBreak{OplockLevelII, FileID{3, 4}}) {
		t.Errorf("oplock ack: %+v %v", r, err)
	}
	ack := &LeaseBreakAck{LeaseKey: [16]byte{5}, LeaseState: LeaseReadCaching}
	r, err = ParseOplockBreakRequest(ack.Append(make([]byte, HeaderSize)))
	if err != nil || r.Oplock != nil || !reflect.DeepEqual(r.Lease, ack) {
		t.Errorf("lease ack: %+v %v", r, err)
	}
	n := (&LeaseBreakNotification{NewEpoch: 2, Flags: LeaseBreakFlagAckRequired}).Append(make([]byte, HeaderSize))
	if _, err := ParseOplockBreakRequest(n); !errors.Is(err, ErrStructureSize) {
		t.Errorf("notification as request: %v", err)
	}
	if _, err := ParseOplockBreakRequest(ob[:HeaderSize+23]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short: %v", err)
	}
}

func TestNotifyInformation(t *testing.T) {
	ev := []NotifyEvent{{FileActionAdded, "a.txt"}, {FileActionRenamedOldName, "bb"}, {FileActionRenamedNewName, "ccc"}}
	b, err := AppendNotifyInformation(nil, ev, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// 12+10 -> 24, 12+4 -> 16, 12+6 -> 20
	if len(b) != 60 || u32(b, 0) != 24 || u32(b, 24) != 16 || u32(b, 40) != 0 || u32(b, 24+4) != FileActionRenamedOldName {
		t.Errorf("layout % x", b)
	}
	if got, err := AppendNotifyInformation([]byte{7}, ev, 59); !errors.Is(err, ErrBufferFull) || len(got) != 1 {
		t.Errorf("budget: %v, %d bytes", err, len(got))
	}
}

func TestFixedBodyParsers(t *testing.T) {
	// The 4-byte and fixed-size requests reject a wrong StructureSize and
	// a short body.
	parsers := map[Command]func([]byte) error{
		CommandLogoff:         func(b []byte) error { _, err := ParseLogoffRequest(b); return err },
		CommandTreeDisconnect: func(b []byte) error { _, err := ParseTreeDisconnectRequest(b); return err },
		CommandEcho:           func(b []byte) error { _, err := ParseEchoRequest(b); return err },
		CommandCancel:         func(b []byte) error { _, err := ParseCancelRequest(b); return err },
	}
	for c, p := range parsers {
		if err := p(reqMsg(c, []byte{4, 0, 0, 0})); err != nil {
			t.Errorf("%v: %v", c, err)
		}
		if err := p(reqMsg(c, []byte{5, 0, 0, 0})); !errors.Is(err, ErrStructureSize) {
			t.Errorf("%v structure size: %v", c, err)
		}
		if err := p(reqMsg(c, []byte{4, 0, 0})); !errors.Is(err, ErrShortBuffer) {
			t.Errorf("%v short: %v", c, err)
		}
	}
	cn := app16(nil, 32)
	cn = app16(cn, WatchTree)
	cn = app32(cn, 4096)
	cn = FileID{5, 6}.Append(cn)
	cn = app32(cn, FileNotifyChangeFileName|FileNotifyChangeDirName)
	cn = app32(cn, 0)
	r, err := ParseChangeNotifyRequest(reqMsg(CommandChangeNotify, cn))
	if err != nil || !reflect.DeepEqual(r, &ChangeNotifyRequest{WatchTree, 4096, FileID{5, 6}, 3}) {
		t.Errorf("change notify %+v %v", r, err)
	}
}

func TestParseCreateRequestMalformed(t *testing.T) {
	var good []byte
	for _, m := range loadCapture(t, captureFiles[1]) {
		if h, _ := ParseHeader(m.msg); m.fromClient && h.Command == CommandCreate {
			if r, err := ParseCreateRequest(m.msg); err == nil && len(r.Contexts) == 2 && r.Name != "" {
				good = m.msg
				break
			}
		}
	}
	if good == nil {
		t.Fatal("no CREATE with a name and two contexts in the capture")
	}
	tests := []struct {
		name string
		mod  func(b []byte)
		want error
	}{
		{"odd name length", func(b []byte) { putLE16(b, createReqNameLength, le16(b, createReqNameLength)-1) }, ErrInvalidUTF16},
		{"name past end", func(b []byte) { putLE16(b, createReqNameOffset, 0xFFF0) }, ErrMalformed},
		{"name in header", func(b []byte) { putLE16(b, createReqNameOffset, 8) }, ErrMalformed},
		{"contexts past end", func(b []byte) { putLE32(b, createReqContextsLength, 0xFFFFFFF0) }, ErrMalformed},
		{"contexts misaligned", func(b []byte) {
			putLE32(b, createReqContextsOffset, le32(b, createReqContextsOffset)+4)
			putLE32(b, createReqContextsLength, le32(b, createReqContextsLength)-4)
		}, ErrMalformed},
		{"structure size", func(b []byte) { putLE16(b, HeaderSize, 56) }, ErrStructureSize},
	}
	for _, tc := range tests {
		b := append([]byte(nil), good...)
		tc.mod(b)
		if _, err := ParseCreateRequest(b); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNetworkInterfaceInfo(t *testing.T) {
	b := AppendNetworkInterfaceInfo(nil, []NetworkInterfaceInfo{
		{IfIndex: 1, Capability: NetworkInterfaceCapRSS, LinkSpeed: 1e10, IP: []byte{127, 0, 0, 1}},
		{IfIndex: 9, IP: []byte{1, 2}}, // skipped
		{IfIndex: 2, LinkSpeed: 1e9, IP: bytes.Repeat([]byte{0xfe}, 16)},
	})
	if len(b) != 2*152 || u32(b, 0) != 152 || u32(b, 152) != 0 || u32(b, 4) != 1 || u64(b, 16) != 1e10 {
		t.Fatalf("layout % x", b[:32])
	}
	if u16(b, 24) != 2 || !bytes.Equal(b[28:32], []byte{127, 0, 0, 1}) {
		t.Errorf("IPv4 sockaddr % x", b[24:40])
	}
	if u16(b, 152+24) != 0x17 || !bytes.Equal(b[152+32:152+48], bytes.Repeat([]byte{0xfe}, 16)) {
		t.Errorf("IPv6 sockaddr % x", b[152+24:152+56])
	}
	o := (&FileObjectIDBuffer{ObjectID: [16]byte{1}, DomainID: [16]byte{15: 9}}).Append(nil)
	if len(o) != 64 || o[0] != 1 || o[63] != 9 {
		t.Errorf("object id % x", o)
	}
}
