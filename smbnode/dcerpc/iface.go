package dcerpc

import "strings"

// callEnv is what an operation may use: the caller's identity and the
// Backend. It lives for one call.
type callEnv struct {
	user    string
	backend Backend
}

// opFunc decodes one request stub from r and returns the response stub.
// A decoding failure is returned as an error wrapping errNDR, which the
// pipe answers with a FAULT.
type opFunc func(env *callEnv, r *ndrReader) ([]byte, error)

// iface is an RPC interface: its syntax and its operations by opnum.
type iface struct {
	syntax syntaxID
	ops    map[uint16]opFunc
}

// pipeInterfaces maps a canonical pipe name to the interface it serves.
var pipeInterfaces = map[string]*iface{
	"srvsvc": srvsvcInterface,
	"wkssvc": wkssvcInterface,
}

// canonicalPipeName strips an optional `\PIPE\` (or `PIPE\`, `\`) prefix
// and folds case: SMB2 CREATE on IPC$ names the pipe bare ("srvsvc"), SMB1
// and some tools include the prefix.
func canonicalPipeName(name string) string {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, `\`)
	n = strings.TrimPrefix(n, `pipe\`)
	return n
}

// IsKnownPipe reports whether name is a pipe this package serves:
// "srvsvc" or "wkssvc", in any case, with or without a `\PIPE\` prefix.
func IsKnownPipe(name string) bool {
	_, ok := pipeInterfaces[canonicalPipeName(name)]
	return ok
}

// Win32 error codes returned as WERROR results (MS-ERREF 2.2).
const (
	werrOK              uint32 = 0
	werrInvalidLevel    uint32 = 124  // ERROR_INVALID_LEVEL
	werrNetNameNotFound uint32 = 2310 // NERR_NetNameNotFound
)
