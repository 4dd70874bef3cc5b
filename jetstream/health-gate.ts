/**
 * The health gate a rollout waits at between two servers: every given server answers /healthz
 * (plain: JetStream caught up, as the NATS chart's startup probe asks), or the gate fails naming
 * the ones that do not. A failure stops the rollout (`pulumi up` ends there), so a second server
 * never stops while one is still behind.
 */
import { z } from "zod";

export const AwaitHealthySchema = z.strictObject({
  action: z.literal("await-healthy"),
  /** Monitoring base URLs (`http://host:8222`). */
  servers: z.array(z.string().url()).min(1),
  timeoutSeconds: z.number().int().min(1).max(900),
});
export type AwaitHealthy = z.infer<typeof AwaitHealthySchema>;

async function healthy(monitor: string): Promise<boolean> {
  try {
    const response = await fetch(`${monitor}/healthz`, { signal: AbortSignal.timeout(3_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function awaitHealthy(
  request: AwaitHealthy,
  pollMs = 2_000,
): Promise<{ healthy: string[]; waitedMs: number }> {
  const started = Date.now();
  const deadline = started + request.timeoutSeconds * 1000;
  for (;;) {
    const answers = await Promise.all(request.servers.map(healthy));
    const behind = request.servers.filter((_, i) => answers[i] !== true);
    if (behind.length === 0) return { healthy: request.servers, waitedMs: Date.now() - started };
    if (Date.now() + pollMs > deadline)
      throw new Error(
        `not healthy after ${String(request.timeoutSeconds)} s: ${behind.join(", ")}; the rollout stops here (nothing after this server changes). Find out why on that server, then run the update again`,
      );
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
