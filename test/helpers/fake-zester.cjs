#!/usr/bin/env node
// Stands in for a Zester master or peel binary in tests: reads the config it is given the way
// Zester is assumed to (`--config FILE`, `nats:` section), connects with it, writes one KV entry
// (masters into master-heartbeat, peels into facts; each as its own identity, over TLS) and runs until SIGTERM, then drains.
const fs = require("node:fs");
const { Buffer } = require("node:buffer");
const { parse } = require("yaml");
const { connect } = require("@nats-io/transport-node");
const { jetstream } = require("@nats-io/jetstream");
const { Kvm } = require("@nats-io/kv");
const { nkeyAuthenticator } = require("@nats-io/nats-core");

const file = process.argv[process.argv.indexOf("--config") + 1];
const kind = file.endsWith("master.yaml") ? "master" : "peel";
const { nats } = parse(fs.readFileSync(file, "utf8"));

(async () => {
  const nc = await connect({
    servers: nats.servers,
    authenticator: nkeyAuthenticator(Buffer.from(fs.readFileSync(nats.nkey, "utf8").trim())),
    tls: { caFile: nats.tls.ca_file },
    maxReconnectAttempts: nats.client.max_reconnects,
  });
  process.on("SIGTERM", () => {
    nc.drain().then(() => process.exit(0));
  });
  const kv = await new Kvm(jetstream(nc, { domain: nats.jetstream_domain })).open(
    kind === "master" ? "master-heartbeat" : "facts",
  );
  await kv.put(`${kind}-${process.pid}`, nc.getServer());
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
