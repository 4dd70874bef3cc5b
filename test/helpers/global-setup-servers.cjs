// Before the server tests' workers start: every nats-server build they run, fetched once into
// .cache/ (a no-op when it is there), so no two workers fetch the same one at once.
module.exports = async function globalSetup() {
  require("./tools.ts").fetchNatsServers();
};
