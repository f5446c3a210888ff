package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// The tests in this file take every response Samba sent in the captures,
// decode its fields with offsets written out independently here (straight
// from MS-SMB2 / MS-FSCC), encode the same fields with this package, and
// require the very same bytes. A response that is not the last of a
// compound (Samba pads the last one too) may carry up to 7 bytes of alignment padding, which the
// compound assembler (not this package) adds.

func u16(b []byte, o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
func u32(b []byte, o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
func u64(b []byte, o int) uint64 { return binary.LittleEndian.Uint64(b[o:]) }
func fid(b []byte, o int) FileID { return FileID{u64(b, o), u64(b, o+8)} }

// requestFor returns the client request msgs[j] that msgs[i] answers.
func requestFor(msgs []capturedMessage, i int) ([]byte, bool) {
	rh, _ := ParseHeader(msgs[i].msg)
	for j := i - 1; j >= 0; j-- {
		if !msgs[j].fromClient {
			continue
		}
		h, _ := ParseHeader(msgs[j].msg)
		if h.MessageID == rh.MessageID && h.Command == rh.Command {
			return msgs[j].msg, true
		}
	}
	return nil, false
}

// reencode rebuilds a response body from Samba's bytes: it returns the
// bytes this package produces (header copied from Samba), or nil when the
// response is of a kind this test does not rebuild.
func reencode(t *testing.T, msgs []capturedMessage, i int) []byte {
	m := msgs[i].msg
	h, _ := ParseHeader(m)
	out := append([]byte(nil), m[:64]...)
	b := m[64:]
	normal := h.Status == StatusSuccess ||
		h.Status == StatusMoreProcessingRequired && h.Command == CommandSessionSetup ||
		h.Status == StatusBufferOverflow && (h.Command == CommandQueryInfo || h.Command == CommandIoctl)
	if !normal {
		// ERROR response (2.2.2): StructureSize 9, ErrorContextCount,
		// Reserved, ByteCount, ErrorData.
		if u16(b, 0) != 9 {
			t.Errorf("line %d: %v error response StructureSize %d", msgs[i].line, h.Command, u16(b, 0))
			return nil
		}
		if b[2] != 0 {
			return nil // 3.1.1 error contexts: not rebuilt here
		}
		n := u32(b, 4)
		return AppendErrorResponse(out, b[8:8+n])
	}
	switch h.Command {
	case CommandNegotiate:
		r := &NegotiateResponse{
			SecurityMode:    u16(b, 2),
			DialectRevision: u16(b, 4),
			Capabilities:    u32(b, 24),
			MaxTransactSize: u32(b, 28),
			MaxReadSize:     u32(b, 32),
			MaxWriteSize:    u32(b, 36),
			SystemTime:      u64(b, 40),
			ServerStartTime: u64(b, 48),
		}
		copy(r.ServerGUID[:], b[8:24])
		so, sl := int(u16(m, 64+56)), int(u16(m, 64+58))
		r.SecurityBuffer = m[so : so+sl]
		if r.DialectRevision == Dialect311 {
			c, err := parseNegotiateContexts(m, int(u32(b, 60)), int(u16(b, 6)), "test")
			if err != nil {
				t.Errorf("line %d: negotiate contexts: %v", msgs[i].line, err)
				return nil
			}
			r.Contexts = c
		}
		return r.Append(out)
	case CommandSessionSetup:
		so, sl := int(u16(b, 4)), int(u16(b, 6))
		return (&SessionSetupResponse{SessionFlags: u16(b, 2), SecurityBuffer: m[so : so+sl]}).Append(out)
	case CommandTreeConnect:
		return (&TreeConnectResponse{ShareType: b[2], ShareFlags: u32(b, 4), Capabilities: u32(b, 8), MaximalAccess: u32(b, 12)}).Append(out)
	case CommandTreeDisconnect:
		return (&TreeDisconnectResponse{}).Append(out)
	case CommandLogoff:
		return (&LogoffResponse{}).Append(out)
	case CommandEcho:
		return (&EchoResponse{}).Append(out)
	case CommandFlush:
		return (&FlushResponse{}).Append(out)
	case CommandLock:
		return (&LockResponse{}).Append(out)
	case CommandSetInfo:
		return (&SetInfoResponse{}).Append(out)
	case CommandCreate:
		r := &CreateResponse{
			OplockLevel: b[2], Flags: b[3], CreateAction: u32(b, 4),
			CreationTime: u64(b, 8), LastAccessTime: u64(b, 16), LastWriteTime: u64(b, 24), ChangeTime: u64(b, 32),
			AllocationSize: u64(b, 40), EndOfFile: u64(b, 48), FileAttributes: u32(b, 56), FileID: fid(b, 64),
		}
		if co, cl := u32(b, 80), u32(b, 84); cl > 0 {
			ctxs, err := ParseCreateContexts(m[co : co+cl])
			if err != nil {
				t.Errorf("line %d: create contexts: %v", msgs[i].line, err)
				return nil
			}
			r.Contexts = ctxs
		}
		return r.Append(out)
	case CommandClose:
		return (&CloseResponse{
			Flags: u16(b, 2), CreationTime: u64(b, 8), LastAccessTime: u64(b, 16), LastWriteTime: u64(b, 24),
			ChangeTime: u64(b, 32), AllocationSize: u64(b, 40), EndOfFile: u64(b, 48), FileAttributes: u32(b, 56),
		}).Append(out)
	case CommandRead:
		if b[2] != 0x50 {
			t.Errorf("line %d: READ DataOffset 0x%x", msgs[i].line, b[2])
		}
		n := u32(b, 4)
		return (&ReadResponse{Data: m[0x50 : 0x50+n], DataRemaining: u32(b, 8)}).Append(out)
	case CommandWrite:
		return (&WriteResponse{Count: u32(b, 4), Remaining: u32(b, 8)}).Append(out)
	case CommandOplockBreak:
		switch u16(b, 0) {
		case 24:
			return (&OplockBreak{OplockLevel: b[2], FileID: fid(b, 8)}).Append(out)
		case 44:
			n := &LeaseBreakNotification{NewEpoch: u16(b, 2), Flags: u32(b, 4), CurrentLeaseState: u32(b, 24),
				NewLeaseState: u32(b, 28), BreakReason: u32(b, 32), AccessMaskHint: u32(b, 36), ShareMaskHint: u32(b, 40)}
			copy(n.LeaseKey[:], b[8:24])
			return n.Append(out)
		case 36:
			a := &LeaseBreakAck{Flags: u32(b, 4), LeaseState: u32(b, 24), LeaseDuration: u64(b, 28)}
			copy(a.LeaseKey[:], b[8:24])
			return a.Append(out)
		}
	case CommandQueryInfo, CommandQueryDirectory, CommandChangeNotify:
		o, n := u16(b, 2), u32(b, 4)
		buf := m[o : uint32(o)+n]
		req, ok := requestFor(msgs, i)
		if ok && h.Status == StatusSuccess {
			checkInfoBuffer(t, msgs[i].line, h.Command, req, buf)
		}
		switch h.Command {
		case CommandQueryInfo:
			return (&QueryInfoResponse{Buffer: buf}).Append(out)
		case CommandQueryDirectory:
			return (&QueryDirectoryResponse{Buffer: buf}).Append(out)
		default:
			return (&ChangeNotifyResponse{Buffer: buf}).Append(out)
		}
	case CommandIoctl:
		r := &IoctlResponse{CtlCode: u32(b, 4), FileID: fid(b, 8), Flags: u32(b, 40)}
		io, il, oo, ol := u32(b, 24), u32(b, 28), u32(b, 32), u32(b, 36)
		r.Input = m[io : io+il]
		r.Output = m[oo : oo+ol]
		return r.Append(out)
	}
	return nil
}

func TestSambaResponsesReencode(t *testing.T) {
	checked := map[Command]int{}
	for _, file := range captureFiles {
		msgs := loadCapture(t, file)
		for i, m := range msgs {
			if m.fromClient {
				continue
			}
			h, _ := ParseHeader(m.msg)
			if h.Flags&FlagAsync != 0 && h.Status == StatusPending {
				continue // interim response, the lead's async code builds it from AppendErrorResponse too
			}
			got := reencode(t, msgs, i)
			if got == nil {
				continue
			}
			checked[h.Command]++
			want := m.msg
			pad := len(want) - len(got)
			if (h.NextCommand != 0 || h.Flags&FlagRelated != 0) && pad > 0 && pad < 8 && bytes.Equal(want[len(got):], make([]byte, pad)) {
				want = want[:len(got)]
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s line %d %v %v: encoding differs from Samba\n got %x\nwant %x", file, m.line, h.Command, h.Status, got[64:], want[64:])
			}
		}
	}
	for _, c := range []Command{CommandNegotiate, CommandSessionSetup, CommandTreeConnect, CommandCreate, CommandClose,
		CommandRead, CommandWrite, CommandLock, CommandIoctl, CommandQueryInfo, CommandQueryDirectory,
		CommandChangeNotify, CommandSetInfo, CommandOplockBreak, CommandTreeDisconnect} {
		if checked[c] == 0 {
			t.Errorf("no %v response checked", c)
		}
	}
	t.Logf("responses re-encoded: %v", checked)
}

// checkInfoBuffer re-encodes the information-class payload of a QUERY_INFO,
// QUERY_DIRECTORY or CHANGE_NOTIFY response with this package's encoders.
func checkInfoBuffer(t *testing.T, line int, cmd Command, req, buf []byte) {
	t.Helper()
	var got []byte
	switch cmd {
	case CommandQueryDirectory:
		class := req[64+2]
		w := NewDirEntryWriter(class, len(buf))
		for off := 0; ; {
			e := buf[off:]
			var d DirEntry
			d.FileIndex = u32(e, 4)
			var nameOff int
			var nameLen uint32
			if class == FileNamesInformation {
				nameLen, nameOff = u32(e, 8), 12
			} else {
				d.CreationTime, d.LastAccessTime, d.LastWriteTime, d.ChangeTime = u64(e, 8), u64(e, 16), u64(e, 24), u64(e, 32)
				d.EndOfFile, d.AllocationSize, d.FileAttributes, nameLen = u64(e, 40), u64(e, 48), u32(e, 56), u32(e, 60)
				switch class {
				case FileDirectoryInformation:
					nameOff = 64
				case FileFullDirectoryInformation:
					d.EaSize, nameOff = u32(e, 64), 68
				case FileIdFullDirectoryInformation:
					d.EaSize, d.FileID, nameOff = u32(e, 64), u64(e, 72), 80
				case FileBothDirectoryInformation, FileIdBothDirectoryInformation:
					d.EaSize = u32(e, 64)
					d.ShortName = mustUTF16(t, e[70:70+int(e[68])])
					nameOff = 94
					if class == FileIdBothDirectoryInformation {
						d.FileID, nameOff = u64(e, 96), 104
					}
				default:
					t.Logf("line %d: directory class %d not re-encoded", line, class)
					return
				}
			}
			d.Name = mustUTF16(t, e[nameOff:nameOff+int(nameLen)])
			if err := w.Add(&d); err != nil {
				t.Errorf("line %d: %v", line, err)
				return
			}
			next := u32(e, 0)
			if next == 0 {
				break
			}
			off += int(next)
		}
		got = w.Bytes()
	case CommandChangeNotify:
		var ev []NotifyEvent
		for off := 0; ; {
			e := buf[off:]
			ev = append(ev, NotifyEvent{Action: u32(e, 4), FileName: mustUTF16(t, e[12:12+u32(e, 8)])})
			if u32(e, 0) == 0 {
				break
			}
			off += int(u32(e, 0))
		}
		var err error
		if got, err = AppendNotifyInformation(nil, ev, len(buf)); err != nil {
			t.Errorf("line %d: %v", line, err)
		}
	case CommandQueryInfo:
		got = reencodeQueryInfo(t, req[64+2], req[64+3], buf)
		if got == nil {
			t.Logf("line %d: query info type %d class %d not re-encoded", line, req[64+2], req[64+3])
			return
		}
	}
	if !bytes.Equal(got, buf) {
		t.Errorf("line %d %v: info buffer differs from Samba\n got %x\nwant %x", line, cmd, got, buf)
	}
}

func reencodeQueryInfo(t *testing.T, typ, class uint8, b []byte) []byte {
	basic := func(b []byte) FileBasicInfo {
		return FileBasicInfo{u64(b, 0), u64(b, 8), u64(b, 16), u64(b, 24), u32(b, 32)}
	}
	std := func(b []byte) FileStandardInfo {
		return FileStandardInfo{u64(b, 0), u64(b, 8), u32(b, 16), b[20] != 0, b[21] != 0}
	}
	switch typ {
	case InfoTypeFile:
		switch class {
		case FileBasicInformation:
			i := basic(b)
			return i.Append(nil)
		case FileStandardInformation:
			i := std(b)
			return i.Append(nil)
		case FileAllInformation:
			i := FileAllInfo{
				Basic: basic(b), Standard: std(b[40:]), Internal: FileInternalInfo{u64(b, 64)},
				Ea: FileEaInfo{u32(b, 72)}, Access: FileAccessInfo{u32(b, 76)}, Position: FilePositionInfo{u64(b, 80)},
				Mode: FileModeInfo{u32(b, 88)}, Alignment: FileAlignmentInfo{u32(b, 92)},
				Name: FileNameInfo{mustUTF16(t, b[100:100+u32(b, 96)])},
			}
			return i.Append(nil)
		case FileAlternateNameInformation, FileNameInformation, FileNormalizedNameInformation:
			i := FileNameInfo{mustUTF16(t, b[4:4+u32(b, 0)])}
			return i.Append(nil)
		case FileStreamInformation:
			var s []FileStreamEntry
			for off := 0; ; {
				e := b[off:]
				s = append(s, FileStreamEntry{mustUTF16(t, e[24:24+u32(e, 4)]), u64(e, 8), u64(e, 16)})
				if u32(e, 0) == 0 {
					break
				}
				off += int(u32(e, 0))
			}
			return AppendFileStreamInfo(nil, s)
		case FileNetworkOpenInformation:
			i := FileNetworkOpenInfo{u64(b, 0), u64(b, 8), u64(b, 16), u64(b, 24), u64(b, 32), u64(b, 40), u32(b, 48)}
			return i.Append(nil)
		case FileAttributeTagInformation:
			i := FileAttributeTagInfo{u32(b, 0), u32(b, 4)}
			return i.Append(nil)
		case FileInternalInformation:
			i := FileInternalInfo{u64(b, 0)}
			return i.Append(nil)
		case FileEaInformation:
			i := FileEaInfo{u32(b, 0)}
			return i.Append(nil)
		case FileAccessInformation:
			i := FileAccessInfo{u32(b, 0)}
			return i.Append(nil)
		case FilePositionInformation:
			i := FilePositionInfo{u64(b, 0)}
			return i.Append(nil)
		case FileModeInformation:
			i := FileModeInfo{u32(b, 0)}
			return i.Append(nil)
		case FileAlignmentInformation:
			i := FileAlignmentInfo{u32(b, 0)}
			return i.Append(nil)
		case FileCompressionInformation:
			i := FileCompressionInfo{u64(b, 0), u16(b, 8), b[10], b[11], b[12]}
			return i.Append(nil)
		case FileIdInformation:
			if u64(b, 16) != 0 {
				return nil // 128-bit id with a high half: not representable
			}
			i := FileIDInfo{u64(b, 0), u64(b, 8)}
			return i.Append(nil)
		}
	case InfoTypeFilesystem:
		switch class {
		case FileFsVolumeInformation:
			i := FileFsVolumeInfo{u64(b, 0), u32(b, 8), b[16] != 0, mustUTF16(t, b[18:18+u32(b, 12)])}
			return i.Append(nil)
		case FileFsSizeInformation:
			i := FileFsSizeInfo{u64(b, 0), u64(b, 8), u32(b, 16), u32(b, 20)}
			return i.Append(nil)
		case FileFsFullSizeInformation:
			i := FileFsFullSizeInfo{u64(b, 0), u64(b, 8), u64(b, 16), u32(b, 24), u32(b, 28)}
			return i.Append(nil)
		case FileFsAttributeInformation:
			i := FileFsAttributeInfo{u32(b, 0), u32(b, 4), mustUTF16(t, b[12:12+u32(b, 8)])}
			return i.Append(nil)
		case FileFsDeviceInformation:
			i := FileFsDeviceInfo{u32(b, 0), u32(b, 4)}
			return i.Append(nil)
		case FileFsObjectIDInformation:
			var i FileFsObjectIDInfo
			copy(i.ObjectID[:], b[0:16])
			copy(i.ExtendedInfo[:], b[16:64])
			return i.Append(nil)
		case FileFsSectorSizeInformation:
			i := FileFsSectorSizeInfo{u32(b, 0), u32(b, 4), u32(b, 8), u32(b, 12), u32(b, 16), u32(b, 20), u32(b, 24)}
			return i.Append(nil)
		}
	}
	return nil
}

func mustUTF16(t *testing.T, b []byte) string {
	t.Helper()
	s, err := DecodeUTF16(b)
	if err != nil {
		t.Fatalf("%x: %v", b, err)
	}
	return s
}
