#!/usr/bin/python3
"""Share-mode scenarios against a Shoal cluster through python3-samba's libsmb.

Run inside the test's network namespace (libsmb always dials port 445):

    sharemodes.py SCENARIO USER PASSWORD HOST1 HOST2 HOST3

Every step's outcome (OK or the NT_STATUS name a call raised) is printed as
one JSON object on stdout; the Go test decides which outcomes are right, so
the same script serves the clustered run and the unclustered control.
"""

import json
import sys
import time

from samba import NTSTATUSError, credentials, ntstatus
from samba.samba3 import libsmb_samba_internal as libsmb
from samba.samba3 import param as s3param

# MS-SMB2 2.2.13 access masks, share access and dispositions.
FILE_GENERIC_READ = 0x00120089
FILE_GENERIC_WRITE = 0x00120116
DELETE = 0x00010000
SHARE_READ, SHARE_WRITE, SHARE_DELETE = 0x1, 0x2, 0x4
ALL_SHARE = SHARE_READ | SHARE_WRITE | SHARE_DELETE
FILE_OPEN, FILE_OVERWRITE_IF = 1, 5
REQUEST_BATCH_OPLOCK = 0x4  # CreateFlags: libsmb asks for SMB2_OPLOCK_LEVEL_BATCH

STATUS_NAMES = {v: k for k, v in vars(ntstatus).items()
                if k.startswith("NT_STATUS_") and isinstance(v, int)}


def status(err):
    """The NT_STATUS name of an NTSTATUSError."""
    code = err.args[0] & 0xFFFFFFFF
    return STATUS_NAMES.get(code, "0x%08x" % code)


def attempt(fn):
    """Run fn; return ("OK", its result) or (the status it raised, None)."""
    try:
        return "OK", fn()
    except NTSTATUSError as err:
        return status(err), None


def try_open(conn, name, access, share=ALL_SHARE):
    """Open name through conn and close it again; return "OK" or the status
    the open raised."""
    st, fnum = attempt(lambda: conn.create(name, DesiredAccess=access,
                                           ShareAccess=share))
    if fnum is not None:
        conn.close(fnum)
    return st


def connect(host, user, password, multi_threaded=False, wait=10.0):
    """A libsmb SMB2/3 connection to //host/data, retried until the user
    can log on (user records replicate to every node asynchronously).

    A multi-threaded one has its own thread reading the socket all the time
    (and its calls release the GIL), so a break sent to it is seen at once;
    but in 4.17 its list() returns nothing, so only the oplock scenario
    uses it."""
    lp = s3param.get_context()
    # Samba's defaults without a site smb.conf (an unloaded context has
    # empty lists, e.g. no SMB3 signing algorithm at all).
    lp.load("/dev/null")
    lp.set("client min protocol", "SMB2_02")
    lp.set("client max protocol", "SMB3")
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(user)
    creds.set_password(password)
    deadline = time.monotonic() + wait
    while True:
        try:
            return libsmb.Conn(host, "data", lp, creds,
                               multi_threaded=multi_threaded)
        except NTSTATUSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def deny_write(c1, c2, _c3):
    """n1 opens for read sharing read only; a write open via n2 conflicts
    until n1 closes."""
    name = "denywrite.txt"
    f1 = c1.create(name, DesiredAccess=FILE_GENERIC_READ | FILE_GENERIC_WRITE,
                   ShareAccess=SHARE_READ, CreateDisposition=FILE_OVERWRITE_IF)
    res = {
        "n2_write_while_n1_open": try_open(c2, name, FILE_GENERIC_WRITE),
        "n2_read_while_n1_open": try_open(c2, name, FILE_GENERIC_READ),
    }
    c1.close(f1)
    res["n2_write_after_n1_close"] = try_open(c2, name, FILE_GENERIC_WRITE)
    return res


def listed(conn, name):
    """Whether name appears in the share's root listing through conn."""
    return any(e["name"] == name for e in conn.list(""))


def delete_on_close(c1, c2, c3):
    """n2 sets delete-on-close while n1 holds an open: the name stays (but
    refuses new opens) until n1 closes, then it is gone everywhere."""
    name = "doc.txt"
    f1 = c1.create(name, DesiredAccess=FILE_GENERIC_READ | FILE_GENERIC_WRITE,
                   ShareAccess=ALL_SHARE, CreateDisposition=FILE_OVERWRITE_IF)
    res = {}
    f2 = c2.create(name, DesiredAccess=DELETE | FILE_GENERIC_READ,
                   ShareAccess=ALL_SHARE)
    res["n2_set_delete_on_close"], _ = attempt(
        lambda: c2.delete_on_close(f2, 1))
    c2.close(f2)
    res["listed_via_n1_while_n1_open"] = listed(c1, name)
    res["n3_open_while_pending"] = try_open(c3, name, FILE_GENERIC_READ)
    c1.close(f1)
    res["n3_open_after_n1_close"] = try_open(c3, name, FILE_GENERIC_READ)
    res["listed_via_n3_after_close"] = listed(c3, name)
    return res


def batch_oplock_break(c1, c2, _c3):
    """n1 holds a batch oplock; a write open via n2 must break it.

    Samba 4.17's libsmb cannot acknowledge an SMB2 break: its get_oplock_break
    waits for SMB1 breaks only, and smbXcli treats an unsolicited SMB2
    OPLOCK_BREAK as NT_STATUS_INVALID_NETWORK_RESPONSE and drops the
    connection. So the break shows as n1's connection being gone, and n2's
    open completes once the server has closed n1's handle. Had no break been
    sent, n1's connection would still answer an echo."""
    name = "oplock.txt"
    c1.create(name, CreateFlags=REQUEST_BATCH_OPLOCK,
              DesiredAccess=FILE_GENERIC_READ | FILE_GENERIC_WRITE,
              ShareAccess=ALL_SHARE, CreateDisposition=FILE_OVERWRITE_IF)
    res = {"n2_write_open": try_open(c2, name, FILE_GENERIC_WRITE)}
    res["n1_echo_after_n2_open"], _ = attempt(c1.echo)
    return res


# Each scenario and whether its connections must be multi-threaded.
SCENARIOS = {
    "deny_write": (deny_write, False),
    "delete_on_close": (delete_on_close, False),
    "batch_oplock_break": (batch_oplock_break, True),
}


def main(argv):
    if len(argv) != 7 or argv[1] not in SCENARIOS:
        sys.exit("usage: sharemodes.py {%s} USER PASSWORD HOST1 HOST2 HOST3"
                 % "|".join(sorted(SCENARIOS)))
    user, password = argv[2], argv[3]
    scenario, multi_threaded = SCENARIOS[argv[1]]
    conns = [connect(h, user, password, multi_threaded) for h in argv[4:7]]
    print(json.dumps(scenario(*conns), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
