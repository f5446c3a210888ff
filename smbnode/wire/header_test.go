package wire

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// A NEGOTIATE response header as Samba sent it (first S2C line of
// testdata/smbclient-samba.txt), written out field by field.
const sambaNegotiateRespHeader = "fe534d42" + "4000" + "0000" + "00000000" + "0000" + "0100" +
	"01000000" + "00000000" + "0000000000000000" + "00000000" + "00000000" + "0000000000000000" +
	"00000000000000000000000000000000"

func TestHeaderVector(t *testing.T) {
	b, _ := hex.DecodeString(sambaNegotiateRespHeader)
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Command: CommandNegotiate, Credits: 1, Flags: FlagResponse}
	if h != want {
		t.Errorf("got %+v, want %+v", h, want)
	}
	if got := hex.EncodeToString(h.Append(nil)); got != sambaNegotiateRespHeader {
		t.Errorf("Append\n got %s\nwant %s", got, sambaNegotiateRespHeader)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	tests := []Header{
		{Command: CommandCreate, ChannelSequence: 7, Credits: 31, Flags: FlagRelated | FlagSigned | FlagReplay,
			NextCommand: 128, MessageID: 1 << 40, ProcessID: 0xFEFF, TreeID: 5, SessionID: 0x1122334455667788,
			Signature: [16]byte{1, 2, 3}},
		{Command: CommandRead, Status: StatusPending, Flags: FlagResponse | FlagAsync, MessageID: 9, AsyncID: 77, SessionID: 3},
		{Command: CommandOplockBreak, Status: StatusSuccess, Flags: FlagResponse, MessageID: ^uint64(0)},
	}
	for _, h := range tests {
		b := h.Append(nil)
		if len(b) != HeaderSize {
			t.Fatalf("Append gave %d bytes", len(b))
		}
		got, err := ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsResponse() {
			got.Status = 0 // a request's Status field carries ChannelSequence
		}
		if got != h {
			t.Errorf("round trip\n got %+v\nwant %+v", got, h)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	good := (&Header{Command: CommandEcho}).Append(nil)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:63], ErrShortBuffer},
		{"empty", nil, ErrShortBuffer},
		{"smb1", append([]byte{0xFF, 'S', 'M', 'B'}, good[4:]...), ErrProtocolID},
		{"transform", append([]byte{0xFD, 'S', 'M', 'B'}, good[4:]...), ErrProtocolID},
		{"structure size", append(append([]byte(nil), good[:4]...), append([]byte{65, 0}, good[6:]...)...), ErrStructureSize},
	}
	for _, tc := range tests {
		if _, err := ParseHeader(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestHeaderPut(t *testing.T) {
	b := (&Header{Command: CommandWrite, Flags: FlagResponse}).Append(nil)
	PutNextCommand(b, 136)
	PutStatus(b, StatusDiskFull)
	PutFlags(b, FlagResponse|FlagSigned)
	PutSignature(b, [16]byte{0xAA, 15: 0xBB})
	h, _ := ParseHeader(b)
	if h.NextCommand != 136 || h.Status != StatusDiskFull || h.Flags != FlagResponse|FlagSigned ||
		h.Signature[0] != 0xAA || h.Signature[15] != 0xBB {
		t.Errorf("got %+v", h)
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{StatusSuccess, "STATUS_SUCCESS"},
		{StatusSharingViolation, "STATUS_SHARING_VIOLATION"},
		{StatusMoreProcessingRequired, "STATUS_MORE_PROCESSING_REQUIRED"},
		{StatusNoPreauthIntegrityHashOverlap, "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP"},
		{Status(0xC0DEC0DE), "STATUS_0xC0DEC0DE"},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%#x: got %q, want %q", uint32(tc.s), got, tc.want)
		}
	}
	// Spot-check numeric values against MS-ERREF 2.3.1.
	values := map[Status]uint32{
		StatusPending: 0x103, StatusBufferOverflow: 0x80000005, StatusNoMoreFiles: 0x80000006,
		StatusAccessDenied: 0xC0000022, StatusObjectNameNotFound: 0xC0000034, StatusLogonFailure: 0xC000006D,
		StatusFileClosed: 0xC0000128, StatusUserSessionDeleted: 0xC0000203, StatusNetworkSessionExpired: 0xC000035C,
		StatusNotifyEnumDir: 0x10C, StatusCancelled: 0xC0000120, StatusLockNotGranted: 0xC0000055,
	}
	for s, v := range values {
		if uint32(s) != v {
			t.Errorf("%v = %#x, want %#x", s, uint32(s), v)
		}
	}
	if !StatusAccessDenied.IsError() || StatusBufferOverflow.IsError() || !StatusBufferOverflow.IsWarning() || StatusPending.IsError() {
		t.Error("severity helpers")
	}
	// Every named status has a distinct name.
	names := map[string]Status{}
	for s, n := range statusNames {
		if o, dup := names[n]; dup {
			t.Errorf("%s used by %#x and %#x", n, uint32(o), uint32(s))
		}
		names[n] = s
	}
}

func TestCommandString(t *testing.T) {
	if CommandOplockBreak != 0x12 || CommandOplockBreak.String() != "OPLOCK_BREAK" ||
		CommandQueryDirectory.String() != "QUERY_DIRECTORY" || Command(0x13).String() != "COMMAND_0x0013" {
		t.Error("command names")
	}
}

func TestUTF16(t *testing.T) {
	tests := []struct {
		s   string
		hex string
	}{
		{"", ""},
		{"a\\B", "61005c004200"},
		{"é€", "e900ac20"},
		{"\U0001F600", "3dd800de"}, // surrogate pair
	}
	for _, tc := range tests {
		b := AppendUTF16(nil, tc.s)
		if hex.EncodeToString(b) != tc.hex {
			t.Errorf("AppendUTF16(%q) = %x, want %s", tc.s, b, tc.hex)
		}
		if UTF16Len(tc.s) != len(b) {
			t.Errorf("UTF16Len(%q) = %d, want %d", tc.s, UTF16Len(tc.s), len(b))
		}
		s, err := DecodeUTF16(b)
		if err != nil || s != tc.s {
			t.Errorf("DecodeUTF16(%x) = %q, %v", b, s, err)
		}
	}
	for _, bad := range []string{"61", "3dd8", "3dd86100", "00de", "00de3dd8"} {
		b, _ := hex.DecodeString(bad)
		if _, err := DecodeUTF16(b); !errors.Is(err, ErrInvalidUTF16) {
			t.Errorf("DecodeUTF16(%s): %v", bad, err)
		}
	}
}

func TestFiletime(t *testing.T) {
	if Filetime(time.Time{}) != 0 || !TimeFromFiletime(0).IsZero() {
		t.Error("zero mapping")
	}
	unix := time.Unix(0, 0)
	if Filetime(unix) != 116444736000000000 {
		t.Errorf("epoch: %d", Filetime(unix))
	}
	ts := time.Date(2026, 11, 22, 0, 4, 10, 123456700, time.UTC)
	if got := TimeFromFiletime(Filetime(ts)); !got.Equal(ts) {
		t.Errorf("round trip %v -> %v", ts, got)
	}
	// 134423714720000000 is the FILETIME smbtorture printed for 2026-12-22 00:04:32 UTC.
	if got := TimeFromFiletime(134423714720000000); !got.Equal(time.Date(2026, 12, 22, 0, 4, 32, 0, time.UTC)) {
		t.Errorf("vector: %v", got)
	}
	if Filetime(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)) != 0 {
		t.Error("pre-1601 not clamped")
	}
	_ = TimeFromFiletime(^uint64(0)) // must not panic
}
