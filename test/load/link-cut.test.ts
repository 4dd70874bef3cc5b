import { connect, createServer, type Socket } from "node:net";
import { LinkCut } from "../../load/link-cut";

/** Sends `text` through a fresh connection to `port` and resolves with what comes back, or "closed". */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    socket.once("data", (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.once("close", () => {
      resolve("closed");
    });
    socket.on("error", () => undefined);
  });
}

describe("a cuttable link (TCP relay)", () => {
  test("relays, drops and refuses connections while cut, and relays again once healed", async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const address = echo.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const link = await LinkCut.open(address.port);
    try {
      expect(await roundTrip(link.port, "before")).toBe("before");

      const held: Socket = connect(link.port, "127.0.0.1");
      await new Promise((r) => held.once("connect", r));
      const closed = new Promise((r) => held.once("close", r));
      held.on("error", () => undefined);
      while (link.connections === 0) await new Promise((r) => setTimeout(r, 5));
      link.cut();
      await closed;
      expect(await roundTrip(link.port, "during")).toBe("closed");

      link.heal();
      expect(await roundTrip(link.port, "after")).toBe("after");
    } finally {
      await link.close();
      await new Promise((r) => echo.close(r));
    }
  });
});
