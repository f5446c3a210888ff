package smbnode

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A break that needs an acknowledgment is useless if the client cannot
// receive it: the open behind it would wait the whole break timeout (35 s)
// for a client that is gone or cut off. So, as Samba 4.17 does
// (smbXsrv_pending_break), the server watches the client's TCP: once the
// break is written, the bytes queued up to it must be acknowledged by the
// client's kernel within six retransmission timeouts (each clamped to
// 0.2-1 s, as Samba). If they are not, the connection is dropped: its
// opens close (durable ones are kept, disconnected) and the waiting open
// proceeds in seconds (smb2.oplock.batch22b).

const (
	breakRTOMin     = 200 * time.Millisecond
	breakRTOMax     = time.Second
	breakRTOs       = 6
	breakPollPeriod = 50 * time.Millisecond
)

// tcpSendState is what the kernel says of a connection's sent data: bytes
// the client acknowledged so far, bytes still queued (unsent or
// unacknowledged) and the current retransmission timeout.
type tcpSendState struct {
	acked  uint64
	queued uint64
	rto    time.Duration
}

// tcpState reads the send state of c's socket; ok is false when the
// connection is not a kernel TCP socket.
func (c *conn) tcpState() (st tcpSendState, ok bool) {
	sc, isSys := c.nc.(syscall.Conn)
	if !isSys {
		return st, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return st, false
	}
	cerr := raw.Control(func(fd uintptr) {
		// Acknowledged bytes first, then the queue: an ACK arriving
		// between the two reads then makes acked+queued fall short of
		// what was written (the watch ends early, for a client that is
		// alive), never exceed it (a watch that could not end).
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return
		}
		q, err := unix.IoctlGetInt(int(fd), unix.TIOCOUTQ) // SIOCOUTQ: written, not yet acknowledged
		if err != nil {
			return
		}
		st = tcpSendState{acked: info.Bytes_acked, queued: uint64(q), rto: time.Duration(info.Rto) * time.Microsecond}
		ok = true
	})
	return st, ok && cerr == nil
}

// watchBreakDelivery drops c when the client's TCP does not acknowledge
// what was written up to now (a break just sent) in time. It returns when
// the bytes are acknowledged, the connection ends, or it dropped it.
func (c *conn) watchBreakDelivery() {
	st, ok := c.tcpState()
	if !ok || st.queued == 0 {
		return
	}
	target := st.acked + st.queued
	limit := breakRTOs * min(max(st.rto, breakRTOMin), breakRTOMax)
	start := time.Now()
	t := time.NewTicker(breakPollPeriod)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		st, ok := c.tcpState()
		if !ok || st.acked >= target {
			return
		}
		if time.Since(start) >= limit {
			c.log.Warn("client did not acknowledge an oplock/lease break at the TCP level; dropping the connection",
				"waited", time.Since(start).Round(time.Millisecond), "unacknowledged", target-st.acked)
			c.close()
			return
		}
	}
}
