package wire

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// capturedMessage is one SMB2 command taken from a real exchange between
// smbclient and Samba smbd (testdata/smbclient-samba.txt, recorded through
// a loopback proxy: "C2S"/"S2C" followed by the hex of one transport
// message, compounds not yet split).
type capturedMessage struct {
	fromClient bool
	line       int
	msg        []byte // one command, bounded by NextCommand
}

var captureFiles = []string{"testdata/smbclient-samba.txt", "testdata/smbtorture-samba.txt", "testdata/smbtorture2-samba.txt"}

func loadCapture(t testing.TB, captureFile string) []capturedMessage {
	t.Helper()
	out, err := readCapture(captureFile)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readCapture(captureFile string) ([]capturedMessage, error) {
	f, err := os.Open(captureFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []capturedMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for n := 1; sc.Scan(); n++ {
		dir, hx, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, fmt.Errorf("%s line %d: no direction", captureFile, n)
		}
		b, err := hex.DecodeString(hx)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", captureFile, n, err)
		}
		if IsSMB1Negotiate(b) {
			continue
		}
		for len(b) > 0 {
			h, err := ParseHeader(b)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %v", captureFile, n, err)
			}
			end := len(b)
			if h.NextCommand != 0 {
				if int(h.NextCommand) > len(b) {
					return nil, fmt.Errorf("%s line %d: NextCommand %d", captureFile, n, h.NextCommand)
				}
				end = int(h.NextCommand)
			}
			out = append(out, capturedMessage{fromClient: dir == "C2S", line: n, msg: b[:end]})
			b = b[end:]
		}
	}
	return out, sc.Err()
}

// parseRequest dispatches msg to the parser for its command.
func parseRequest(msg []byte) (any, error) {
	h, err := ParseHeader(msg)
	if err != nil {
		return nil, err
	}
	switch h.Command {
	case CommandNegotiate:
		return ParseNegotiateRequest(msg)
	case CommandSessionSetup:
		return ParseSessionSetupRequest(msg)
	case CommandLogoff:
		return ParseLogoffRequest(msg)
	case CommandTreeConnect:
		return ParseTreeConnectRequest(msg)
	case CommandTreeDisconnect:
		return ParseTreeDisconnectRequest(msg)
	case CommandCreate:
		return ParseCreateRequest(msg)
	case CommandClose:
		return ParseCloseRequest(msg)
	case CommandFlush:
		return ParseFlushRequest(msg)
	case CommandRead:
		return ParseReadRequest(msg)
	case CommandWrite:
		return ParseWriteRequest(msg)
	case CommandLock:
		return ParseLockRequest(msg)
	case CommandIoctl:
		return ParseIoctlRequest(msg)
	case CommandCancel:
		return ParseCancelRequest(msg)
	case CommandEcho:
		return ParseEchoRequest(msg)
	case CommandQueryDirectory:
		return ParseQueryDirectoryRequest(msg)
	case CommandChangeNotify:
		return ParseChangeNotifyRequest(msg)
	case CommandQueryInfo:
		return ParseQueryInfoRequest(msg)
	case CommandSetInfo:
		return ParseSetInfoRequest(msg)
	case CommandOplockBreak:
		return ParseOplockBreakRequest(msg)
	}
	return nil, ErrMalformed
}

func TestCapturedRequestsParse(t *testing.T) {
	seen := map[Command]int{}
	rejected := 0
	for _, file := range captureFiles {
		msgs := loadCapture(t, file)
		for i, m := range msgs {
			if !m.fromClient {
				continue
			}
			h, _ := ParseHeader(m.msg)
			r, err := parseRequest(m.msg)
			if err != nil {
				// Only requests Samba refused may fail to parse.
				st, ok := responseStatus(msgs, i, h)
				if !ok || !st.IsError() {
					t.Errorf("%s line %d %v: %v (Samba answered %v)", file, m.line, h.Command, err, st)
				}
				rejected++
				continue
			}
			seen[h.Command]++
			if testing.Verbose() {
				t.Logf("%s line %d %v %+v", file, m.line, h.Command, r)
			}
		}
	}
	for _, c := range []Command{CommandNegotiate, CommandSessionSetup, CommandTreeConnect, CommandCreate,
		CommandClose, CommandRead, CommandWrite, CommandQueryInfo, CommandQueryDirectory, CommandSetInfo,
		CommandLock, CommandIoctl, CommandOplockBreak, CommandChangeNotify, CommandTreeDisconnect} {
		if seen[c] == 0 {
			t.Errorf("capture holds no %v request", c)
		}
	}
}

// responseStatus finds the server's final answer to the request msgs[i]
// (same MessageID and Command, not an interim STATUS_PENDING).
func responseStatus(msgs []capturedMessage, i int, req Header) (Status, bool) {
	for _, m := range msgs[i+1:] {
		if m.fromClient {
			continue
		}
		h, _ := ParseHeader(m.msg)
		if h.MessageID == req.MessageID && h.Command == req.Command && h.Status != StatusPending {
			return h.Status, true
		}
	}
	return 0, false
}
