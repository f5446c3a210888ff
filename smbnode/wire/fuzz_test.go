package wire

import (
	"errors"
	"reflect"
	"testing"
)

// Every parser must return a wrapped sentinel, never panic, for any input.
// The seeds are the real requests of the captures (each parser gets the
// ones of its command) plus a few hand-made edge cases.

var sentinels = []error{ErrMalformed, ErrShortBuffer, ErrStructureSize, ErrProtocolID, ErrInvalidUTF16,
	ErrUnknownInfoClass, ErrInfoLengthMismatch, ErrBufferFull, ErrNotSMB1Negotiate}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

// seedRequests adds the captured requests of command c to f.
func seedRequests(f *testing.F, c Command) {
	for _, file := range captureFiles {
		for _, m := range loadCapture(f, file) {
			h, _ := ParseHeader(m.msg)
			if m.fromClient && h.Command == c {
				f.Add(m.msg)
			}
		}
	}
	f.Add([]byte{})
	f.Add((&Header{Command: c}).Append(nil))
}

// fuzzParser also checks that whatever parses re-encodes (request Append)
// to bytes that parse to the same value.
func fuzzParser[T any](f *testing.F, c Command, parse func([]byte) (T, error)) {
	seedRequests(f, c)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parse(b)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		a, ok := any(r).(appender)
		if !ok {
			return
		}
		again, err := parse(a.Append(append([]byte(nil), b[:HeaderSize]...)))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", r, err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(r)) {
			t.Fatalf("round trip\n got %+v\nwant %+v", again, r)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	seedRequests(f, CommandNegotiate)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		checkSentinel(t, err)
		if err == nil && len(h.Append(nil)) != HeaderSize {
			t.Fatal("Append size")
		}
	})
}

func FuzzParseNegotiateRequest(f *testing.F) {
	fuzzParser(f, CommandNegotiate, ParseNegotiateRequest)
}
func FuzzParseSessionSetupRequest(f *testing.F) {
	fuzzParser(f, CommandSessionSetup, ParseSessionSetupRequest)
}
func FuzzParseLogoffRequest(f *testing.F) { fuzzParser(f, CommandLogoff, ParseLogoffRequest) }
func FuzzParseTreeConnectRequest(f *testing.F) {
	fuzzParser(f, CommandTreeConnect, ParseTreeConnectRequest)
}
func FuzzParseTreeDisconnectRequest(f *testing.F) {
	fuzzParser(f, CommandTreeDisconnect, ParseTreeDisconnectRequest)
}
func FuzzParseCreateRequest(f *testing.F) { fuzzParser(f, CommandCreate, ParseCreateRequest) }
func FuzzParseCloseRequest(f *testing.F)  { fuzzParser(f, CommandClose, ParseCloseRequest) }
func FuzzParseFlushRequest(f *testing.F)  { fuzzParser(f, CommandFlush, ParseFlushRequest) }
func FuzzParseReadRequest(f *testing.F)   { fuzzParser(f, CommandRead, ParseReadRequest) }
func FuzzParseWriteRequest(f *testing.F)  { fuzzParser(f, CommandWrite, ParseWriteRequest) }
func FuzzParseLockRequest(f *testing.F)   { fuzzParser(f, CommandLock, ParseLockRequest) }
func FuzzParseIoctlRequest(f *testing.F)  { fuzzParser(f, CommandIoctl, ParseIoctlRequest) }
func FuzzParseCancelRequest(f *testing.F) { fuzzParser(f, CommandCancel, ParseCancelRequest) }
func FuzzParseEchoRequest(f *testing.F)   { fuzzParser(f, CommandEcho, ParseEchoRequest) }
func FuzzParseQueryDirectoryRequest(f *testing.F) {
	fuzzParser(f, CommandQueryDirectory, ParseQueryDirectoryRequest)
}
func FuzzParseChangeNotifyRequest(f *testing.F) {
	fuzzParser(f, CommandChangeNotify, ParseChangeNotifyRequest)
}
func FuzzParseQueryInfoRequest(f *testing.F) {
	fuzzParser(f, CommandQueryInfo, ParseQueryInfoRequest)
}
func FuzzParseSetInfoRequest(f *testing.F) { fuzzParser(f, CommandSetInfo, ParseSetInfoRequest) }
func FuzzParseOplockBreakRequest(f *testing.F) {
	fuzzParser(f, CommandOplockBreak, ParseOplockBreakRequest)
}

func FuzzParseTransformHeader(f *testing.F) {
	f.Add((&TransformHeader{OriginalMessageSize: 100, Flags: 1, SessionID: 5}).Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseTransformHeader(b)
		checkSentinel(t, err)
	})
}

func FuzzSMB1Dialects(f *testing.F) {
	f.Add(smb1Negotiate("NT LM 0.12", "SMB 2.002", "SMB 2.???"))
	f.Add(smb1Negotiate())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := SMB1Dialects(b)
		checkSentinel(t, err)
	})
}

// FuzzParseCreateContexts also runs every typed context parser on each
// decoded context.
func FuzzParseCreateContexts(f *testing.F) {
	for _, file := range captureFiles {
		for _, m := range loadCapture(f, file) {
			h, _ := ParseHeader(m.msg)
			if m.fromClient && h.Command == CommandCreate && len(m.msg) > createReqContextsLength+4 {
				off, n := le32(m.msg, createReqContextsOffset), le32(m.msg, createReqContextsLength)
				if n > 0 && uint64(off)+uint64(n) <= uint64(len(m.msg)) {
					f.Add(m.msg[off : off+n])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ctxs, err := ParseCreateContexts(b)
		checkSentinel(t, err)
		for _, c := range ctxs {
			var errs []error
			_, e := ParseLease(c.Data)
			errs = append(errs, e)
			_, e = ParseDurableHandleRequestV2(c.Data)
			errs = append(errs, e)
			_, e = ParseDurableHandleReconnectV2(c.Data)
			errs = append(errs, e)
			_, e = ParseDurableHandleReconnect(c.Data)
			errs = append(errs, e, ParseDurableHandleRequest(c.Data))
			_, e = ParseMaximalAccessRequest(c.Data)
			errs = append(errs, e)
			_, e = ParseAllocationSize(c.Data)
			errs = append(errs, e)
			_, e = ParseTimewarpToken(c.Data)
			errs = append(errs, e)
			_, e = ParseAppInstanceID(c.Data)
			errs = append(errs, e)
			_, e = ParseFullEAList(c.Data)
			errs = append(errs, e)
			for _, e := range errs {
				checkSentinel(t, e)
			}
		}
	})
}

// FuzzParseSetFileInfo feeds every set class the same bytes.
func FuzzParseSetFileInfo(f *testing.F) {
	for _, file := range captureFiles {
		for _, m := range loadCapture(f, file) {
			h, _ := ParseHeader(m.msg)
			if m.fromClient && h.Command == CommandSetInfo {
				if r, err := ParseSetInfoRequest(m.msg); err == nil {
					f.Add(r.InfoClass, r.Buffer)
				}
			}
		}
	}
	f.Add(FileRenameInformationEx, (&FileRenameInfo{Flags: 3, FileName: "a\\b"}).Append(nil))
	f.Add(FileFullEaInformation, AppendFullEAList(nil, []FullEA{{Name: "user.x", Value: []byte("v")}}))
	f.Fuzz(func(t *testing.T, class uint8, b []byte) {
		_, err := ParseSetFileInfo(class, b)
		checkSentinel(t, err)
	})
}

func FuzzIoctlInputs(f *testing.F) {
	f.Add((&ValidateNegotiateInfoRequest{Dialects: []uint16{0x202, 0x311}}).Append(nil))
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseValidateNegotiateInfoRequest(b)
		checkSentinel(t, err)
		_, err = ParseCopychunkCopy(b)
		checkSentinel(t, err)
	})
}

func FuzzDecodeUTF16(f *testing.F) {
	f.Add(AppendUTF16(nil, "héllo\U0001F600"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeUTF16(b)
		checkSentinel(t, err)
		if err == nil {
			// Valid UTF-16 round-trips exactly.
			if got := AppendUTF16(nil, s); string(got) != string(b) {
				t.Fatalf("round trip %x -> %q -> %x", b, s, got)
			}
		}
	})
}

// TestTruncatedRequests cuts every captured request at every length: each
// prefix must parse or fail with a sentinel, never panic.
func TestTruncatedRequests(t *testing.T) {
	for _, file := range captureFiles[:2] {
		for _, m := range loadCapture(t, file) {
			if !m.fromClient || len(m.msg) > 4096 {
				continue
			}
			for n := 0; n < len(m.msg); n++ {
				_, err := parseRequest(m.msg[:n])
				checkSentinel(t, err)
			}
		}
	}
}
