#!/usr/bin/env node
// Stands in for a Zester master or peel binary in tests: reads the config it is given the way
// Zester is assumed to (`--config FILE`, `nats:` section), connects with it, writes one KV entry
// (masters into master-heartbeat, peels into facts under their own id; each as its own identity,
// over TLS, with its own inbox prefix) and runs until SIGTERM, then drains.
const fs = require("node:fs");
const { Buffer } = require("node:buffer");
const { parse } = require("yaml");
const { connect } = require("@nats-io/transport-node");
const { jetstream } = require("@nats-io/jetstream");
const { Kvm } = require("@nats-io/kv");
const { credsAuthenticator } = require("@nats-io/nats-core");

const file = process.argv[process.argv.indexOf("--config") + 1];
const kind = file.endsWith("master.yaml") ? "master" : "peel";
const { nats } = parse(fs.readFileSync(file, "utf8"));

(async () => {
  const nc = await connect({
    servers: nats.servers,
    authenticator: credsAuthenticator(Buffer.from(fs.readFileSync(nats.credentials, "utf8"))),
    inboxPrefix: nats.inbox_prefix,
    tls: { caFile: nats.tls.ca_file },
    maxReconnectAttempts: nats.client.max_reconnects,
  });
  process.on("SIGTERM", () => {
    nc.drain().then(() => process.exit(0));
  });
  const kv = await new Kvm(jetstream(nc, { domain: nats.jetstream_domain })).open(
    kind === "master" ? "master-heartbeat" : "facts",
  );
  // A peel writes only its own key: its id, the last token of its inbox prefix.
  await kv.put(kind === "master" ? `master-${process.pid}` : nats.inbox_prefix.split(".").pop(), nc.getServer());
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
