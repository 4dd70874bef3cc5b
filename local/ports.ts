/** Free TCP ports on loopback, taken together so no two servers get the same one. */
import { createServer, type Server } from "node:net";

export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, host, () => {
            const address = server.address();
            if (address === null || typeof address === "string") reject(new Error("no port"));
            else resolve(address.port);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
