// HTTP to the server: the protocol headers on every call, and one error shape back.
import { getMeta } from "./db";
import { isEnvelope, PROTOCOL } from "./syncrules";

export class ApiError extends Error {
  constructor(
    public status: number, public code: string, message: string, public details?: any, public retryAfter?: number,
    public echo: string | null = null, public requestId = "",
  ) {
    super(message);
  }
}

export { PROTOCOL };

export async function token(): Promise<string | null> {
  return getMeta<string | null>("token", null);
}

export async function call(method: string, path: string, body?: unknown, raw?: { bytes: ArrayBuffer }): Promise<{ json: any; requestId: string; res: Response }> {
  const requestId = crypto.randomUUID();
  const headers: Record<string, string> = { "Wuye-Protocol": String(PROTOCOL), "Wuye-Request-Id": requestId };
  const tok = await token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let payload: BodyInit | undefined;
  if (raw) {
    headers["Content-Type"] = "application/octet-stream";
    payload = raw.bytes;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "transport", String(err));
  }
  let json: any = null;
  try {
    json = await res.json();
  } catch {
    // A captive portal or proxy page: not our answer.
    throw new ApiError(res.status, "transport", `unexpected answer (${res.status})`);
  }
  if (!res.ok) {
    const retry = Number(res.headers.get("Retry-After") || "") || undefined;
    throw new ApiError(res.status, json?.code ?? "error", json?.message ?? res.statusText, json?.details, retry, res.headers.get("Wuye-Request-Id"), requestId);
  }
  return { json, requestId, res };
}

/** A sync answer counts only with the protocol envelope and our request id echoed back. */
export function checkEnvelope(json: any, requestId: string): void {
  if (!isEnvelope(json, requestId)) {
    throw new ApiError(200, "transport", "answer without the sync envelope (proxy or portal?)");
  }
}
