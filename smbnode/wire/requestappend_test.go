package wire

import (
	"bytes"
	"reflect"
	"testing"
)

type appender interface{ Append([]byte) []byte }

// TestCapturedRequestsReencode parses every captured request and encodes
// it again: the bytes must equal what smbclient / smbtorture sent, up to
// the trailing alignment padding a compound adds and, where the client put
// a buffer elsewhere, a reparse of the new bytes must give the same value.
func TestCapturedRequestsReencode(t *testing.T) {
	exact, reparsed := map[Command]int{}, map[Command]int{}
	for _, file := range captureFiles {
		for _, m := range loadCapture(t, file) {
			if !m.fromClient {
				continue
			}
			h, _ := ParseHeader(m.msg)
			r, err := parseRequest(m.msg)
			if err != nil {
				continue // refused by Samba too
			}
			got := r.(appender).Append(append([]byte(nil), m.msg[:HeaderSize]...))
			want := m.msg
			if pad := len(want) - len(got); pad > 0 && pad < 8 && bytes.Equal(want[len(got):], make([]byte, pad)) {
				want = want[:len(got)]
			}
			if bytes.Equal(got, want) {
				exact[h.Command]++
				continue
			}
			r2, err := parseRequest(got)
			if err != nil {
				t.Errorf("%s line %d %v: re-encoded request does not parse: %v", file, m.line, h.Command, err)
				continue
			}
			if !reflect.DeepEqual(normalize(r), normalize(r2)) {
				t.Errorf("%s line %d %v: re-encoded request parses differently\n got %+v\nwant %+v", file, m.line, h.Command, r2, r)
				continue
			}
			reparsed[h.Command]++
			if testing.Verbose() {
				t.Logf("%s line %d %v: layout differs\n got %x\nwant %x", file, m.line, h.Command, got[HeaderSize:], want[HeaderSize:])
			}
		}
	}
	t.Logf("byte-identical: %v", exact)
	t.Logf("same value, other layout: %v", reparsed)
}

// normalize maps nil and empty byte slices alike for comparison.
func normalize(v any) any {
	switch r := v.(type) {
	case *IoctlRequest:
		c := *r
		c.Input, c.Output = nonNil(c.Input), nonNil(c.Output)
		return c
	case *WriteRequest:
		c := *r
		c.Data, c.WriteChannelInfo = nonNil(c.Data), nonNil(c.WriteChannelInfo)
		return c
	case *ReadRequest:
		c := *r
		c.ReadChannelInfo = nonNil(c.ReadChannelInfo)
		return c
	case *QueryInfoRequest:
		c := *r
		c.Input = nonNil(c.Input)
		return c
	case *SetInfoRequest:
		c := *r
		c.Buffer = nonNil(c.Buffer)
		return c
	case *SessionSetupRequest:
		c := *r
		c.SecurityBuffer = nonNil(c.SecurityBuffer)
		return c
	case *NegotiateRequest:
		c := *r
		c.ContextCount = 0 // the raw count; Contexts holds what was decoded
		return c
	}
	return v
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// TestRequestRoundTrip: Append then Parse gives back the same struct.
func TestRequestRoundTrip(t *testing.T) {
	tf := uint32(1)
	tests := []appender{
		&NegotiateRequest{Dialects: []uint16{Dialect202, Dialect311}, SecurityMode: 1, Capabilities: CapEncryption,
			ClientGUID: [16]byte{1}, ContextCount: 4, Contexts: NegotiateContexts{
				PreauthIntegrity: &PreauthIntegrityCapabilities{HashAlgorithms: []uint16{HashSHA512}, Salt: []byte{1, 2, 3}},
				Encryption:       &EncryptionCapabilities{Ciphers: []uint16{CipherAES256GCM}},
				Signing:          &SigningCapabilities{Algorithms: []uint16{SigningAESGMAC}},
				TransportFlags:   &tf,
			}},
		&NegotiateRequest{Dialects: []uint16{Dialect210}},
		&SessionSetupRequest{Flags: SessionSetupFlagBinding, SecurityMode: 2, Capabilities: CapDFS, Channel: 0,
			PreviousSessionID: 99, SecurityBuffer: []byte("NTLMSSP\x00")},
		&LogoffRequest{}, &TreeDisconnectRequest{}, &EchoRequest{}, &CancelRequest{},
		&TreeConnectRequest{Flags: TreeConnectFlagClusterReconnect, Path: `\\srv\Dåta`},
		&CreateRequest{RequestedOplockLevel: OplockLevelLease, ImpersonationLevel: ImpersonationImpersonation,
			DesiredAccess: MaximumAllowed, FileAttributes: FileAttributeNormal, ShareAccess: FileShareRead | FileShareDelete,
			CreateDisposition: FileOpenIf, CreateOptions: FileNonDirectoryFile, Name: `dir\file.txt`,
			Contexts: []CreateContext{{Name: CreateContextQueryMaximalAccess}, {Name: CreateContextRequestLease, Data: (&Lease{Version: 2, Epoch: 1}).Append(nil)}}},
		&CreateRequest{Name: ""},
		&CloseRequest{Flags: CloseFlagPostQueryAttrib, FileID: FileID{1, 2}},
		&FlushRequest{FileID: FileID{3, 4}},
		&ReadRequest{Padding: 0x50, Flags: ReadFlagUnbuffered, Length: 65536, Offset: 1 << 40, FileID: FileID{5, 6}, MinimumCount: 1, RemainingBytes: 7},
		&WriteRequest{Offset: 12, FileID: FileID{7, 8}, Flags: WriteFlagWriteThrough, Data: []byte("data")},
		&LockRequest{LockSequence: 0x31, FileID: FileID{9, 10}, Locks: []LockElement{{0, 1, LockFlagSharedLock}, {5, 5, LockFlagUnlock}}},
		&IoctlRequest{CtlCode: FsctlPipeTransceive, FileID: FileID{1, 1}, Input: []byte{5, 0, 0, 3}, MaxOutputResponse: 4280, Flags: IoctlIsFsctl},
		&QueryDirectoryRequest{InfoClass: FileIdBothDirectoryInformation, Flags: QueryDirRestartScans, FileID: FileID{2, 2}, Pattern: "*.txt", OutputBufferLength: 65536},
		&ChangeNotifyRequest{Flags: WatchTree, OutputBufferLength: 4096, FileID: FileID{3, 3}, CompletionFilter: FileNotifyChangeFileName},
		&QueryInfoRequest{InfoType: InfoTypeSecurity, OutputBufferLength: 4096, AdditionalInformation: OwnerSecurityInformation | DACLSecurityInformation, FileID: FileID{4, 4}},
		&QueryInfoRequest{InfoType: InfoTypeFile, InfoClass: FileFullEaInformation, Input: []byte{1, 2, 3}, Flags: SLRestartScan, FileID: FileID{4, 5}},
		&SetInfoRequest{InfoType: InfoTypeFile, InfoClass: FileEndOfFileInformation, Buffer: app64(nil, 100), FileID: FileID{6, 6}},
		&OplockBreakRequest{Oplock: &OplockBreak{OplockLevel: OplockLevelNone, FileID: FileID{7, 7}}},
		&OplockBreakRequest{Lease: &LeaseBreakAck{LeaseKey: [16]byte{1}, LeaseState: LeaseReadCaching}},
	}
	for _, r := range tests {
		msg := r.Append((&Header{Command: commandOf(r)}).Append(nil))
		got, err := parseRequest(msg)
		if err != nil {
			t.Errorf("%T: %v", r, err)
			continue
		}
		if !reflect.DeepEqual(normalize(got), normalize(r)) {
			t.Errorf("%T round trip\n got %+v\nwant %+v", r, got, r)
		}
	}
}

func commandOf(r appender) Command {
	switch r.(type) {
	case *NegotiateRequest:
		return CommandNegotiate
	case *SessionSetupRequest:
		return CommandSessionSetup
	case *LogoffRequest:
		return CommandLogoff
	case *TreeConnectRequest:
		return CommandTreeConnect
	case *TreeDisconnectRequest:
		return CommandTreeDisconnect
	case *CreateRequest:
		return CommandCreate
	case *CloseRequest:
		return CommandClose
	case *FlushRequest:
		return CommandFlush
	case *ReadRequest:
		return CommandRead
	case *WriteRequest:
		return CommandWrite
	case *LockRequest:
		return CommandLock
	case *IoctlRequest:
		return CommandIoctl
	case *CancelRequest:
		return CommandCancel
	case *EchoRequest:
		return CommandEcho
	case *QueryDirectoryRequest:
		return CommandQueryDirectory
	case *ChangeNotifyRequest:
		return CommandChangeNotify
	case *QueryInfoRequest:
		return CommandQueryInfo
	case *SetInfoRequest:
		return CommandSetInfo
	case *OplockBreakRequest:
		return CommandOplockBreak
	}
	panic("unknown request type")
}
