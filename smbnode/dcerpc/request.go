package dcerpc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// REQUEST body layout after the common header (C706 12.6.4.9).
const (
	reqOffAllocHint = 16
	reqOffContextID = 20
	reqOffOpnum     = 22
	reqOffStub      = 24
	objectUUIDLen   = 16

	// RESPONSE and FAULT: alloc_hint, p_cont_id, cancel_count, reserved.
	respOffStub = 24

	authVerifierHdrLen = 8 // sec_trailer before auth_value (MS-RPCE 2.2.2.11)

	// faultAllocHint is the alloc_hint of a FAULT: clients ignore it; Samba
	// sends 24, and so do we so that captures compare byte for byte.
	faultAllocHint = 24
)

// Fault status codes (C706 appendix E; MS-RPCE 3.3.3.5.1 on their use).
const (
	faultOpRngError   uint32 = 0x1c010002 // nca_s_op_rng_error
	faultUnknownIf    uint32 = 0x1c010003 // nca_s_unknown_if
	faultProtoError   uint32 = 0x1c01000b // nca_s_proto_error
	faultNDR          uint32 = 0x000006f7 // nca_s_fault_ndr (RPC_X_BAD_STUB_DATA)
	faultAccessDenied uint32 = 0x00000005 // nca_s_fault_access_denied
)

// pendingCall is a request whose fragments are still arriving.
type pendingCall struct {
	callID uint32
	ctxID  uint16
	opnum  uint16
	order  binary.ByteOrder
	stub   []byte
}

// handleRequest reassembles request fragments and runs the call once the
// last one is in.
func (p *Pipe) handleRequest(h header, pdu []byte) {
	if !p.bound {
		p.queueFault(h.callID, 0, faultProtoError, true)
		return
	}
	end := len(pdu)
	if h.authLength > 0 {
		// No security context is ever negotiated, so no verifier is valid.
		p.call = nil
		p.queueFault(h.callID, 0, faultAccessDenied, true)
		return
	}
	stubOff := reqOffStub
	if h.flags&pfcObjectUUID != 0 {
		stubOff += objectUUIDLen
	}
	if end < stubOff {
		p.call = nil
		p.queueFault(h.callID, 0, faultProtoError, true)
		return
	}
	order := h.order()
	allocHint := order.Uint32(pdu[reqOffAllocHint:])
	ctxID := order.Uint16(pdu[reqOffContextID:])
	opnum := order.Uint16(pdu[reqOffOpnum:])
	stub := pdu[stubOff:end]

	if h.flags&pfcFirstFrag != 0 {
		if p.call != nil {
			// The client abandoned a half-sent call without ORPHANED.
			p.queueFault(p.call.callID, p.call.ctxID, faultProtoError, true)
		}
		c := &pendingCall{callID: h.callID, ctxID: ctxID, opnum: opnum, order: order}
		c.stub = make([]byte, 0, min(int(allocHint), maxRequestStub, maxFragSize*4))
		p.call = c
	} else if p.call == nil || p.call.callID != h.callID || p.call.ctxID != ctxID || p.call.opnum != opnum {
		if p.call != nil && p.call.callID != h.callID {
			// The half-sent call will never complete either.
			p.queueFault(p.call.callID, p.call.ctxID, faultProtoError, true)
		}
		p.call = nil
		p.queueFault(h.callID, ctxID, faultProtoError, true)
		return
	}
	c := p.call
	if len(c.stub)+len(stub) > maxRequestStub {
		p.call = nil
		p.queueFault(c.callID, c.ctxID, faultProtoError, true)
		return
	}
	c.stub = append(c.stub, stub...)
	if h.flags&pfcLastFrag == 0 {
		return
	}
	p.call = nil
	p.dispatch(c)
}

// dispatch runs one complete call and queues its RESPONSE or FAULT.
func (p *Pipe) dispatch(c *pendingCall) {
	ifc, ok := p.contexts[c.ctxID]
	if !ok {
		p.queueFault(c.callID, c.ctxID, faultUnknownIf, true)
		return
	}
	op, ok := ifc.ops[c.opnum]
	if !ok {
		p.queueFault(c.callID, c.ctxID, faultOpRngError, true)
		return
	}
	r := &ndrReader{b: c.stub, order: c.order}
	out, err := op(&callEnv{user: p.user, backend: p.backend}, r)
	if err != nil {
		status := faultNDR
		if !errors.Is(err, errNDR) {
			status = faultProtoError
		}
		p.queueFault(c.callID, c.ctxID, status, false)
		return
	}
	p.queueResponse(c.callID, c.ctxID, out)
}

// queueResponse splits stub into RESPONSE fragments no larger than the
// negotiated fragment size; every fragment but the last carries a multiple
// of 8 stub bytes so NDR alignment survives reassembly.
func (p *Pipe) queueResponse(callID uint32, ctxID uint16, stub []byte) {
	per := (p.fragSize - respOffStub) &^ 7
	flags := uint8(pfcFirstFrag)
	for {
		n := min(len(stub), per)
		last := n == len(stub)
		f := flags
		if last {
			f |= pfcLastFrag
		}
		b := appendHeader(make([]byte, 0, respOffStub+n), ptypeResponse, f, callID)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(stub))) // alloc_hint: stub bytes still to come
		b = binary.LittleEndian.AppendUint16(b, ctxID)
		b = append(b, 0, 0) // cancel_count, reserved
		b = append(b, stub[:n]...)
		p.queue(finishPDU(b, 0))
		if last {
			return
		}
		stub = stub[n:]
		flags = 0
	}
}

// queueFault queues a FAULT (C706 12.6.4.7). didNotExecute
// tells the client the call had no effect and may be retried.
func (p *Pipe) queueFault(callID uint32, ctxID uint16, status uint32, didNotExecute bool) {
	flags := uint8(pfcFirstFrag | pfcLastFrag)
	if didNotExecute {
		flags |= pfcDidNotExecute
	}
	b := appendHeader(nil, ptypeFault, flags, callID)
	b = binary.LittleEndian.AppendUint32(b, faultAllocHint)
	b = binary.LittleEndian.AppendUint16(b, ctxID)
	b = append(b, 0, 0) // cancel_count, reserved
	b = binary.LittleEndian.AppendUint32(b, status)
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved, pads the body to 8
	p.queue(finishPDU(b, 0))
}

// handlePDU acts on one complete PDU from the client.
func (p *Pipe) handlePDU(pdu []byte) error {
	h, err := parseHeader(pdu)
	if err != nil {
		return err
	}
	switch h.ptype {
	case ptypeBind:
		p.handleBind(h, pdu)
	case ptypeAlterContext:
		p.handleAlterContext(h, pdu)
	case ptypeRequest:
		if h.versMinor > rpcVersMinorMax {
			p.queueFault(h.callID, 0, faultProtoError, true)
			return nil
		}
		p.handleRequest(h, pdu)
	case ptypeAuth3, ptypeCoCancel:
		// No security context to complete; cancels arrive after the
		// (synchronous) call has already been answered.
	case ptypeOrphaned:
		if p.call != nil && p.call.callID == h.callID {
			p.call = nil
		}
	default:
		p.queueFault(h.callID, 0, faultProtoError, true)
	}
	return nil
}

// describeFault names a fault status for logs and tests.
func describeFault(status uint32) string {
	switch status {
	case faultOpRngError:
		return "nca_s_op_rng_error"
	case faultUnknownIf:
		return "nca_s_unknown_if"
	case faultProtoError:
		return "nca_s_proto_error"
	case faultNDR:
		return "nca_s_fault_ndr"
	case faultAccessDenied:
		return "nca_s_fault_access_denied"
	}
	return fmt.Sprintf("0x%08x", status)
}
