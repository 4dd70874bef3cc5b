/**
 * One comment per stack on a pull request, through the GitHub REST API: found by its hidden
 * marker (the comments listed page by page), then edited in place, or posted when there is none.
 */
import { z } from "zod";

/** GitHub refuses a longer comment body. */
const BODY_LIMIT = 65_536;

const CommentsSchema = z.array(z.object({ id: z.number(), body: z.string().nullable().optional() }));
const CommentSchema = z.object({ id: z.number(), html_url: z.string().optional() });

export const markerOf = (stack: string) => `<!-- zester-preview:${stack} -->`;

export interface Api {
  base: string;
  repository: string;
  token: string;
}

/** The marker first; cut (saying so) where GitHub would refuse the length. */
export function commentBody(stack: string, text: string): string {
  const body = `${markerOf(stack)}\n${text.replace(markerOf(stack), "").trimStart()}`;
  if (body.length <= BODY_LIMIT) return body;
  const note = "\n\n… (cut at GitHub's comment limit; the whole preview is in the job's summary)\n";
  return `${body.slice(0, BODY_LIMIT - note.length)}${note}`;
}

const headers = (api: Api) => ({
  Accept: "application/vnd.github+json",
  Authorization: `Bearer ${api.token}`,
  "X-GitHub-Api-Version": "2022-11-28",
  "User-Agent": "zester-infra-preview",
});

/** The id of the comment that carries the marker, following the `Link: <…>; rel="next"` pages. */
async function findComment(api: Api, pr: string, marker: string): Promise<number | undefined> {
  let url: string | undefined = `${api.base}/repos/${api.repository}/issues/${pr}/comments?per_page=100`;
  while (url !== undefined) {
    const response = await fetch(url, { headers: headers(api) });
    if (!response.ok) throw new Error(`listing the comments of #${pr}: ${await failure(response)}`);
    const page = CommentsSchema.parse(await response.json());
    const found = page.find((c) => c.body?.includes(marker) === true);
    if (found !== undefined) return found.id;
    url = nextPage(response.headers.get("link"));
  }
  return undefined;
}

export function nextPage(link: string | null): string | undefined {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? "")?.[1];
}

async function send(
  api: Api,
  method: "POST" | "PATCH",
  path: string,
  body: string,
): Promise<z.infer<typeof CommentSchema>> {
  const response = await fetch(`${api.base}${path}`, {
    method,
    headers: { ...headers(api), "Content-Type": "application/json" },
    body: JSON.stringify({ body }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${await failure(response)}`);
  return CommentSchema.parse(await response.json());
}

async function failure(response: Response): Promise<string> {
  const text = await response.text();
  return `${String(response.status)} ${response.statusText}${text === "" ? "" : `: ${text.slice(0, 500)}`}`;
}

/** Creates, or edits in place, the comment of `stack` on pull request `pr`. */
export async function upsertComment(
  api: Api,
  pr: string,
  stack: string,
  text: string,
): Promise<{ action: "created" | "updated"; id: number; url?: string }> {
  const body = commentBody(stack, text);
  const existing = await findComment(api, pr, markerOf(stack));
  const saved =
    existing === undefined
      ? await send(api, "POST", `/repos/${api.repository}/issues/${pr}/comments`, body)
      : await send(api, "PATCH", `/repos/${api.repository}/issues/comments/${String(existing)}`, body);
  return {
    action: existing === undefined ? "created" : "updated",
    id: saved.id,
    ...(saved.html_url === undefined ? {} : { url: saved.html_url }),
  };
}
