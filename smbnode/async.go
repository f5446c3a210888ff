package smbnode

import (
	"context"

	"shoal/smbnode/wire"
)

// asyncOp is a request answered with an interim STATUS_PENDING response
// that completes later (MS-SMB2 3.3.4.2); CANCEL cancels its context.
type asyncOp struct {
	id     uint64
	mid    uint64
	sess   *session
	ctx    context.Context
	cancel context.CancelFunc
}

// goAsync sends the interim response for r (with the responses of the
// chain before it) and returns the context the waiting handler must honour.
// Only the last request of a chain goes async; an earlier one just waits
// (the client sees it as a slow response), as Samba does. Either way a
// chain running on the connection's reader first hands reading over
// (inline.go), so that the wait never holds up the connection.
func (r *request) goAsync() context.Context {
	c := r.c
	r.chain.reader.release()
	if r.async != nil {
		return r.async.ctx
	}
	if !r.last {
		return c.ctx
	}
	ctx, cancel := context.WithCancel(c.ctx)
	a := &asyncOp{mid: r.hdr.MessageID, sess: r.sess, ctx: ctx, cancel: cancel}
	c.mu.Lock()
	c.nextAsyncID++
	a.id = c.nextAsyncID
	c.asyncs[a.id] = a
	c.pendingByMID[a.mid] = a
	c.mu.Unlock()
	h := r.hdr
	rh := wire.Header{
		CreditCharge: h.CreditCharge,
		Status:       wire.StatusPending,
		Command:      h.Command,
		Credits:      c.credits.grant(c.creditsWanted(&h)),
		Flags:        wire.FlagResponse | wire.FlagAsync | h.Flags&(wire.FlagRelated|wire.FlagPriorityMask),
		MessageID:    h.MessageID,
		AsyncID:      a.id,
		SessionID:    h.SessionID,
	}
	if r.sess != nil {
		rh.SessionID = r.sess.id
	}
	msg := rh.Append(make([]byte, 0, wire.HeaderSize+9))
	msg = wire.AppendErrorResponse(msg, nil)
	if err := c.queueResponse(r, msg, wire.StatusPending); err == nil {
		if err := c.flushChain(r.chain); err != nil {
			c.close()
		}
	}
	r.async = a
	return ctx
}

// finishAsync forgets a completed async request.
func (c *conn) finishAsync(a *asyncOp) {
	a.cancel()
	c.mu.Lock()
	delete(c.asyncs, a.id)
	if c.pendingByMID[a.mid] == a {
		delete(c.pendingByMID, a.mid)
	}
	c.mu.Unlock()
}

// cancelRequest handles SMB2 CANCEL (3.3.5.16): it has no response; the
// cancelled request completes with STATUS_CANCELLED.
func (c *conn) cancelRequest(h *wire.Header) {
	c.mu.Lock()
	var a *asyncOp
	if h.Flags&wire.FlagAsync != 0 {
		a = c.asyncs[h.AsyncID]
	} else {
		a = c.pendingByMID[h.MessageID]
	}
	c.mu.Unlock()
	if a != nil && (a.sess == nil || a.sess.id == h.SessionID || h.SessionID == 0) {
		a.cancel()
	}
}
