#!/usr/bin/python3
# Samba's own GENSEC client (python3-samba), driven over stdin/stdout by
# samba_interop_test.go: each input line is the server's token in hex (empty
# for the first call); each output line is "<finished 0|1> <token hex>".
# When the client has finished, one more line "KEY <session key hex>".
# Usage: gensec_client.py MECH USER PASSWORD DOMAIN
import sys

import samba
import samba.gensec as gensec
from samba import param
from samba.credentials import DONT_USE_KERBEROS, Credentials

mech, user, password, domain = sys.argv[1:5]
lp = param.LoadParm()
lp.set("client use spnego principal", "no")
creds = Credentials()
creds.guess(lp)
if user:
    creds.set_username(user)
    creds.set_password(password)
    creds.set_domain(domain)
else:
    creds.set_anonymous()
creds.set_workstation("SAMBACLIENT")
creds.set_kerberos_state(DONT_USE_KERBEROS)

g = gensec.Security.start_client({"lp_ctx": lp, "target_hostname": "localhost"})
g.set_credentials(creds)
g.set_target_service("cifs")
g.want_feature(gensec.FEATURE_SIGN)
g.want_feature(gensec.FEATURE_SESSION_KEY)
g.start_mech_by_name(mech)

for line in sys.stdin:
    try:
        finished, out = g.update(bytes.fromhex(line.strip()))
    except Exception as e:  # NTSTATUSError, RuntimeError
        print("ERR", e, flush=True)
        sys.exit(1)
    print(1 if finished else 0, out.hex(), flush=True)
    if finished:
        try:
            key = g.session_key().hex()
        except Exception:  # anonymous: no session key
            key = ""
        print("KEY", key, flush=True)
        break
