#!/usr/bin/python3
"""zester-apply: brings this server to the configuration zester-infra keeps for it in SSM.

Runs at every boot before nats-server, and then every 30 seconds (a systemd timer). The user data
only installs this agent; the server's files (nats-server.conf, units, sysctl, Zester config) and
its pinned binaries are SecureString parameters under its own path, which its instance profile is
allowed to read and nothing else. A change is applied the least disruptive way that works:

* files that only a reload needs (the peel count's max_connections, passwords): written, then
  `systemctl reload nats-server` (SIGHUP); nothing restarts;
* a change nats-server takes only when it starts (its binary, its unit, a key it cannot reload):
  the manifest's `generation` changes, and the server restarts (through lame duck) when it is its
  turn: every peer of its cluster or site healthy (JetStream caught up), and every peer before it
  already running that generation (its `zester-gen:` server tag). So one server of a cluster is
  down at a time, and the rollout stops while any peer is unhealthy;
* nats-server not running yet (first boot, after a stop): started with what is there.

Standard library only (Python 3.11, what Debian 12 and cloud-init run on). Requests to SSM are
signed with AWS Signature Version 4 using the instance profile's credentials from IMDSv2.
ZESTER_ROOT, ZESTER_IMDS, ZESTER_SSM_ENDPOINT and ZESTER_COMMANDS exist for tests and rescue.
"""
import base64
import datetime
import grp
import gzip
import hashlib
import hmac
import io
import json
import os
import pwd
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.environ.get("ZESTER_ROOT", "/")
IMDS = os.environ.get("ZESTER_IMDS", "http://169.254.169.254")
AGENT_CONFIG = "/etc/zester/agent.json"
STATE = "/var/lib/zester/applied.json"
GENERATION_TAG = "zester-gen:"

# What applies a change on a server; a test replaces them with commands of its own. Jobs are
# queued (--no-block): this unit is ordered before nats-server, so waiting for them would deadlock.
COMMANDS = {
    "daemon-reload": ["systemctl", "daemon-reload"],
    "sysctl": ["sysctl", "--system"],
    "is-active": ["systemctl", "is-active", "--quiet"],
    "start": ["systemctl", "enable", "--now", "--no-block"],
    "reload": ["systemctl", "reload", "--no-block"],
    "restart": ["systemctl", "restart", "--no-block"],
    "install-package": ["dpkg", "--install"],
    # The data disk's script (topology/render/data-disk.ts) grows a mounted file system to its
    # volume's size, so a volume grown in place is usable without a reboot; it mounts nothing.
    "grow-data-disk": ["env", "ZESTER_DATA_DISK_GROW_ONLY=1"],
}
COMMANDS.update(json.loads(os.environ.get("ZESTER_COMMANDS", "{}")))


def at(path):
    return os.path.join(ROOT, path.lstrip("/"))


def log(message):
    print(f"zester-apply: {message}", file=sys.stderr)


def fetch(request, timeout, attempts=5):
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError:
            raise
        except OSError as error:
            if attempt == attempts:
                raise
            log(f"{error}; retrying")
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


# --- AWS credentials and Signature Version 4 ---------------------------------------------------

def credentials():
    """The instance profile's temporary credentials, over IMDSv2."""
    token = fetch(urllib.request.Request(IMDS + "/latest/api/token", method="PUT",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}), 5).decode()
    headers = {"X-aws-ec2-metadata-token": token}
    base = IMDS + "/latest/meta-data/iam/security-credentials/"
    role = fetch(urllib.request.Request(base, headers=headers), 5).decode().split("\n")[0].strip()
    return json.loads(fetch(urllib.request.Request(base + role, headers=headers), 5))


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method, url, region, service, headers, body, creds, now):
    """Headers for a request signed with AWS Signature Version 4 (the documented algorithm)."""
    parsed = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = now.strftime("%Y%m%d")
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed["host"] = parsed.netloc
    signed["x-amz-date"] = amz_date
    if creds.get("Token"):
        signed["x-amz-security-token"] = creds["Token"]
    names = sorted(signed)
    query = "&".join(sorted(parsed.query.split("&"))) if parsed.query else ""
    canonical = "\n".join([
        method,
        urllib.parse.quote(parsed.path or "/", safe="/-_.~"),
        query,
        "".join(f"{n}:{signed[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + creds["SecretAccessKey"]).encode(), date), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (f"AWS4-HMAC-SHA256 Credential={creds['AccessKeyId']}/{scope}, "
                               f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return signed


def parameters(region, path):
    """Every parameter under `path`, decrypted: {name: value}."""
    endpoint = os.environ.get("ZESTER_SSM_ENDPOINT", f"https://ssm.{region}.amazonaws.com/")
    creds = credentials()
    found, token = {}, None
    while True:
        request = {"Path": path, "Recursive": True, "WithDecryption": True, "MaxResults": 10}
        if token:
            request["NextToken"] = token
        body = json.dumps(request).encode()
        headers = sign("POST", endpoint, region, "ssm", {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonSSM.GetParametersByPath",
        }, body, creds, datetime.datetime.now(datetime.timezone.utc))
        answer = json.loads(fetch(urllib.request.Request(endpoint, data=body, method="POST", headers=headers), 10))
        for parameter in answer.get("Parameters", []):
            found[parameter["Name"]] = parameter["Value"]
        token = answer.get("NextToken")
        if not token:
            return found


# --- files and binaries -----------------------------------------------------------------------

def replace(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write(entry, content):
    path = at(entry["path"])
    data = content.encode()
    mode = int(entry.get("mode", "0644"), 8)
    changed = not os.path.exists(path) or open(path, "rb").read() != data
    if changed:
        replace(path, data, mode)
    os.chmod(path, mode)
    if ROOT == "/":
        user, _, group = entry.get("owner", "root:root").partition(":")
        os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)
    return changed


def install(name, pin):
    data = fetch(pin["url"], 120)
    digest = hashlib.sha256(data).hexdigest()
    if digest != pin["sha256"]:
        raise SystemExit(f"zester-apply: {name}: {pin['url']} has SHA-256 {digest}, not {pin['sha256']}; nothing installed")
    if "member" in pin:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = next((m for m in archive.getmembers()
                           if m.isfile() and os.path.basename(m.name) == pin["member"]), None)
            if member is None:
                raise SystemExit(f"zester-apply: {name}: no {pin['member']} in {pin['url']}")
            data = archive.extractfile(member).read()
    replace(at(pin["dest"]), data, 0o755)
    if pin.get("package") and run("install-package", at(pin["dest"])) != 0:
        raise SystemExit(f"zester-apply: {name}: dpkg could not install {pin['dest']}")


# --- nats-server: reload, or restart in turn --------------------------------------------------

def get_json(url):
    try:
        return json.loads(fetch(urllib.request.Request(url), 3, attempts=1))
    except (OSError, ValueError):
        return None


def healthy(monitor):
    """JetStream caught up (plain /healthz), as the NATS chart's startup probe asks."""
    try:
        fetch(urllib.request.Request(monitor + "/healthz"), 3, attempts=1)
        return True
    except OSError:
        return False


def my_turn(manifest):
    """Every peer healthy, and every peer before this one with a restart pending already running it."""
    for peer in manifest.get("peers", []):
        # A peer this update adds starts after the deployed ones: waiting for it would never end.
        if peer.get("joining"):
            continue
        if not healthy(peer["monitor"]):
            return False, f"waiting: {peer['name']} is not healthy"
        if peer["order"] < manifest["order"] and peer.get("pending"):
            varz = get_json(peer["monitor"] + "/varz") or {}
            if GENERATION_TAG + peer["generation"] not in (varz.get("tags") or []):
                return False, f"waiting: {peer['name']} does not run generation {peer['generation']} yet"
    return True, "my turn"


def content_of(entry, value):
    """A file too big for a plain parameter is kept gzipped and base64-encoded."""
    if entry.get("encoding") == "gzip+base64":
        return gzip.decompress(base64.b64decode(value)).decode()
    return value


def run(name, *args):
    return subprocess.run(COMMANDS[name] + list(args), check=False).returncode


def own_varz(manifest):
    """This server's /varz, or {} when it has no monitor in the manifest or does not answer."""
    return (get_json(manifest["monitor"] + "/varz") or {}) if manifest.get("monitor") else {}


def main():
    config = json.load(open(at(AGENT_CONFIG)))
    path = config["path"]
    # The parameters come in pages: an update that lands between two pages would mix two
    # configurations (a new generation over old files). Read twice; apply only what held still.
    found = parameters(config["region"], path)
    if parameters(config["region"], path) != found:
        log("the configuration changed while it was read; it is applied at the next run")
        print(json.dumps({"changed": [], "installed": [], "nats-server": "read again at the next run"}))
        return
    if path + "manifest" not in found:
        raise SystemExit(f"zester-apply: no {path}manifest parameter; nothing to apply")
    manifest = json.loads(found[path + "manifest"])
    state = json.load(open(at(STATE))) if os.path.exists(at(STATE)) else {}
    # What the last run asked nats-server for takes effect after it (its jobs wait for this unit):
    # checked now. A restart that did not bring the generation up is pending again; a reload that
    # did not load the config is reported and asked for again.
    varz = own_varz(manifest) if "nats-server.service" in manifest.get("services", []) else {}
    tags = varz.get("tags") or []
    unconfirmed = state.get("restart") and varz and GENERATION_TAG + state["restart"] not in tags
    if unconfirmed:
        log(f"nats-server does not run generation {state['restart']} after its restart; restarting again in turn")
        state = {**state, "generation": None}
    rejected = bool(state.get("reload")) and bool(varz) and varz.get("config_load_time") == state["reload"]
    installed = {}
    for name, pin in sorted(manifest.get("pins", {}).items()):
        if state.get("pins", {}).get(name) != pin["sha256"] or not os.path.exists(at(pin["dest"])):
            install(name, pin)
            installed[name] = pin["sha256"]
    pins = {**state.get("pins", {}), **installed}

    # Files of nats-server wait for its reload or its turn; the rest are written now. A host
    # without nats-server (a canary peel) only gets its files and services.
    serves = "nats-server.service" in manifest.get("services", [])
    pending = serves and (manifest["generation"] != state.get("generation") or "nats-server" in installed)
    running = not serves or run("is-active", "nats-server.service") == 0
    restart_now, why = (True, "first start") if not running else my_turn(manifest) if pending else (False, "")
    changed = []
    for entry in manifest["files"]:
        if entry.get("service") == "nats-server" and pending and not restart_now:
            continue
        if write(entry, content_of(entry, found[path + "files/" + entry["name"]])):
            changed.append(entry["path"])
    if any(p.endswith((".service", ".timer")) for p in changed):
        run("daemon-reload")
    if any(p.startswith("/etc/sysctl.d/") for p in changed):
        run("sysctl")

    action = "none"
    if not running:
        action = "started" if run("start", "nats-server.service") == 0 else "start failed"
    elif pending and restart_now:
        action = "restarted" if run("restart", "nats-server.service") == 0 else "restart failed"
    elif pending:
        action = why
    elif rejected or any(e["path"] in changed for e in manifest["files"] if e.get("service") == "nats-server"):
        action = "reloaded" if run("reload", "nats-server.service") == 0 else "reload failed"
    for service in manifest.get("services", []):
        if service == "nats-server.service":
            continue
        mine = [e["path"] for e in manifest["files"] if e.get("service") == service.removesuffix(".service")]
        if any(p in changed for p in mine) or any(n for n in installed if n == service.removesuffix(".service")):
            run("restart" if run("is-active", service) == 0 else "start", service)

    data_disk = at("/usr/local/sbin/zester-data-disk")
    if os.path.exists(data_disk) and run("grow-data-disk", data_disk) != 0:
        log("the data disk's file system could not be grown to its volume's size")

    asked = action in ("started", "restarted")
    applied = {
        "pins": pins,
        "generation": manifest["generation"] if not pending or asked else state.get("generation"),
        # Checked by the next run: the generation the server must run, the load time it must pass.
        # (kept while the server does not answer: it is checked once it does)
        "restart": manifest["generation"] if asked else (None if varz else state.get("restart")),
        "reload": varz.get("config_load_time") if action == "reloaded" else (None if varz else state.get("reload")),
    }
    replace(at(STATE), json.dumps(applied, indent=2).encode(), 0o644)
    print(json.dumps({"changed": changed, "installed": sorted(installed), "nats-server": action}))
    if rejected:
        raise SystemExit(
            "zester-apply: nats-server did not load its configuration at the last reload (its /varz "
            "config_load_time did not move): the config is asked to reload again; see its journal"
        )
    if action.endswith("failed"):
        raise SystemExit(f"zester-apply: nats-server: {action}")


if __name__ == "__main__":
    main()
