/**
 * A network link that can be cut, on loopback: a TCP relay between a server's leaf remote and
 * its hub. `cut()` drops every connection through it and refuses new ones (what a firewall's
 * REJECT rule does to a WAN link) without touching either server; `heal()` lets them through
 * again. Servers configured to reach the hub through it notice the cut as a closed connection.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { LOOPBACK } from "../local/addressing";

export class LinkCut {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private isCut = false;
  private listening: number | undefined;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((inbound) => {
      this.relay(inbound);
    });
  }

  /** A relay to `targetPort` on loopback, listening on a free port. */
  static async open(targetPort: number): Promise<LinkCut> {
    const link = new LinkCut(targetPort);
    link.listening = await new Promise<number>((resolve, reject) => {
      link.server.once("error", reject);
      link.server.listen(0, LOOPBACK, () => {
        const address = link.server.address();
        if (address === null || typeof address === "string") reject(new Error("the relay got no port"));
        else resolve(address.port);
      });
    });
    return link;
  }

  /** The port the relay listens on: what a server's config points at instead of the hub. */
  get port(): number {
    if (this.listening === undefined) throw new Error("the relay is not listening");
    return this.listening;
  }

  /** Connections through the relay right now. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  private relay(inbound: Socket): void {
    if (this.isCut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(this.targetPort, LOOPBACK);
    for (const socket of [inbound, outbound]) {
      this.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
