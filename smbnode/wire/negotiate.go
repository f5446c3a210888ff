package wire

import (
	"fmt"
)

// Dialects (MS-SMB2 2.2.3 Dialects).
const (
	Dialect202      uint16 = 0x0202
	Dialect210      uint16 = 0x0210
	Dialect300      uint16 = 0x0300
	Dialect302      uint16 = 0x0302
	Dialect311      uint16 = 0x0311
	DialectWildcard uint16 = 0x02FF // SMB 2.??? in the SMB2 response to an SMB1 negotiate
)

// Security mode bits (MS-SMB2 2.2.3, 2.2.4, 2.2.5).
const (
	SecurityModeSigningEnabled  uint16 = 0x0001 // SMB2_NEGOTIATE_SIGNING_ENABLED
	SecurityModeSigningRequired uint16 = 0x0002 // SMB2_NEGOTIATE_SIGNING_REQUIRED
)

// Global capabilities (MS-SMB2 2.2.3, 2.2.4).
const (
	CapDFS               uint32 = 0x00000001 // SMB2_GLOBAL_CAP_DFS
	CapLeasing           uint32 = 0x00000002 // SMB2_GLOBAL_CAP_LEASING
	CapLargeMTU          uint32 = 0x00000004 // SMB2_GLOBAL_CAP_LARGE_MTU
	CapMultiChannel      uint32 = 0x00000008 // SMB2_GLOBAL_CAP_MULTI_CHANNEL
	CapPersistentHandles uint32 = 0x00000010 // SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
	CapDirectoryLeasing  uint32 = 0x00000020 // SMB2_GLOBAL_CAP_DIRECTORY_LEASING
	CapEncryption        uint32 = 0x00000040 // SMB2_GLOBAL_CAP_ENCRYPTION
	CapNotifications     uint32 = 0x00000080 // SMB2_GLOBAL_CAP_NOTIFICATIONS
)

// Negotiate context types (MS-SMB2 2.2.3.1).
const (
	NegCtxPreauthIntegrity    uint16 = 0x0001 // SMB2_PREAUTH_INTEGRITY_CAPABILITIES
	NegCtxEncryption          uint16 = 0x0002 // SMB2_ENCRYPTION_CAPABILITIES
	NegCtxCompression         uint16 = 0x0003 // SMB2_COMPRESSION_CAPABILITIES
	NegCtxNetname             uint16 = 0x0005 // SMB2_NETNAME_NEGOTIATE_CONTEXT_ID
	NegCtxTransport           uint16 = 0x0006 // SMB2_TRANSPORT_CAPABILITIES
	NegCtxRDMATransform       uint16 = 0x0007 // SMB2_RDMA_TRANSFORM_CAPABILITIES
	NegCtxSigning             uint16 = 0x0008 // SMB2_SIGNING_CAPABILITIES
	NegCtxContextTypeReserved uint16 = 0x0100 // SMB2_CONTEXTTYPE_RESERVED
)

// Hash algorithms (MS-SMB2 2.2.3.1.1).
const HashSHA512 uint16 = 0x0001

// Ciphers (MS-SMB2 2.2.3.1.2).
const (
	CipherAES128CCM uint16 = 0x0001
	CipherAES128GCM uint16 = 0x0002
	CipherAES256CCM uint16 = 0x0003
	CipherAES256GCM uint16 = 0x0004
)

// Signing algorithms (MS-SMB2 2.2.3.1.7).
const (
	SigningHMACSHA256 uint16 = 0x0000
	SigningAESCMAC    uint16 = 0x0001
	SigningAESGMAC    uint16 = 0x0002
)

// Compression algorithms (MS-SMB2 2.2.3.1.3).
const (
	CompressionNone        uint16 = 0x0000
	CompressionLZNT1       uint16 = 0x0001
	CompressionLZ77        uint16 = 0x0002
	CompressionLZ77Huffman uint16 = 0x0003
	CompressionPatternV1   uint16 = 0x0004
	CompressionLZ4         uint16 = 0x0005
)

// Negotiate request layout (MS-SMB2 2.2.3), offsets from the header start.
const (
	negReqStructureSize     = 36
	negReqDialectCount      = HeaderSize + 2
	negReqSecurityMode      = HeaderSize + 4
	negReqCapabilities      = HeaderSize + 8
	negReqClientGUID        = HeaderSize + 12
	negReqContextOffset     = HeaderSize + 28 // NegotiateContextOffset (3.1.1) / ClientStartTime
	negReqContextCount      = HeaderSize + 32 // NegotiateContextCount (3.1.1)
	negReqDialects          = HeaderSize + 36
	negCtxHeaderSize        = 8 // ContextType, DataLength, Reserved (2.2.3.1)
	maxNegotiateContextData = 0xFFFF
)

// Negotiate response layout (MS-SMB2 2.2.4).
const (
	negRespStructureSize = 65
	negRespFixed         = HeaderSize + 64 // Buffer starts here (0x80)
)

// PreauthIntegrityCapabilities is SMB2_PREAUTH_INTEGRITY_CAPABILITIES
// (MS-SMB2 2.2.3.1.1).
type PreauthIntegrityCapabilities struct {
	HashAlgorithms []uint16
	Salt           []byte
}

// EncryptionCapabilities is SMB2_ENCRYPTION_CAPABILITIES (2.2.3.1.2).
type EncryptionCapabilities struct {
	Ciphers []uint16
}

// SigningCapabilities is SMB2_SIGNING_CAPABILITIES (2.2.3.1.7).
type SigningCapabilities struct {
	Algorithms []uint16
}

// CompressionCapabilities is SMB2_COMPRESSION_CAPABILITIES (2.2.3.1.3).
type CompressionCapabilities struct {
	Flags      uint32
	Algorithms []uint16
}

// NegotiateContext is one negotiate context this package does not decode
// (MS-SMB2 2.2.3.1); Data aliases the request.
type NegotiateContext struct {
	Type uint16
	Data []byte
}

// NegotiateContexts are the decoded SMB 3.1.1 negotiate contexts of a
// request or response. A nil pointer means the context was absent.
type NegotiateContexts struct {
	PreauthIntegrity *PreauthIntegrityCapabilities
	Encryption       *EncryptionCapabilities
	Signing          *SigningCapabilities
	Compression      *CompressionCapabilities
	NetName          string  // SMB2_NETNAME_NEGOTIATE_CONTEXT_ID (request only)
	TransportFlags   *uint32 // SMB2_TRANSPORT_CAPABILITIES Flags
	Other            []NegotiateContext
}

// NegotiateRequest is SMB2 NEGOTIATE Request (MS-SMB2 2.2.3).
type NegotiateRequest struct {
	Dialects     []uint16
	SecurityMode uint16
	Capabilities uint32
	ClientGUID   [16]byte
	// ContextCount is NegotiateContextCount as sent (0 unless 3.1.1 is
	// offered); Contexts holds them decoded.
	ContextCount int
	Contexts     NegotiateContexts
}

// Has311 reports whether the request offers dialect 3.1.1.
func (r *NegotiateRequest) Has311() bool {
	for _, d := range r.Dialects {
		if d == Dialect311 {
			return true
		}
	}
	return false
}

// ParseNegotiateRequest decodes an SMB2 NEGOTIATE request. DialectCount 0 is
// rejected (MS-SMB2 3.3.5.4). The negotiate context list is decoded only when
// dialect 3.1.1 is offered; then its offset must be 8-aligned and after the
// dialects, every context must lie inside msg, and a duplicated
// preauth-integrity, encryption, compression, signing or transport context is
// rejected (3.3.5.4).
func ParseNegotiateRequest(msg []byte) (*NegotiateRequest, error) {
	if err := checkBody(msg, "NEGOTIATE", negReqStructureSize); err != nil {
		return nil, err
	}
	r := &NegotiateRequest{
		SecurityMode: le16(msg, negReqSecurityMode),
		Capabilities: le32(msg, negReqCapabilities),
	}
	copy(r.ClientGUID[:], msg[negReqClientGUID:negReqClientGUID+16])
	n := int(le16(msg, negReqDialectCount))
	if n == 0 {
		return nil, fmt.Errorf("%w: NEGOTIATE DialectCount 0", ErrMalformed)
	}
	end := negReqDialects + 2*n
	if end > len(msg) {
		return nil, fmt.Errorf("%w: NEGOTIATE %d dialects overrun message of %d bytes", ErrMalformed, n, len(msg))
	}
	r.Dialects = make([]uint16, n)
	for i := range r.Dialects {
		r.Dialects[i] = le16(msg, negReqDialects+2*i)
	}
	if !r.Has311() {
		return r, nil
	}
	off := le32(msg, negReqContextOffset)
	cnt := int(le16(msg, negReqContextCount))
	r.ContextCount = cnt
	if cnt == 0 {
		return r, nil
	}
	if off%8 != 0 || uint64(off) < uint64(end) || uint64(off) > uint64(len(msg)) {
		return nil, fmt.Errorf("%w: NEGOTIATE NegotiateContextOffset %d (dialects end %d, message %d)", ErrMalformed, off, end, len(msg))
	}
	ctx, err := parseNegotiateContexts(msg, int(off), cnt, "NEGOTIATE request")
	if err != nil {
		return nil, err
	}
	r.Contexts = ctx
	return r, nil
}

// parseNegotiateContexts walks cnt contexts starting at msg[off], each
// 8-aligned relative to msg[0].
func parseNegotiateContexts(msg []byte, off, cnt int, where string) (NegotiateContexts, error) {
	var c NegotiateContexts
	for i := 0; i < cnt; i++ {
		off = align8(off)
		if off+negCtxHeaderSize > len(msg) {
			return c, fmt.Errorf("%w: %s negotiate context %d of %d at %d overruns message of %d bytes", ErrMalformed, where, i, cnt, off, len(msg))
		}
		typ := le16(msg, off)
		dl := int(le16(msg, off+2))
		start := off + negCtxHeaderSize
		if start+dl > len(msg) {
			return c, fmt.Errorf("%w: %s negotiate context type %d DataLength %d overruns message", ErrMalformed, where, typ, dl)
		}
		data := msg[start : start+dl : start+dl]
		if err := c.decode(typ, data); err != nil {
			return c, fmt.Errorf("%s: %w", where, err)
		}
		off = start + dl
	}
	return c, nil
}

func (c *NegotiateContexts) decode(typ uint16, d []byte) error {
	dup := func() error {
		return fmt.Errorf("%w: duplicate negotiate context type %d", ErrMalformed, typ)
	}
	switch typ {
	case NegCtxPreauthIntegrity:
		if c.PreauthIntegrity != nil {
			return dup()
		}
		if len(d) < 4 {
			return fmt.Errorf("%w: preauth integrity context of %d bytes", ErrMalformed, len(d))
		}
		hc, sl := int(le16(d, 0)), int(le16(d, 2))
		if 4+2*hc+sl > len(d) {
			return fmt.Errorf("%w: preauth integrity context: %d hashes and %d salt bytes overrun %d bytes", ErrMalformed, hc, sl, len(d))
		}
		p := &PreauthIntegrityCapabilities{HashAlgorithms: readU16s(d, 4, hc)}
		p.Salt = d[4+2*hc : 4+2*hc+sl : 4+2*hc+sl]
		c.PreauthIntegrity = p
	case NegCtxEncryption:
		if c.Encryption != nil {
			return dup()
		}
		if len(d) < 2 || 2+2*int(le16(d, 0)) > len(d) {
			return fmt.Errorf("%w: encryption context of %d bytes", ErrMalformed, len(d))
		}
		c.Encryption = &EncryptionCapabilities{Ciphers: readU16s(d, 2, int(le16(d, 0)))}
	case NegCtxSigning:
		if c.Signing != nil {
			return dup()
		}
		if len(d) < 2 || 2+2*int(le16(d, 0)) > len(d) {
			return fmt.Errorf("%w: signing context of %d bytes", ErrMalformed, len(d))
		}
		c.Signing = &SigningCapabilities{Algorithms: readU16s(d, 2, int(le16(d, 0)))}
	case NegCtxCompression:
		if c.Compression != nil {
			return dup()
		}
		if len(d) < 8 || 8+2*int(le16(d, 0)) > len(d) {
			return fmt.Errorf("%w: compression context of %d bytes", ErrMalformed, len(d))
		}
		c.Compression = &CompressionCapabilities{Flags: le32(d, 4), Algorithms: readU16s(d, 8, int(le16(d, 0)))}
	case NegCtxNetname:
		s, err := DecodeUTF16(trimUTF16NUL(d))
		if err != nil {
			return fmt.Errorf("netname context: %w", err)
		}
		c.NetName = s
	case NegCtxTransport:
		if c.TransportFlags != nil {
			return dup()
		}
		if len(d) < 4 {
			return fmt.Errorf("%w: transport context of %d bytes", ErrMalformed, len(d))
		}
		f := le32(d, 0)
		c.TransportFlags = &f
	default:
		c.Other = append(c.Other, NegotiateContext{Type: typ, Data: d})
	}
	return nil
}

// Count returns how many contexts AppendTo would encode.
func (c *NegotiateContexts) Count() int {
	n := len(c.Other)
	for _, p := range []bool{c.PreauthIntegrity != nil, c.Encryption != nil, c.Signing != nil,
		c.Compression != nil, c.NetName != "", c.TransportFlags != nil} {
		if p {
			n++
		}
	}
	return n
}

// AppendTo appends the contexts to msg, each starting 8-aligned relative to
// msg[0] (MS-SMB2 2.2.4: padding between contexts, none after the last).
// Order (as smbclient and Samba send them): preauth integrity, encryption,
// compression, signing, netname, transport, then Other.
func (c *NegotiateContexts) AppendTo(msg []byte) []byte { return c.appendTo(msg, 0) }

// appendTo aligns relative to msg[base].
func (c *NegotiateContexts) appendTo(msg []byte, base int) []byte {
	first := true
	ctx := func(typ uint16, data []byte) {
		if !first {
			msg = pad8(msg, base)
		}
		first = false
		msg = app16(msg, typ)
		msg = app16(msg, uint16(len(data)))
		msg = app32(msg, 0)
		msg = append(msg, data...)
	}
	if p := c.PreauthIntegrity; p != nil {
		d := app16(nil, uint16(len(p.HashAlgorithms)))
		d = app16(d, uint16(len(p.Salt)))
		for _, h := range p.HashAlgorithms {
			d = app16(d, h)
		}
		ctx(NegCtxPreauthIntegrity, append(d, p.Salt...))
	}
	if e := c.Encryption; e != nil {
		ctx(NegCtxEncryption, appU16List(nil, e.Ciphers))
	}
	if z := c.Compression; z != nil {
		d := app16(nil, uint16(len(z.Algorithms)))
		d = app16(d, 0)
		d = app32(d, z.Flags)
		for _, a := range z.Algorithms {
			d = app16(d, a)
		}
		ctx(NegCtxCompression, d)
	}
	if s := c.Signing; s != nil {
		ctx(NegCtxSigning, appU16List(nil, s.Algorithms))
	}
	if c.NetName != "" {
		ctx(NegCtxNetname, AppendUTF16(nil, c.NetName))
	}
	if c.TransportFlags != nil {
		ctx(NegCtxTransport, app32(nil, *c.TransportFlags))
	}
	for _, o := range c.Other {
		ctx(o.Type, o.Data)
	}
	return msg
}

func appU16List(b []byte, v []uint16) []byte {
	b = app16(b, uint16(len(v)))
	for _, x := range v {
		b = app16(b, x)
	}
	return b
}

func readU16s(d []byte, off, n int) []uint16 {
	v := make([]uint16, n)
	for i := range v {
		v[i] = le16(d, off+2*i)
	}
	return v
}

// trimUTF16NUL drops the trailing UTF-16 NULs some clients send.
func trimUTF16NUL(b []byte) []byte {
	for len(b) >= 2 && len(b)%2 == 0 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
		b = b[:len(b)-2]
	}
	return b
}

// NegotiateResponse is SMB2 NEGOTIATE Response (MS-SMB2 2.2.4).
type NegotiateResponse struct {
	SecurityMode    uint16
	DialectRevision uint16
	ServerGUID      [16]byte
	Capabilities    uint32
	MaxTransactSize uint32
	MaxReadSize     uint32
	MaxWriteSize    uint32
	SystemTime      uint64 // FILETIME
	ServerStartTime uint64 // FILETIME, 0 per 3.3.5.4
	SecurityBuffer  []byte // GSS/SPNEGO token
	// Contexts are encoded only when DialectRevision is 3.1.1.
	Contexts NegotiateContexts
}

// Append appends the NEGOTIATE response body to msg (header at msg[0:64]).
// The security buffer starts at 0x80; for 3.1.1 the contexts follow,
// 8-aligned.
func (r *NegotiateResponse) Append(msg []byte) []byte {
	base := len(msg) - HeaderSize
	with311 := r.DialectRevision == Dialect311
	ctxCount := 0
	if with311 {
		ctxCount = r.Contexts.Count()
	}
	msg = app16(msg, negRespStructureSize)
	msg = app16(msg, r.SecurityMode)
	msg = app16(msg, r.DialectRevision)
	msg = app16(msg, uint16(ctxCount))
	msg = append(msg, r.ServerGUID[:]...)
	msg = app32(msg, r.Capabilities)
	msg = app32(msg, r.MaxTransactSize)
	msg = app32(msg, r.MaxReadSize)
	msg = app32(msg, r.MaxWriteSize)
	msg = app64(msg, r.SystemTime)
	msg = app64(msg, r.ServerStartTime)
	secOffset := uint16(0)
	if len(r.SecurityBuffer) > 0 {
		secOffset = negRespFixed
	}
	msg = app16(msg, secOffset)
	msg = app16(msg, uint16(len(r.SecurityBuffer)))
	ctxOffPos := len(msg)
	msg = app32(msg, 0) // NegotiateContextOffset, patched below
	msg = append(msg, r.SecurityBuffer...)
	if ctxCount > 0 {
		msg = pad8(msg, base)
		putLE32(msg, ctxOffPos, uint32(len(msg)-base))
		return r.Contexts.appendTo(msg, base)
	}
	if len(r.SecurityBuffer) == 0 {
		msg = append(msg, 0) // the variable part is at least one byte
	}
	return msg
}
