#!/usr/bin/python3
"""Encode srvsvc/wkssvc request stubs and decode response stubs with Samba's
own NDR marshalling (python3-samba), for dcerpc's interop test.

  srvsvc_ndr.py pack      prints JSON [{"id", "iface", "opnum", "bigendian", "stub"}]
  srvsvc_ndr.py unpack    reads JSON {"id[@variant]": "response stub hex"} on stdin,
                          prints JSON {"id": decoded output or {"error": ...}}
"""
import json
import sys

from samba import ndr
from samba.dcerpc import srvsvc, wkssvc

SERVER = "\\\\127.0.0.1"

SHARE_CTR = {0: "NetShareCtr0", 1: "NetShareCtr1", 2: "NetShareCtr2",
             501: "NetShareCtr501", 502: "NetShareCtr502", 1005: "NetShareCtr1005"}


def share_enum(level, resume=0):
    r = srvsvc.NetShareEnumAll()
    r.in_server_unc = SERVER
    ic = srvsvc.NetShareInfoCtr()
    ic.level = level
    if level in SHARE_CTR:
        ic.ctr = getattr(srvsvc, SHARE_CTR[level])()
    r.in_info_ctr = ic
    r.in_max_buffer = 0xffffffff
    r.in_resume_handle = resume
    return r


def share_enum_with_buffer(level):
    """NetShareEnumAll whose [in,out] container already holds entries,
    which the server must read past and ignore."""
    r = share_enum(level)
    entries = []
    for i in range(3):
        e = getattr(srvsvc, "NetShareInfo%d" % level)()
        e.name = "junk%d" % i
        if level == 2:
            e.comment, e.path, e.password = "c", "C:\\x", None if i else "pw"
            e.type, e.permissions, e.max_users, e.current_users = 0, 1, 2, 3
        entries.append(e)
    r.in_info_ctr.ctr.count = len(entries)
    r.in_info_ctr.ctr.array = entries
    return r


def share_get(name, level):
    r = srvsvc.NetShareGetInfo()
    r.in_server_unc = SERVER
    r.in_share_name = name
    r.in_level = level
    return r


def srv_get(level):
    r = srvsvc.NetSrvGetInfo()
    r.in_server_unc = SERVER
    r.in_level = level
    return r


def wksta_get(level):
    r = wkssvc.NetWkstaGetInfo()
    r.in_server_name = SERVER
    r.in_level = level
    return r


# id -> (interface, constructor); the ids say what the Go test expects.
CALLS = {}
for lvl in (0, 1, 2, 501, 502, 1005, 7):
    CALLS["enum.%d" % lvl] = ("srvsvc", lambda lvl=lvl: share_enum(lvl))
CALLS["enum.0.withbuf"] = ("srvsvc", lambda: share_enum_with_buffer(0))
CALLS["enum.2.withbuf"] = ("srvsvc", lambda: share_enum_with_buffer(2))
CALLS["enum.1.resume1"] = ("srvsvc", lambda: share_enum(1, 1))
CALLS["enum.1.resume9"] = ("srvsvc", lambda: share_enum(1, 9))
for lvl in (0, 1, 2, 501, 502, 1005, 1006, 7):
    CALLS["get.data.%d" % lvl] = ("srvsvc", lambda lvl=lvl: share_get("data", lvl))
CALLS["get.ipc$.2"] = ("srvsvc", lambda: share_get("ipc$", 2))
CALLS["get.nosuch.1"] = ("srvsvc", lambda: share_get("nosuch", 1))
CALLS["get.hidden.1"] = ("srvsvc", lambda: share_get("secret", 1))
for lvl in (100, 101, 102, 503, 7):
    CALLS["srv.%d" % lvl] = ("srvsvc", lambda lvl=lvl: srv_get(lvl))
for lvl in (100, 101):
    CALLS["wksta.%d" % lvl] = ("wkssvc", lambda lvl=lvl: wksta_get(lvl))
BIGENDIAN = {"enum.1", "get.data.2", "srv.101"}


def plain(v):
    """An NDR object as JSON: scalars as they are, objects as dicts of
    their public attributes, None for NULL pointers."""
    if v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    d = {}
    for k in dir(v):
        if k.startswith("_"):
            continue
        a = getattr(v, k)
        if callable(a):
            continue
        d[k] = plain(a)
    return d


def pack():
    out = []
    for cid, (iface, make) in CALLS.items():
        r = make()
        for be in ([False, True] if cid in BIGENDIAN else [False]):
            out.append({"id": cid + (".be" if be else ""), "iface": iface, "opnum": r.opnum(),
                        "bigendian": be, "stub": ndr.ndr_pack_in(r, bigendian=be).hex()})
    json.dump(out, sys.stdout)


def unpack():
    stubs = json.load(sys.stdin)
    res = {}
    for cid, hx in stubs.items():
        base = cid.split("@")[0]  # "@variant": same call, another backend
        base = base[:-3] if base.endswith(".be") else base
        r = CALLS[base][1]()
        try:
            ndr.ndr_unpack_out(r, bytes.fromhex(hx))
        except Exception as e:  # report, let the Go test fail with the reason
            res[cid] = {"error": repr(e)}
            continue
        d = {"result": r.result[0] if isinstance(r.result, tuple) else r.result}
        for k in dir(r):
            if k.startswith("out_"):
                d[k[4:]] = plain(getattr(r, k))
        res[cid] = d
    json.dump(res, sys.stdout, indent=1)


def client():
    """Use Samba's own DCE/RPC client over ncacn_ip_tcp against the test's
    listener (argv[2] = port, argv[3] = extra binding options) and print
    what it got."""
    from samba import credentials, param
    port, opts = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    binding = "ncacn_ip_tcp:127.0.0.1[%s%s]" % (port, "," + opts if opts else "")
    lp = param.LoadParm()
    creds = credentials.Credentials()
    creds.set_anonymous()
    res = {}
    conn = srvsvc.srvsvc(binding, lp, creds)
    for lvl in (0, 1, 2, 502):
        r = share_enum(lvl)
        ctr, total, resume = conn.NetShareEnumAll(SERVER, r.in_info_ctr, 0xffffffff, 0)
        res["enum.%d" % lvl] = {"count": ctr.ctr.count, "names": [a.name for a in ctr.ctr.array], "total": total}
    info = conn.NetShareGetInfo(SERVER, "IPC$", 1)
    res["get.IPC$.1"] = plain(info)
    try:
        conn.NetShareGetInfo(SERVER, "nosuch", 1)
        res["get.nosuch.1"] = "no error"
    except Exception as e:  # WERRORError
        res["get.nosuch.1"] = e.args[0]
    res["srv.101"] = plain(conn.NetSrvGetInfo(SERVER, 101))
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    {"pack": pack, "unpack": unpack, "client": client}[sys.argv[1]]()
