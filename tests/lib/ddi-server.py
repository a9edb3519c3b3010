#!/usr/bin/env python3
"""ddi-server.py -- a hawkBit Direct Device Integration (DDI v1) server for otad's tests.

hawkBit is a Java server that cannot run here, so the tests bring this one, written from the DDI
API reference: HTTPS on 127.0.0.1 with a test CA made at start (openssl), the resources a
controller uses (base poll, deploymentBase, feedback, cancelAction, configData, artifact
downloads with Range), the gateway token checked on every request, and checks of every request
it receives (method, path, tenant, the Authorization header's form, an Accept that takes JSON,
no body on a GET, no query but a link's, a Range a resume asks for, JSON schema of feedback and
configData, the order of an action's feedback). What it finds wrong is answered as hawkBit
would (400, 404, 405, 406, 410) and recorded as a violation the test reads. Failures can be
injected (5xx, 401, the token echoed in a message, a stall, bad JSON, a connection closed, a
download cut short).

    ddi-server.py --dir DIR --tenant TENANT --token TOKEN

writes DIR/ca.pem, listens, writes DIR/port once it serves, logs each request as a JSON line to
DIR/requests.log (before its answer goes out: complete once the client has the answer), and
takes commands on the unix socket DIR/control, one line each, answered
with one line:
    deploy CID file=PATH [file=PATH...] [download=D] [update=U] [window=W]
           [linkquery=token]  (download links end with ?t=TOKEN)          -> ok ACTION
    cancel ACTION | window ACTION available|unavailable|none | sleep HH:MM:SS -> ok
    fail MODE COUNT KIND   (MODE 500 503 429 401 403 echo stall badjson html close cut;
                            KIND base deployment feedback cancel cancel-feedback config
                            download any)                                     -> ok
    action ACTION      -> {"state": ..., "feedback": [...], "late": N, ...}
    controller CID     -> {"attributes": {...}, "requests": {KIND: N}}
    count KIND [CID]   -> N
    violations         -> [...]
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import select
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import traceback

EXECUTIONS = {"closed", "proceeding", "canceled", "scheduled", "rejected", "resumed",
              "downloaded", "download"}
FINISHED = {"success", "failure", "none"}
HANDLING = {"skip", "attempt", "forced"}
DETAIL_MAX = 512  # hawkBit's action status message length
ATTR_KEY_MAX = ATTR_VALUE_MAX = 128


def make_certificates(d):
    """A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, two days)."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=otad test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


class Action:
    def __init__(self, aid, cid, files, download, update, window):
        self.id, self.cid = aid, cid
        self.download, self.update, self.window = download, update, window
        self.artifacts = []
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            self.artifacts.append({"filename": os.path.basename(path), "path": path,
                                   "size": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest(),
                                   "sha1": hashlib.sha1(data).hexdigest(),
                                   "md5": hashlib.md5(data).hexdigest()})
        self.state = "open"  # open canceling canceled closed
        self.result = None   # success failure
        self.feedback = []   # every accepted deploymentBase feedback
        self.cancel_feedback = []
        self.late = 0        # feedback after the action ended (answered 410)
        self.cancel_rejected = False
        self.progress = None
        self.link_query = ""  # what the artifacts' download links end with

    def tag(self):
        h = hashlib.sha256(f"{self.id}/{self.download}/{self.update}/{self.window}".encode())
        return "c=" + str(int(h.hexdigest()[:8], 16) - 2**31)

    def summary(self):
        return {"state": self.state, "result": self.result, "feedback": self.feedback,
                "cancel_feedback": self.cancel_feedback, "late": self.late,
                "cancel_rejected": self.cancel_rejected}


class State:
    def __init__(self, tenant, token):
        self.lock = threading.Lock()
        self.tenant, self.token = tenant, token
        self.sleep = "00:00:01"
        self.controllers = {}  # cid -> {"attributes", "config_requested", "requests"}
        self.actions = {}      # id -> Action
        self.next_id = 1
        self.faults = []       # [mode, count, kind]
        self.violations = []

    def controller(self, cid):
        if cid not in self.controllers:
            self.controllers[cid] = {"attributes": {}, "config_requested": True,
                                     "requests": {}}
        return self.controllers[cid]

    def active(self, cid):
        for a in self.actions.values():
            if a.cid == cid and a.state in ("open", "canceling"):
                return a
        return None

    def installed(self, cid):
        done = [a for a in self.actions.values()
                if a.cid == cid and a.state == "closed" and a.result == "success"]
        return done[-1] if done else None

    def fault(self, kind):
        for f in self.faults:
            if f[1] > 0 and f[2] in (kind, "any"):
                f[1] -= 1
                return f[0]
        return None

    def violation(self, text):
        self.violations.append(text)


def check_feedback(body, action_id):
    """The reasons a feedback body is not what hawkBit's DdiActionFeedback takes."""
    if not isinstance(body, dict):
        return ["feedback: not an object"]
    errs = []
    if "id" in body and str(body["id"]) != action_id:
        errs.append(f"feedback: id {body['id']!r} is not the action {action_id}")
    if "time" in body and not isinstance(body["time"], str):
        errs.append("feedback: time is not a string")
    st = body.get("status")
    if not isinstance(st, dict):
        return errs + ["feedback: no status object"]
    if st.get("execution") not in EXECUTIONS:
        errs.append(f"feedback: status.execution {st.get('execution')!r}")
    res = st.get("result")
    if not isinstance(res, dict) or res.get("finished") not in FINISHED:
        errs.append("feedback: status.result.finished missing or unknown")
    elif "progress" in res:
        p = res["progress"]
        if (not isinstance(p, dict) or not isinstance(p.get("cnt"), int) or
                not isinstance(p.get("of", 0), int) or p["cnt"] < 0 or
                p["cnt"] > p.get("of", p["cnt"])):
            errs.append(f"feedback: status.result.progress {p!r}")
    det = st.get("details", [])
    if not isinstance(det, list) or not all(isinstance(d, str) for d in det):
        errs.append("feedback: status.details is not a list of strings")
    elif any(len(d.encode()) > DETAIL_MAX for d in det):
        errs.append("feedback: a detail is longer than 512 bytes")
    for k in st:
        if k not in ("execution", "result", "details", "code"):
            errs.append(f"feedback: unknown member status.{k}")
    return errs


def check_config(body):
    if not isinstance(body, dict):
        return ["configData: not an object"]
    errs = []
    if body.get("mode", "merge") not in ("merge", "replace", "remove"):
        errs.append(f"configData: mode {body.get('mode')!r}")
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        errs.append("configData: data is not a non-empty object")
    else:
        for k, v in data.items():
            if not isinstance(v, str) or len(k) > ATTR_KEY_MAX or len(v) > ATTR_VALUE_MAX:
                errs.append(f"configData: data.{k} is not a string of at most 128")
    return errs


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otad-test-ddi/1"

    def log_message(self, fmt, *args):
        pass

    # -- answers --
    def answer(self, status, obj=None, raw=None, ctype="application/hal+json", headers=()):
        body = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.status = status
        self.log_entry()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, message):
        self.answer(status, {"exceptionClass": "test", "errorCode": f"test.{status}",
                             "message": message})

    def href(self, cid, suffix):
        host = f"https://127.0.0.1:{self.server.server_address[1]}"
        return f"{host}/{self.st.tenant}/controller/v1/{cid}/{suffix}"

    # -- one request --
    def handle_any(self, method):
        self.st = self.server.state
        self.status, self.kind, self.cid, self.body = 0, "unknown", None, None
        self.method, self.logged = method, False
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            with self.st.lock:
                self.route(method, raw)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.status = -2  # the client went away mid-answer: its right
            self.close_connection = True
        except Exception:
            self.st.violation("server error: " + traceback.format_exc())
            self.answer(500, {"message": "test server error"})
        self.log_entry()

    def log_entry(self):
        """The request's line in the log, once, with the status it is answered with: written
        before the answer goes out, so that the log is complete when the client has it."""
        if self.logged:
            return
        self.logged = True
        entry = {"t": time.monotonic(), "method": self.method, "path": self.path,
                 "kind": self.kind, "cid": self.cid, "status": self.status, "body": self.body}
        with open(self.server.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def route(self, method, raw):
        st = self.st
        m = re.fullmatch(r"/([^/]+)/controller/v1/([^/?]+)(/[^?]*)?(\?.*)?", self.path)
        if not m:
            st.violation(f"{method} {self.path}: not a DDI path")
            return self.error(404, "no such resource")
        tenant, cid, rest = m.group(1), m.group(2), m.group(3) or ""
        self.cid = cid
        self.kind = self.kind_of(rest)
        if tenant != st.tenant:
            st.violation(f"{method} {self.path}: tenant {tenant}, not {st.tenant}")
            return self.error(404, "no such tenant")
        ctl = st.controller(cid)
        ctl["requests"][self.kind] = ctl["requests"].get(self.kind, 0) + 1
        self.query = m.group(4) or ""
        errs = self.check_request(method, raw, self.query)
        for status, err in errs:
            st.violation(f"{method} {self.path}: {err}")
        if errs:
            return self.error(errs[0][0], errs[0][1])
        auth = self.headers.get("Authorization", "")
        if auth != "GatewayToken " + st.token:
            # a server that echoes credentials back: the client must not repeat them
            return self.error(401, f"bad credentials: {auth}")
        fault = st.fault(self.kind)
        self.cut = fault == "cut"
        if fault and not self.cut and self.inject(fault, auth):
            return
        self.dispatch(method, raw, cid, ctl, rest)

    def check_request(self, method, raw, query):
        """What is wrong with a request whatever its resource: its credentials' form, what it
        accepts, a body where none goes, a query hawkBit does not take."""
        errs = []
        if not re.fullmatch(r"GatewayToken [!-~]+", self.headers.get("Authorization", "")):
            errs.append((401, "no \"Authorization: GatewayToken TOKEN\""))
        accept = self.headers.get("Accept", "*/*")
        if self.kind != "download" and not re.search(
                r"(^|[ ,])(application/(hal\+)?json|application/\*|\*/\*)( *;|,|$)", accept):
            errs.append((406, f"Accept {accept!r} takes no JSON"))
        if method == "GET" and raw:
            errs.append((400, "a GET with a body"))
        # deploymentBase's link carries "c=HASH" (its cache key), a download's what its link
        # had (do_download checks); nothing else takes a query
        if query and not (self.kind == "deployment" and re.fullmatch(r"\?c=-?\d+", query)
                          or self.kind == "download"):
            errs.append((400, f"query {query!r}"))
        return errs

    @staticmethod
    def kind_of(rest):
        for pattern, kind in ((r"", "base"), (r"/deploymentBase/[^/]+", "deployment"),
                              (r"/deploymentBase/[^/]+/feedback", "feedback"),
                              (r"/cancelAction/[^/]+", "cancel"),
                              (r"/cancelAction/[^/]+/feedback", "cancel-feedback"),
                              (r"/configData", "config"),
                              (r"/softwaremodules/[^/]+/artifacts/[^/]+", "download")):
            if re.fullmatch(pattern, rest):
                return kind
        return "unknown"

    def inject(self, fault, auth):
        if fault in ("500", "503", "429", "401", "403"):
            self.error(int(fault), f"injected {fault} ({auth})")
        elif fault == "echo":
            # the credentials again and again, up to the longest message a client takes whole
            prefix, unit = "credentials refused: ", auth + ", "
            self.error(401, prefix + unit * ((400 - len(prefix)) // len(unit)))
        elif fault == "badjson":
            self.answer(200, raw=b'{"config": {"polling": {"sleep": "00:00:01"}}, "_links": ')
        elif fault == "html":
            self.answer(200, raw=b"<html><body>Gateway</body></html>", ctype="text/html")
        elif fault == "close":
            self.close_connection, self.status = True, -1
            self.log_entry()
        elif fault == "stall":
            self.close_connection, self.status = True, -1
            self.log_entry()
            self.server.state.lock.release()
            try:  # until the client gives up
                select.select([self.connection], [], [], 30)
            finally:
                self.server.state.lock.acquire()
        else:
            return False
        return True

    def dispatch(self, method, raw, cid, ctl, rest):
        want = {"base": "GET", "deployment": "GET", "feedback": "POST", "cancel": "GET",
                "cancel-feedback": "POST", "config": "PUT", "download": "GET"}
        if self.kind == "unknown":
            self.st.violation(f"{method} {self.path}: no such resource")
            return self.error(404, "no such resource")
        if method != want[self.kind]:
            self.st.violation(f"{method} {self.path}: {self.kind} takes {want[self.kind]}")
            return self.error(405, "method not allowed")
        if method in ("POST", "PUT"):
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                self.st.violation(f"{method} {self.path}: Content-Type "
                                  f"{self.headers.get('Content-Type')!r}")
                return self.error(415, "unsupported media type")
            try:
                self.body = json.loads(raw)
            except ValueError:
                self.st.violation(f"{method} {self.path}: body is not JSON: {raw[:200]!r}")
                return self.error(400, "not JSON")
        segs = rest.strip("/").split("/")
        getattr(self, "do_" + self.kind.replace("-", "_"))(cid, ctl, segs)

    # -- resources --
    def do_base(self, cid, ctl, segs):
        links = {}
        a = self.st.active(cid)
        if a and a.state == "open":
            links["deploymentBase"] = {"href": self.href(cid, f"deploymentBase/{a.id}?{a.tag()}")}
        elif a:
            links["cancelAction"] = {"href": self.href(cid, f"cancelAction/{a.id}")}
        done = self.st.installed(cid)
        if done:
            links["installedBase"] = {"href": self.href(cid, f"installedBase/{done.id}")}
        if ctl["config_requested"]:
            links["configData"] = {"href": self.href(cid, "configData")}
        self.answer(200, {"config": {"polling": {"sleep": self.st.sleep}}, "_links": links})

    def action_of(self, cid, aid):
        a = self.st.actions.get(aid)
        return a if a and a.cid == cid else None

    def do_deployment(self, cid, ctl, segs):
        a = self.action_of(cid, segs[1])
        if not a or a.state != "open":
            return self.error(404, f"action {segs[1]} is not open")
        chunk = {"part": "os", "version": "1.0", "name": "firmware", "artifacts": []}
        for art in a.artifacts:
            dl = f"softwaremodules/{a.id}/artifacts/{art['filename']}"
            chunk["artifacts"].append({
                "filename": art["filename"], "size": art["size"],
                "hashes": {"sha1": art["sha1"], "md5": art["md5"], "sha256": art["sha256"]},
                "_links": {"download": {"href": self.href(cid, dl) + a.link_query},
                           "md5sum": {"href": self.href(cid, dl + ".MD5SUM")}}})
        # hawkBit: outside the maintenance window the update part is "skip"
        update = "skip" if a.window == "unavailable" else a.update
        dep = {"download": a.download, "update": update, "chunks": [chunk]}
        if a.window:
            dep["maintenanceWindow"] = a.window
        self.answer(200, {"id": a.id, "deployment": dep,
                          "actionHistory": {"status": "RUNNING", "messages": []}})

    def do_feedback(self, cid, ctl, segs):
        a = self.action_of(cid, segs[1])
        if not a:
            self.st.violation(f"feedback for {segs[1]}, not an action of {cid}")
            return self.error(404, "no such action")
        errs = check_feedback(self.body, a.id)
        if errs:
            self.st.violation(f"{self.path}: " + "; ".join(errs))
            return self.error(400, "; ".join(errs))
        if a.state not in ("open", "canceling"):
            a.late += 1
            return self.error(410, f"action {a.id} is not active anymore")
        st = self.body["status"]
        ex, fin = st["execution"], st["result"]["finished"]
        prog = st["result"].get("progress")
        if prog and a.progress and st["execution"] == "proceeding" and (
                prog["cnt"] < a.progress["cnt"] or prog.get("of") != a.progress.get("of")):
            self.st.violation(f"{self.path}: progress {prog} after {a.progress}")
        if prog and st["execution"] == "proceeding":
            a.progress = prog
        if ex == "closed" and fin == "none":
            self.st.violation(f"{self.path}: closed without success or failure")
        if ex == "closed" and fin == "success" and not any(
                f["execution"] == "downloaded" for f in a.feedback):
            self.st.violation(f"{self.path}: closed with success before downloaded")
        a.feedback.append({"execution": ex, "finished": fin, "progress": prog,
                           "details": st.get("details", [])})
        if ex == "closed":
            a.state, a.result = "closed", fin
            if fin == "success":
                ctl["config_requested"] = True  # hawkBit asks again after an update
        elif ex == "canceled":
            a.state = "canceled"
        self.answer(200)

    def do_cancel(self, cid, ctl, segs):
        a = self.action_of(cid, segs[1])
        if not a or a.state != "canceling":
            return self.error(404, f"no cancellation of {segs[1]}")
        self.answer(200, {"id": a.id, "cancelAction": {"stopId": a.id}})

    def do_cancel_feedback(self, cid, ctl, segs):
        a = self.action_of(cid, segs[1])
        if not a:
            self.st.violation(f"cancel feedback for {segs[1]}, not an action of {cid}")
            return self.error(404, "no such action")
        errs = check_feedback(self.body, a.id)
        if errs:
            self.st.violation(f"{self.path}: " + "; ".join(errs))
            return self.error(400, "; ".join(errs))
        st = self.body["status"]
        ex, fin = st["execution"], st["result"]["finished"]
        if a.state != "canceling":
            self.st.violation(f"{self.path}: {ex} while the action is {a.state}")
            a.late += 1
            return self.error(410, "no cancellation open")
        a.cancel_feedback.append({"execution": ex, "finished": fin,
                                  "details": st.get("details", [])})
        if ex == "closed" and fin != "failure":
            a.state = "canceled"
        elif ex == "rejected":
            a.state, a.cancel_rejected = "open", True
        elif ex == "canceled":
            # hawkBit takes this as a warning ("not supported by the server")
            self.st.violation(f"{self.path}: canceled on cancelAction (hawkBit: a warning)")
        self.answer(200)

    def do_config(self, cid, ctl, segs):
        errs = check_config(self.body)
        if errs:
            self.st.violation(f"{self.path}: " + "; ".join(errs))
            return self.error(400, "; ".join(errs))
        ctl["attributes"].update(self.body["data"])
        ctl["config_requested"] = False
        self.answer(200)

    def do_download(self, cid, ctl, segs):
        a = self.action_of(cid, segs[1])
        art = next((x for x in a.artifacts if x["filename"] == segs[3]), None) if a else None
        if not art:
            return self.error(404, "no such artifact")
        with open(art["path"], "rb") as f:
            data = f.read()
        if self.query != a.link_query:
            self.st.violation(f"{self.path}: not the link's query {a.link_query!r}")
            return self.error(404, "no such artifact")
        start, rng = 0, self.headers.get("Range")
        if rng is not None:
            # a resumed download asks for the rest of what it has: "bytes=N-"
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            if not m:
                self.st.violation(f"{self.path}: Range {rng!r}")
                return self.error(400, "bad range")
            start = int(m.group(1))
            if start >= len(data):  # RFC 9110 15.5.17; the client may have it all
                return self.answer(416, headers=[("Content-Range", f"bytes */{len(data)}")])

        cut = getattr(self, "cut", False)
        body = data[start:]
        self.status = -206 if cut else 206 if start else 200
        self.log_entry()
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cut:
            # half, then the end of the connection: FIN first and whatever the client still
            # sends read, so that no reset makes its kernel drop what it has not read yet
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
            self.server.state.lock.release()
            try:
                while select.select([self.connection], [], [], 5)[0]:
                    if not self.connection.recv(4096):
                        break
            except OSError:
                pass
            finally:
                self.server.state.lock.acquire()
            return
        self.wfile.write(body)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def finish_request(self, request, client_address):
        # the TLS handshake in the connection's thread: a slow client stalls only itself
        try:
            request.settimeout(60)
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(conn, client_address, self)


def command(state, line, log_path):
    w = line.split()
    if not w:
        return "error empty"
    with state.lock:
        if w[0] == "deploy":
            opts = dict(x.split("=", 1) for x in w[2:] if "=" in x)
            files = [x.split("=", 1)[1] for x in w[2:] if x.startswith("file=")]
            aid = str(state.next_id)
            state.next_id += 1
            window = opts.get("window")
            state.actions[aid] = Action(aid, w[1], files, opts.get("download", "forced"),
                                        opts.get("update", "forced"),
                                        None if window in (None, "none") else window)
            if opts.get("linkquery") == "token":  # a link that carries a secret
                state.actions[aid].link_query = "?t=" + state.token
            state.controller(w[1])
            return "ok " + aid
        if w[0] == "cancel":
            state.actions[w[1]].state = "canceling"
            return "ok"
        if w[0] == "window":
            state.actions[w[1]].window = None if w[2] == "none" else w[2]
            return "ok"
        if w[0] == "sleep":
            state.sleep = w[1]
            return "ok"
        if w[0] == "fail":
            state.faults.append([w[1], int(w[2]), w[3]])
            return "ok"
        if w[0] == "action":
            return json.dumps(state.actions[w[1]].summary())
        if w[0] == "controller":
            c = state.controller(w[1])
            return json.dumps({"attributes": c["attributes"], "requests": c["requests"]})
        if w[0] == "count":
            cids = [w[2]] if len(w) > 2 else list(state.controllers)
            return str(sum(state.controller(c)["requests"].get(w[1], 0) for c in cids))
        if w[0] == "violations":
            return json.dumps(state.violations)
    return "error unknown command " + w[0]


def serve_control(state, path, log_path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rw") as f:
            for line in f:
                try:
                    out = command(state, line, log_path)
                except Exception as e:  # a test's mistake: say it, keep serving
                    out = f"error {type(e).__name__}: {e}"
                f.write(out.replace("\n", " ") + "\n")
                f.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--tenant", default="DEFAULT")
    p.add_argument("--token", required=True)
    a = p.parse_args()
    make_certificates(a.dir)
    state = State(a.tenant, a.token)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = state
    srv.log_path = os.path.join(a.dir, "requests.log")
    srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.tls.load_cert_chain(os.path.join(a.dir, "server.pem"), os.path.join(a.dir, "server.key"))
    threading.Thread(target=serve_control, args=(state, os.path.join(a.dir, "control"),
                                                 srv.log_path), daemon=True).start()
    with open(os.path.join(a.dir, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
