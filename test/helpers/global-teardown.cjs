// After the run's tests are done: the port reservations they held (local/ports.ts) are removed,
// this process's too (jest runs a lone test file in it); a worker's own exit is not seen from
// its test sandbox.
module.exports = async function globalTeardown() {
  require("../../local/ports.ts").sweepReservations(undefined, [process.pid]);
};
