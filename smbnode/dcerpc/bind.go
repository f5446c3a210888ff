package dcerpc

import (
	"encoding/binary"
	"fmt"
)

// BIND and ALTER_CONTEXT body layout after the common header (C706 12.6.4.3).
const (
	bindOffMaxXmit    = 16
	bindOffMaxRecv    = 18
	bindOffAssocGroup = 20
	bindOffNumCtx     = 24
	bindOffCtxList    = 28
	ctxElemFixedLen   = 4 + syntaxIDLen // p_cont_id, n_transfer_syn, reserved, abstract_syntax
)

// p_cont_def_result_t (C706 12.6.3.1; negotiate_ack from MS-RPCE 2.2.2).
const (
	resultAcceptance         = 0
	resultProviderRejection  = 2
	resultNegotiateAck       = 3
	reasonNotSpecified       = 0
	reasonAbstractSyntax     = 1 // abstract_syntax_not_supported
	reasonTransferSyntaxes   = 2 // proposed_transfer_syntaxes_not_supported
	reasonLocalLimitExceeded = 3
)

// p_reject_reason_t for BIND_NAK (C706 12.6.3.1; 8 and 9 from MS-RPCE 2.2.2).
const (
	nakReasonNotSpecified       = 0
	nakLocalLimitExceeded       = 2
	nakProtocolVersionUnsupport = 4
	nakAuthTypeNotRecognized    = 8
)

// supportedFeatures are the bind time features this server honours:
// orphaned and cancelled calls never end the association. Security context
// multiplexing is moot because no security context is ever negotiated.
const supportedFeatures = featureKeepConnectionOnOrphan

// presContext is one p_cont_elem_t of a BIND or ALTER_CONTEXT.
type presContext struct {
	id       uint16
	abstract syntaxID
	transfer []syntaxID
}

// bindPDU is a parsed BIND or ALTER_CONTEXT.
type bindPDU struct {
	maxXmit, maxRecv uint16
	assocGroup       uint32
	contexts         []presContext
}

// parseBind parses the body of a BIND or ALTER_CONTEXT PDU.
func parseBind(h header, pdu []byte) (bindPDU, error) {
	var b bindPDU
	order := h.order()
	end := len(pdu)
	if h.authLength > 0 {
		end -= int(h.authLength) + authVerifierHdrLen
	}
	if end < bindOffCtxList {
		return b, fmt.Errorf("%w: bind body of %d bytes", ErrMalformed, end)
	}
	b.maxXmit = order.Uint16(pdu[bindOffMaxXmit:])
	b.maxRecv = order.Uint16(pdu[bindOffMaxRecv:])
	b.assocGroup = order.Uint32(pdu[bindOffAssocGroup:])
	n := int(pdu[bindOffNumCtx])
	off := bindOffCtxList
	b.contexts = make([]presContext, 0, n)
	for i := range n {
		if end-off < ctxElemFixedLen {
			return b, fmt.Errorf("%w: context %d truncated", ErrMalformed, i)
		}
		var c presContext
		c.id = order.Uint16(pdu[off:])
		nts := int(pdu[off+2])
		c.abstract, _ = parseSyntaxID(pdu[off+4:], order)
		off += ctxElemFixedLen
		if nts == 0 || end-off < nts*syntaxIDLen {
			return b, fmt.Errorf("%w: context %d has %d transfer syntaxes", ErrMalformed, i, nts)
		}
		for range nts {
			s, _ := parseSyntaxID(pdu[off:], order)
			c.transfer = append(c.transfer, s)
			off += syntaxIDLen
		}
		b.contexts = append(b.contexts, c)
	}
	return b, nil
}

// ctxResult is one p_result_t of a BIND_ACK or ALTER_CONTEXT_RESP.
type ctxResult struct {
	result, reason uint16
	transfer       syntaxID
}

// negotiate decides every presentation context of b: NDR32 for the
// interface this pipe serves is accepted, bind time feature negotiation is
// acknowledged, everything else rejected. Accepted contexts are recorded in
// p.contexts.
func (p *Pipe) negotiate(b bindPDU) []ctxResult {
	results := make([]ctxResult, 0, len(b.contexts))
	for _, c := range b.contexts {
		results = append(results, p.negotiateOne(c))
	}
	return results
}

func (p *Pipe) negotiateOne(c presContext) ctxResult {
	if len(c.transfer) == 1 {
		if feats, ok := btfnFeatures(c.transfer[0]); ok {
			return ctxResult{result: resultNegotiateAck, reason: feats & supportedFeatures}
		}
	}
	ifc := p.iface
	a := c.abstract
	if a.uuid != ifc.syntax.uuid || a.major() != ifc.syntax.major() || a.minor() > ifc.syntax.minor() {
		return ctxResult{result: resultProviderRejection, reason: reasonAbstractSyntax}
	}
	for _, t := range c.transfer {
		if t == syntaxNDR32 {
			if prev, ok := p.contexts[c.id]; ok && prev != ifc {
				// A context id keeps the abstract syntax it was first bound to.
				return ctxResult{result: resultProviderRejection, reason: reasonNotSpecified}
			}
			if _, ok := p.contexts[c.id]; !ok && len(p.contexts) >= maxContexts {
				return ctxResult{result: resultProviderRejection, reason: reasonLocalLimitExceeded}
			}
			p.contexts[c.id] = ifc
			return ctxResult{result: resultAcceptance, transfer: syntaxNDR32}
		}
	}
	return ctxResult{result: resultProviderRejection, reason: reasonTransferSyntaxes}
}

// maxContexts bounds the presentation contexts one pipe keeps.
const maxContexts = 64

// handleBind answers a BIND with BIND_ACK or BIND_NAK.
func (p *Pipe) handleBind(h header, pdu []byte) {
	if p.bound {
		p.queueBindNak(h.callID, nakReasonNotSpecified)
		return
	}
	if h.versMinor > rpcVersMinorMax {
		p.queueBindNak(h.callID, nakProtocolVersionUnsupport)
		return
	}
	if h.authLength > 0 {
		p.queueBindNak(h.callID, nakAuthTypeNotRecognized)
		return
	}
	b, err := parseBind(h, pdu)
	if err != nil || len(b.contexts) == 0 {
		p.queueBindNak(h.callID, nakReasonNotSpecified)
		return
	}
	frag := min(int(b.maxXmit), int(b.maxRecv))
	if frag < mustRecvFragSize {
		p.queueBindNak(h.callID, nakLocalLimitExceeded)
		return
	}
	p.fragSize = min(frag, maxFragSize)
	p.assocGroup = b.assocGroup
	if p.assocGroup == 0 {
		p.assocGroup = newAssocGroup()
	}
	p.bound = true
	results := p.negotiate(b)
	p.queue(appendBindAck(nil, ptypeBindAck, h.callID, uint16(p.fragSize), p.assocGroup, `\pipe\`+p.name, results))
}

// handleAlterContext answers an ALTER_CONTEXT with ALTER_CONTEXT_RESP.
func (p *Pipe) handleAlterContext(h header, pdu []byte) {
	if !p.bound || h.authLength > 0 {
		p.queueFault(h.callID, 0, faultProtoError, true)
		return
	}
	b, err := parseBind(h, pdu)
	if err != nil {
		p.queueFault(h.callID, 0, faultProtoError, true)
		return
	}
	results := p.negotiate(b)
	p.queue(appendBindAck(nil, ptypeAlterContextResp, h.callID, uint16(p.fragSize), p.assocGroup, "", results))
}

// appendBindAck encodes a BIND_ACK or ALTER_CONTEXT_RESP (C706 12.6.4.4,
// 12.6.4.2). secAddr is the secondary address without its NUL; empty gives
// the zero-length port_spec an ALTER_CONTEXT_RESP carries.
func appendBindAck(b []byte, ptype uint8, callID uint32, frag uint16, assoc uint32, secAddr string, results []ctxResult) []byte {
	start := len(b)
	b = appendHeader(b, ptype, pfcFirstFrag|pfcLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, frag) // max_xmit_frag
	b = binary.LittleEndian.AppendUint16(b, frag) // max_recv_frag
	b = binary.LittleEndian.AppendUint32(b, assoc)
	if secAddr == "" {
		b = binary.LittleEndian.AppendUint16(b, 0)
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(secAddr)+1))
		b = append(b, secAddr...)
		b = append(b, 0)
	}
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, uint8(len(results)), 0, 0, 0)
	for _, r := range results {
		b = binary.LittleEndian.AppendUint16(b, r.result)
		b = binary.LittleEndian.AppendUint16(b, r.reason)
		b = appendSyntaxID(b, r.transfer)
	}
	return finishPDU(b, start)
}

// queueBindNak queues a BIND_NAK offering protocol version 5.0 (C706 12.6.4.5).
func (p *Pipe) queueBindNak(callID uint32, reason uint16) {
	b := appendHeader(nil, ptypeBindNak, pfcFirstFrag|pfcLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, reason)
	b = append(b, 1, rpcVers, 0) // n_protocols, {major, minor}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	p.queue(finishPDU(b, 0))
}
