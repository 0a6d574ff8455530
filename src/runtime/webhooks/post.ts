/**
 * One webhook attempt: a JSON POST over node:http(s), so the address connected to can be checked
 * (`publicOnly`: the lookup refuses private answers; an address written in the URL is checked
 * before connecting), signed when a secret is configured.
 */
import { createHmac } from "node:crypto";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from "./private-addresses.js";

export const SIGNATURE_HEADER = "X-Webhook-Signature";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`: how a receiver checks a delivery. */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${digest}`;
}

export interface PostOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Refuse private, loopback and link-local targets. */
  publicOnly: boolean;
  signingSecret: string | null;
}

/** What went wrong; `final` when trying again cannot help (the target is refused). */
export interface PostProblem {
  problem: string;
  final: boolean;
}

/** Null on a 2xx answer. */
export function postWebhook(target: URL, body: string, options: PostOptions): Promise<PostProblem | null> {
  const host = target.hostname.replace(/^\[|\]$/g, "");
  if (options.publicOnly && isIP(host) && isPrivateAddress(host)) {
    return Promise.resolve({ problem: `${host} is a private, loopback or link-local address (webhooks.url.block_private_addresses)`, final: true });
  }
  const headers: Record<string, string> = {
    ...options.headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
  };
  if (options.signingSecret !== null) headers[SIGNATURE_HEADER] = webhookSignature(options.signingSecret, body, Math.floor(Date.now() / 1000));
  const requestOptions: RequestOptions = {
    method: "POST",
    headers,
    signal: options.signal,
    ...(options.publicOnly ? { lookup: publicOnlyLookup } : {}),
  };
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(target, requestOptions, (res) => {
      res.resume(); // the answer's body is not read
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? null : { problem: `HTTP ${status}`, final: false });
    });
    req.once("error", (error) => {
      resolve({ problem: error.message || String(error), final: error instanceof PrivateAddressError });
    });
    req.end(body);
  });
}
